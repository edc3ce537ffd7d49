"""Site export and import: a round trip loses nothing; a bad document writes nothing."""

import io

import pytest
from django.core.management import call_command

from racks.models import Node, Rack, Site

pytestmark = pytest.mark.django_db


def _strip(doc):
    """The export without its timestamp and the site's own name and slug (the copy gets new ones)."""
    doc = {k: v for k, v in doc.items() if k != "exported_at"}
    doc["site"] = {k: v for k, v in doc["site"].items() if k not in ("name", "slug", "id")}
    return doc


def test_export_import_round_trip(api, proc_api):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    site = Site.objects.get(slug="demo-campus")
    exported = proc_api.get(f"/api/v1/sites/{site.id}/export/")
    assert exported.status_code == 200
    doc = exported.json()
    nodes_before = Node.objects.count()
    imported = api.post("/api/v1/sites/import/?name=Copy&slug=copy", doc, format="json")
    assert imported.status_code in (200, 201), imported.data
    copy = Site.objects.get(slug="copy")
    assert Node.objects.count() == 2 * nodes_before
    assert Rack.objects.filter(row__room__site=copy).count() == Rack.objects.filter(row__room__site=site).count()
    again = proc_api.get(f"/api/v1/sites/{copy.id}/export/").json()
    assert _strip(again) == _strip(doc)


def test_bad_import_writes_nothing(api, proc_api):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    site = Site.objects.get(slug="demo-campus")
    doc = proc_api.get(f"/api/v1/sites/{site.id}/export/").json()
    counts = (Site.objects.count(), Rack.objects.count(), Node.objects.count())
    # Break one deep record: a PDU with a power factor of 1.5.
    text = str(doc)
    assert "power_factor" in text
    for room in doc.get("rooms", []):
        for row in room.get("rows", []):
            for rack in row.get("racks", []):
                for pdu in rack.get("pdus", []):
                    pdu["power_factor"] = 1.5
    response = api.post("/api/v1/sites/import/?name=Bad&slug=bad", doc, format="json")
    assert response.status_code == 400, response.data
    assert (Site.objects.count(), Rack.objects.count(), Node.objects.count()) == counts
    assert proc_api.post("/api/v1/sites/import/?name=P&slug=p", doc, format="json").status_code == 403
