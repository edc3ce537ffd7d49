"""Site export and import: a round trip loses nothing; a bad document writes nothing.

An import is a job: ``POST sites/import/`` answers 202 with the job, whose URL reports the result. Tasks run
in-process in these tests (no broker), at the commit of the request's transaction, so the job has finished by
the time the 202 answers (``django_capture_on_commit_callbacks`` runs those commits inside a test's
transaction), and its URL reports it finished.
"""

import io

import pytest
from django.core.management import call_command

from planner.models import ImportJob
from racks.models import Node, Rack, Site
from tests.transfer_builder import strip_names

pytestmark = pytest.mark.django_db


def _import(client, doc, query, capture):
    with capture(execute=True):
        response = client.post(f"/api/v1/sites/import/?{query}", doc, format="json")
    return response


def test_export_import_round_trip(api, proc_api, django_capture_on_commit_callbacks):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    site = Site.objects.get(slug="demo-campus")
    exported = proc_api.get(f"/api/v1/sites/{site.id}/export/")
    assert exported.status_code == 200
    doc = exported.json()
    nodes_before = Node.objects.count()
    imported = _import(api, doc, "name=Copy&slug=copy", django_capture_on_commit_callbacks)
    assert imported.status_code == 202, imported.data
    assert imported["Location"] == imported.data["job"]["url"]
    # The 202 was built before the request's transaction committed (as under ATOMIC_REQUESTS); its job URL
    # reports the finished job.
    assert imported.data["job"]["status"] in ("queued", "succeeded")
    job = api.get(imported["Location"]).data
    assert job["status"] == "succeeded", job
    copy = Site.objects.get(slug="copy")
    assert job["result"]["site"]["id"] == copy.pk
    assert job["errors"] is None
    assert Node.objects.count() == 2 * nodes_before
    assert Rack.objects.filter(row__room__site=copy).count() == Rack.objects.filter(row__room__site=site).count()
    assert job["result"]["counts"]["racks"] == Rack.objects.filter(row__room__site=site).count()
    again = proc_api.get(f"/api/v1/sites/{copy.id}/export/").json()
    assert strip_names(again) == strip_names(doc)
    assert job["progress"]["done"] == job["progress"]["total"] > 0


def test_bad_import_writes_nothing(api, proc_api, django_capture_on_commit_callbacks):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    site = Site.objects.get(slug="demo-campus")
    doc = proc_api.get(f"/api/v1/sites/{site.id}/export/").json()
    counts = (Site.objects.count(), Rack.objects.count(), Node.objects.count())
    # Break one deep record: a PDU with a power factor of 1.5.
    first = None
    for i, room in enumerate(doc.get("rooms", [])):
        for j, row in enumerate(room.get("rows", [])):
            for k, rack in enumerate(row.get("racks", [])):
                for m, pdu in enumerate(rack.get("pdus", [])):
                    pdu["power_factor"] = 1.5
                    first = first or f"rooms[{i}].rows[{j}].racks[{k}].pdus[{m}]"
    assert first is not None
    response = _import(api, doc, "name=Bad&slug=bad", django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.data
    job = api.get(response["Location"]).data
    assert job["status"] == "failed" and job["result"] is None
    assert job["errors"]["path"] == first
    assert "power_factor" in job["errors"]["errors"]
    assert (Site.objects.count(), Rack.objects.count(), Node.objects.count()) == counts
    assert proc_api.post("/api/v1/sites/import/?name=P&slug=p", doc, format="json").status_code == 403
    assert ImportJob.objects.count() == 1  # the refused request queued nothing


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("not json", "application/json"), ("[1, 2]", "application/json"), ('"a string"', "application/json")],
)
def test_refused_before_queueing(api, body, content_type):
    response = api.post("/api/v1/sites/import/", body, content_type=content_type)
    assert response.status_code == 400, response.content
    assert ImportJob.objects.count() == 0


def test_too_large_is_refused_before_queueing(api, settings, monkeypatch):
    from planner.api import transfer as api_transfer

    monkeypatch.setattr(api_transfer.SiteImportView, "max_body_bytes", 100)
    response = api.post("/api/v1/sites/import/", {"format": "x" * 200}, format="json")
    assert response.status_code == 413
    assert ImportJob.objects.count() == 0
