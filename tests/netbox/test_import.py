"""Importing the NetBox 4.4 fixture estate through a loopback NetBox (pynetbox, real HTTP, pagination)."""

import math

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from planner.api.serializers import PduSerializer
from planner.netbox.client import FetchFailed
from planner.netbox.mapping import RowConfig, map_estate
from planner.netbox.service import ImportRefused, netbox_import
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site
from tests.netbox.conftest import TEST_FIGURES
from tests.netbox.server import FakeNetBox

# The estate of the fixture README: 2 sites, halls (3) and rows (3) as locations, 16 racks, UPS-A/B panels
# per site (4), 2 PDUs per rack (32), 8 devices that are not PDUs (4 + 1 GPU servers, 3 switches).
README_COUNTS = {"sites": 2, "rooms": 3, "rows": 3, "racks": 16, "power_sources": 4, "pdus": 32, "nodes": 8}
MODELS = (Site, Room, Row, Rack, PowerSource, Pdu, Node, NodeModel)


def run(netbox, **kw):
    kw.setdefault("figures", TEST_FIGURES)
    return netbox_import(client_or_url=netbox.url, token=netbox.token, **kw)


def db_counts():
    return {
        "sites": Site.objects.count(),
        "rooms": Room.objects.count(),
        "rows": Row.objects.count(),
        "racks": Rack.objects.count(),
        "power_sources": PowerSource.objects.count(),
        "pdus": Pdu.objects.count(),
        "nodes": Node.objects.count(),
    }


def everything():
    """Every row of every model and of its history, to prove that nothing was written."""
    out = {}
    for model in MODELS:
        names = [f.attname for f in model._meta.concrete_fields if f.name != "budget_token"]
        out[model.__name__] = sorted(map(str, model.objects.values_list(*names)))
        out[f"history {model.__name__}"] = model.history.count()
    return out


def test_mapping_gives_the_readme_counts(lists):
    data = {k.removeprefix("dcim/"): v for k, v in lists.items()}
    assert map_estate(data).counts() == README_COUNTS


@pytest.mark.django_db
def test_import_gives_the_readme_counts_and_pdu_capacity_from_the_feed(netbox):
    summary = run(netbox)
    assert db_counts() == README_COUNTS
    assert summary.counts == README_COUNTS
    fra1, ams1 = Site.objects.get(slug="fra1"), Site.objects.get(slug="ams1")
    # max_utilization 80 % on every feed -> the sites' derating
    assert fra1.power_derating == ams1.power_derating == 0.8
    amps = {"fra1": 63, "ams1": 32}
    for pdu in Pdu.objects.select_related("rack__row__room__site"):
        site = pdu.rack.row.room.site.slug
        expected = 415 * amps[site] * math.sqrt(3) * 0.8 / 1000  # the feed: 415 V 3-phase x A x 0.8
        assert PduSerializer(pdu).data["usable_kw"] == pytest.approx(expected, abs=5e-5)  # the API rounds to 0.1 W
    assert fra1.pk and PduSerializer(Pdu.objects.filter(rack__row__room__site=fra1).first()).data[
        "usable_kw"
    ] == pytest.approx(36.228, abs=1e-3)  # reference §4.6
    # sides from the feed type, sources from the panels
    a01 = Pdu.objects.get(name="fra1-pdu-a01-02-a")
    b01 = Pdu.objects.get(name="fra1-pdu-a01-02-b")
    assert (a01.side, a01.source.name, b01.side, b01.source.name) == ("A", "UPS-A", "B", "UPS-B")
    # rows from the child locations, rooms from the halls, positions from the names
    rack = Rack.objects.get(name="A01-02")
    assert (rack.row.name, rack.row.room.name, rack.position, rack.u_height, rack.max_load_kg) == (
        "Row A01",
        "Hall A",
        2,
        48,
        1500,
    )
    # DGX A100 is our catalogue model (NetBox's figures differ: shown, not taken)
    gpu = Node.objects.get(name="fra1-gpu-001")
    assert (gpu.model.slug, gpu.u_position, gpu.status) == ("dgx-a100", 1, "installed")
    dgx = next(m for m in summary.models if m["netbox_slug"] == "nvidia-dgx-a100-640gb")
    assert dgx["action"] == "ours kept" and dgx["differences"]["max_power_kw"] == [6.5, 1.071]
    assert Node.objects.get(name="ams1-gpu-001").status == "planned"
    sr685 = NodeModel.objects.get(netbox_slug="lenovo-thinksystem-sr685a-v3")
    assert (sr685.max_power_kw, sr685.psu_count, sr685.psus_required, sr685.weight_kg) == (4 * 2.6, 8, 4, 109.4)


@pytest.mark.django_db
def test_summary_lists_failing_racks_and_site_headroom(netbox):
    summary = run(netbox)
    failing = {(r["site"], r["rack"]): {c["code"] for c in r["checks"]} for r in summary.failing_racks}
    # No panel capacity in NetBox: POWER_UPSTREAM fails on every rack of a loaded panel until it is entered.
    assert len(failing) == 16 and all("POWER_UPSTREAM" in codes for codes in failing.values())
    # No floor rating and no cooling in NetBox: loaded racks fail the floor and room-air rules.
    assert {"FLOOR_UNIFORM", "COOLING_AIR_ROOM"} <= failing[("fra1", "A01-02")]
    # An empty rack whose frame weight NetBox lacks puts nothing on the floor (the checklist asks for it).
    assert "FLOOR_UNIFORM" not in failing[("fra1", "A01-04")]
    fra1 = next(s for s in summary.sites if s["slug"] == "fra1")
    # 12 racks x 2 sides of 36.228 kW: capacity counts the smaller side of each rack
    assert fra1["headroom"]["power"]["capacity_kw"] == pytest.approx(
        12 * 415 * 63 * math.sqrt(3) * 0.8 / 1000, rel=1e-4
    )
    assert fra1["missing"] > 0


@pytest.mark.django_db
def test_second_import_with_one_rack_changed_changes_only_that_rack(netbox):
    run(netbox)
    before = everything()
    rack = next(r for r in netbox.lists["dcim/racks"] if r["name"] == "A01-04")
    rack["max_weight"] = 1200
    summary = run(netbox)
    assert summary.created == {}
    assert [(c["kind"], c["name"], c["fields"]) for c in summary.changes] == [
        ("racks", "Row A01 / A01-04", {"max_load_kg": [1500.0, 1200]})
    ]
    after = everything()
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"Rack", "history Rack"}
    assert Rack.objects.get(name="A01-04").max_load_kg == 1200
    assert Rack.history.count() == before["history Rack"] + 1


@pytest.mark.django_db
def test_dry_run_writes_nothing_and_shows_what_it_would_do(netbox):
    before = everything()
    summary = run(netbox, dry_run=True)
    assert everything() == before
    assert summary.dry_run and summary.created["racks"] == 16 and len(summary.failing_racks) == 16
    # A dry run of a change shows the difference and still writes nothing.
    run(netbox)
    netbox.lists["dcim/power-feeds"][0]["amperage"] = 16
    before = everything()
    summary = run(netbox, dry_run=True)
    assert everything() == before
    assert [c["fields"] for c in summary.changes] == [{"current_a": [32.0, 16]}]


@pytest.mark.django_db
def test_second_import_keeps_what_is_ours_and_deletes_nothing(netbox):
    run(netbox)
    room = Room.objects.get(name="Hall A")
    room.floor_rated_load_kg_m2 = 1224
    room.save()
    ups = PowerSource.objects.get(site__slug="fra1", name="UPS-A")
    ups.capacity_kw = 500
    ups.save()
    rack = Rack.objects.get(name="A01-05")
    mine = Node.objects.create(rack=rack, model=NodeModel.objects.get(slug="dgx-h100"), u_position=1, name="mine")
    # One device gone from NetBox: the node stays (and is listed), the rest is unchanged.
    netbox.lists["dcim/devices"] = [d for d in netbox.lists["dcim/devices"] if d["name"] != "ams1-gpu-001"]
    summary = run(netbox)
    assert summary.changes == []
    assert [(k["kind"], k["name"]) for k in summary.kept] == [("nodes", "ams1-gpu-001")]
    assert Node.objects.filter(name="ams1-gpu-001").exists() and Node.objects.filter(pk=mine.pk).exists()
    assert Room.objects.get(pk=room.pk).floor_rated_load_kg_m2 == 1224
    assert PowerSource.objects.get(pk=ups.pk).capacity_kw == 500


@pytest.mark.django_db
def test_a_device_on_a_unit_we_planned_is_refused_and_nothing_written(netbox):
    run(netbox)
    rack = Rack.objects.get(name="A01-05")
    Node.objects.create(rack=rack, model=NodeModel.objects.get(slug="dgx-h100"), u_position=1, name="mine")
    device = next(d for d in netbox.lists["dcim/devices"] if d["name"] == "fra1-gpu-001")
    device["rack"] = {"id": rack.netbox_id, "name": "A01-05"}
    before = everything()
    with pytest.raises(ImportRefused) as exc:
        run(netbox)
    assert "U1 is held here by node 'mine' (ours)" in str(exc.value)
    assert everything() == before


@pytest.mark.django_db
def test_device_types_lacking_figures_refuse_the_import_naming_the_field(netbox):
    with pytest.raises(ImportRefused) as exc:
        run(netbox, figures={})
    text = str(exc.value)
    assert "nvidia-sn5600 lacks power-ports" in text
    assert "nvidia-qm9700 lacks power-ports[0].maximum_draw (psu0)" in text
    assert Site.objects.count() == 0
    summary = run(netbox, figures={}, skip_incomplete=True)
    assert Node.objects.count() == 4  # 2 DGX A100 (our catalogue) + 2 SR685a V3 (complete in NetBox)
    assert {s["object"] for s in summary.skipped} >= {"device fra1-leaf-a01", "device ams1-gpu-001"}


@pytest.mark.django_db
def test_pagination_is_followed_everywhere(lists):
    fake = FakeNetBox(lists, max_page=5)  # a NetBox with MAX_PAGE_SIZE 5
    fake.url = fake.start()
    try:
        run(fake)
    finally:
        fake.stop()
    assert db_counts() == README_COUNTS
    assert any("offset=5" in p for p in fake.requests) and any("offset=30" in p for p in fake.requests)


@pytest.mark.django_db
def test_one_site_only(netbox):
    run(netbox, site_slugs=["ams1"])
    assert list(Site.objects.values_list("slug", flat=True)) == ["ams1"]
    assert (Rack.objects.count(), Pdu.objects.count(), Node.objects.count()) == (4, 8, 1)
    with pytest.raises(ImportRefused, match="No such site"):
        run(netbox, site_slugs=["nowhere"])


@pytest.mark.django_db
def test_row_from_facility_id(netbox):
    run(netbox, rows=RowConfig(source="facility"))
    assert sorted(Row.objects.values_list("name", flat=True)) == ["A01", "B01", "R01"]
    assert Rack.objects.get(name="B01-03").position == 3


@pytest.mark.django_db
def test_wrong_token_and_unreachable_netbox_are_clear_errors(netbox):
    with pytest.raises(FetchFailed, match="403"):
        netbox_import(client_or_url=netbox.url, token="wrong", figures=TEST_FIGURES)
    with pytest.raises(FetchFailed, match="could not be reached"):
        netbox_import(client_or_url="http://127.0.0.1:9", token="x")
    assert Site.objects.count() == 0


@pytest.mark.django_db
def test_command_dry_run_then_import(netbox, tmp_path, capsys):
    figures = tmp_path / "figures.yaml"
    figures.write_text("\n".join(f"{k}: {{max_power_kw: {v['max_power_kw']}}}" for k, v in TEST_FIGURES.items()))
    with pytest.raises(CommandError, match="lacks power-ports"):
        call_command("import_netbox", "--url", netbox.url, "--token", netbox.token, "--site", "fra1")
    args = ["import_netbox", "--url", netbox.url, "--token", netbox.token, "--figures", str(figures)]
    call_command(*args, "--dry-run")
    out = capsys.readouterr().out
    assert "DRY RUN" in out and "would create:" in out and "16 racks" in out
    assert Site.objects.count() == 0
    call_command(*args)
    out = capsys.readouterr().out
    assert "racks failing a rule today: 16" in out and db_counts() == README_COUNTS
