"""``manage.py export_site`` and ``import_site``: the API's site document on the command line. A round trip
loses nothing; a bad document or a name clash exits with an error and writes nothing."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from racks.models import Node, Rack, Site
from tests import factories as f
from tests.security.conftest import row_counts
from tests.transfer_builder import strip_names as _strip

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    return Site.objects.get(slug="demo-campus")


def _export(ref) -> tuple[dict, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_site", str(ref), stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def _import(path, *args) -> str:
    out = io.StringIO()
    call_command("import_site", str(path), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_export_import_export_round_trip(demo, tmp_path):
    doc, summary = _export(demo.pk)
    racks = Rack.objects.filter(row__room__site=demo).count()
    nodes = Node.objects.filter(rack__row__room__site=demo).count()
    assert f"{racks} racks" in summary and f"{nodes} nodes" in summary and "rooms" in summary
    assert summary.count("\n") <= 1  # one line

    path = tmp_path / "site.json"
    path.write_text(json.dumps(doc))
    said = _import(path, "--name", "Demo Copy")
    copy = Site.objects.get(name="Demo Copy")
    assert copy.slug == "demo-copy"
    assert f"as id {copy.pk}" in said and f"{racks} racks" in said and f"{nodes} nodes" in said
    assert Node.objects.filter(rack__row__room__site=copy).count() == nodes

    again, _ = _export("Demo Copy")
    assert _strip(again) == _strip(doc)


def test_site_by_slug_or_name_and_output_file(demo, tmp_path):
    by_name, _ = _export("Demo Campus")
    by_slug, _ = _export("demo-campus")
    assert _strip(by_name) == _strip(by_slug)
    target = tmp_path / "out.json"
    target.write_text("old content")
    out, err = io.StringIO(), io.StringIO()
    call_command("export_site", "demo-campus", "-o", str(target), stdout=out, stderr=err)
    assert out.getvalue() == ""  # the document went to the file only
    assert str(target) in err.getvalue()
    assert _strip(json.loads(target.read_text())) == _strip(by_slug)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]  # no temporary file left behind


def test_import_from_stdin(demo):
    doc, _ = _export(demo.pk)
    out = io.StringIO()
    call_command("import_site", "-", "--name", "From stdin", stdin=io.StringIO(json.dumps(doc)), stdout=out)
    assert Site.objects.filter(name="From stdin", slug="from-stdin").exists()


def test_unknown_or_ambiguous_site(demo, tmp_path):
    with pytest.raises(CommandError, match="No site"):
        _export("no-such-site")
    with pytest.raises(CommandError, match="No site"):
        _export(99999)
    # A site named like another one's id: the reference is ambiguous, and the command says so.
    f.SiteFactory(name=str(demo.pk), slug="named-like-an-id")
    with pytest.raises(CommandError, match="matches 2 sites"):
        _export(demo.pk)
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_site", "demo-campus", "-o", str(tmp_path / "missing" / "x.json"), stderr=io.StringIO())


def _bad_json(doc):
    return '{"format": "dc-capacity-planner/site", "rooms": ['


def _missing_field(doc):
    del doc["rooms"][0]["rows"][0]["name"]
    return json.dumps(doc)


def _negative_kw_deep(doc):
    rack = next(r for room in doc["rooms"] for row in room["rows"] for r in row["racks"] if r["nodes"])
    row = next(row for room in doc["rooms"] for row in room["rows"] if rack in row["racks"])
    row["air_kw_per_rack_limit"] = -5.0
    return json.dumps(doc)


def _not_a_document(doc):
    return json.dumps([1, 2, 3])


@pytest.mark.parametrize(
    ("breaker", "message"),
    [
        (_bad_json, "not valid JSON"),
        (_missing_field, r"rooms\[0\]\.rows\[0\][\s\S]*name: This field is required"),
        (_negative_kw_deep, r"rooms\[\d+\]\.rows\[\d+\][\s\S]*air_kw_per_rack_limit: Ensure this value is greater"),
        (_not_a_document, "not a site export document"),
    ],
)
def test_invalid_document_writes_nothing(demo, tmp_path, breaker, message):
    doc, _ = _export(demo.pk)
    path = tmp_path / "bad.json"
    path.write_text(breaker(doc))
    before = row_counts()
    with pytest.raises(CommandError, match=message):
        _import(path, "--name", "Broken")
    assert row_counts() == before
    assert not Site.objects.filter(name="Broken").exists()


def test_the_command_exits_non_zero_on_a_bad_document(demo, tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("not json")
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "import_site", str(path)]).execute()
    assert exited.value.code != 0
    assert "not valid JSON" in capsys.readouterr().err


def test_name_clash_is_refused_with_a_hint(demo, tmp_path):
    doc, _ = _export(demo.pk)
    path = tmp_path / "site.json"
    path.write_text(json.dumps(doc))
    f.SiteFactory(name="Other", slug="copy-b")
    before = row_counts()
    with pytest.raises(CommandError, match=r'name "Demo Campus" exists already.*--name NEW_NAME'):
        _import(path)
    # A new name whose slug is taken is refused too (the slug is made from the name).
    with pytest.raises(CommandError, match='slug "copy-b" exists already'):
        _import(path, "--name", "Copy B")
    assert row_counts() == before
    _import(path, "--name", "Copy B", "--slug", "copy-b-2")
    assert Site.objects.filter(name="Copy B", slug="copy-b-2").exists()
