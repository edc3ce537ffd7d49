"""Node models from device-type library YAML: our own examples in the library's format, and the real files
of ../shared/fixtures/netbox-4.4 when that folder is present."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from planner.netbox.devicetypes import device_types_import, parse, read_path
from racks.models import NodeModel

HERE = Path(__file__).resolve().parent / "yaml"
ROOT = Path(__file__).resolve().parents[2]
# ../shared beside the repository (a worktree under wt/ sits one level deeper)
SHARED = (
    next(
        (
            p
            for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared")
            if (p / "fixtures" / "netbox-4.4" / "devicetype-library").is_dir()
        ),
        ROOT / "missing",
    )
    / "fixtures"
    / "netbox-4.4"
    / "devicetype-library"
)


def by_file(results):
    return {r.file: r for r in results}


def test_parse_maps_figures_with_the_file_as_source():
    fig, result = parse("acme-gx8.yaml", (HERE / "acme-gx8.yaml").read_bytes())
    assert fig.complete
    assert fig.weight_kg == pytest.approx(250 * 0.45359237, abs=1e-3)
    assert (fig.u_height, fig.psu_count, fig.psus_required) == (8, 4, 2)
    assert fig.max_power_kw == pytest.approx(2 * 2600 / 1000)  # N+N: 2 of 4 PSUs needed
    assert fig.typical_power_kw == pytest.approx(2 * 2000 / 1000)
    assert "library file acme-gx8.yaml" in fig.source and "250 lb" in fig.source
    text = " | ".join(result.messages)
    assert "duplicate names eth0" in text and "module-slots" in text
    assert "the comment says 10.4kW, maximum_draw gives 5.2 kW" in text


@pytest.mark.django_db
def test_folder_import_creates_refuses_and_keeps_ours():
    results = by_file(device_types_import(files=read_path(HERE)))
    assert results["acme-gx8.yaml"].action == "created"
    assert NodeModel.objects.get(slug="acme-gx8").netbox_slug == "acme-gx8"
    thin = results["acme-noweight.yaml"]
    assert thin.action == "refused" and thin.missing == ["weight", "power-ports[1].maximum_draw (PSU2)"]
    assert any("upper case" in m for m in thin.messages)
    pdu = results["acme-pdu.yaml"]
    assert pdu.action == "refused" and "u_height" in pdu.missing
    assert any("not text" in m for m in pdu.messages) and any("no feed_leg" in m for m in pdu.messages)
    assert any("(2) C19, the file defines 1" in m for m in pdu.messages)
    assert results["broken.yaml"].action == "refused" and "not valid YAML at line" in results["broken.yaml"].messages[0]
    assert "not a YAML mapping" in results["not-a-mapping.yaml"].messages[0]
    dgx = results["dgx-a100.yaml"]
    assert dgx.action == "ours kept" and dgx.slug == "dgx-a100"
    assert dgx.differences["max_power_kw"] == [6.5, 1.071]
    assert NodeModel.objects.get(slug="dgx-a100").max_power_kw == 6.5
    # A second run: the library's own model is unchanged, then updated when the file changes.
    again = by_file(device_types_import(files=read_path(HERE)))
    assert again["acme-gx8.yaml"].action == "unchanged"
    raw = (HERE / "acme-gx8.yaml").read_bytes().replace(b"weight: 250", b"weight: 260")
    changed = device_types_import(files=[("acme-gx8.yaml", raw)])[0]
    assert changed.action == "updated" and set(changed.differences) == {"weight_kg", "source"}


@pytest.mark.django_db
def test_dry_run_writes_nothing():
    before = NodeModel.objects.count(), NodeModel.history.count()
    results = device_types_import(files=read_path(HERE), dry_run=True)
    assert by_file(results)["acme-gx8.yaml"].action == "created"
    assert (NodeModel.objects.count(), NodeModel.history.count()) == before


@pytest.mark.django_db
def test_command(capsys):
    with pytest.raises(CommandError, match="refused"):
        call_command("import_device_types", str(HERE))
    out = capsys.readouterr().out
    assert "acme-gx8.yaml: created (acme-gx8)" in out and "refused: lacks weight" in out
    call_command("import_device_types", str(HERE / "acme-gx8.yaml"), "--dry-run")
    assert "unchanged" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_device_types", str(HERE / "missing.yaml"))


@pytest.mark.django_db
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures/netbox-4.4 is not here")
def test_the_real_library_files_each_get_an_answer_and_none_crashes():
    results = by_file(device_types_import(files=read_path(SHARED), dry_run=True))
    assert len(results) == 8
    assert results["Lenovo/ThinkSystem-SR685a-v3.yaml"].action == "created"
    assert results["Nvidia/DGC-A100.yaml"].action == "ours kept"
    assert results["Nvidia/SN5600.yaml"].missing == ["power-ports"]
    assert results["Nvidia/QM9700.yaml"].action == "refused"
    assert "power-ports" in results["Lenovo/ThinkSystem-SR680a-v3.yaml"].missing
    assert any("upper case" in m for m in results["Raritan/PX3-5664U.yaml"].messages)
    assert any("the file defines 13" in m for m in results["Raritan/PX3-5724V.yaml"].messages)
    assert any("no feed_leg" in m for m in results["Vertiv/MG01D4W1-36PT63-3PS6B2A10-S.yaml"].messages)
    assert (
        any("6.5kW" in m for m in results["Nvidia/DGC-A100.yaml"].messages)
        or results["Nvidia/DGC-A100.yaml"].differences
    )
