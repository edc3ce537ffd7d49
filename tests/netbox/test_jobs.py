"""POST /api/v1/netbox/import/: the NetBox import as an import job (202, progress, the summary as its result)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from planner import import_jobs
from planner.models import ImportJob
from racks.models import Rack, Site
from tests.netbox.conftest import TEST_FIGURES
from tests.netbox.test_import import README_COUNTS, everything


def _body(netbox, **extra) -> dict:
    return {"url": netbox.url, "token": netbox.token, "figures": TEST_FIGURES, **extra}


def _raw_rows() -> str:
    """Every column of every import job row, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ImportJob._meta.db_table}")
        return repr(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_netbox_job_imports_and_reports_the_summary(api, netbox):
    with override_settings(NETBOX_URLS=[netbox.url]):
        r = api.post("/api/v1/netbox/import/", _body(netbox), format="json")
    assert r.status_code == 202, r.json()
    queued = r.json()["job"]
    assert r["Location"] == queued["url"] and queued["url"].endswith(f"/api/v1/import-jobs/{queued['id']}/")
    job = api.get(r["Location"]).json()  # the job ran at its commit (in-process: no broker)
    assert job["kind"] == "netbox" and job["status"] == "succeeded", job
    assert job["progress"]["percent"] == 100.0
    result = job["result"]
    assert result["dry_run"] is False and result["counts"] == README_COUNTS
    # The result agrees with what was written: every site and rack NetBox holds is here now.
    assert Site.objects.count() == README_COUNTS["sites"] == len(result["sites"])
    assert Rack.objects.count() == README_COUNTS["racks"]
    assert {s["slug"] for s in result["sites"]} == set(Site.objects.values_list("slug", flat=True))
    assert all("binding" in s["headroom"] for s in result["sites"])
    assert len(result["failing_racks"]) == 16
    assert job["options"]["url"] == netbox.url and "token" not in job["options"]
    # The token is nowhere: not in the answer, the job endpoint, or any column of the row (wiped at the end).
    again = api.get(job["url"])
    assert again.status_code == 200 and again.json() == job
    for text in (r.content.decode(), again.content.decode(), _raw_rows()):
        assert netbox.token not in text
    assert ImportJob.objects.get(pk=job["id"]).secret == ""


@pytest.mark.django_db(transaction=True)
def test_netbox_dry_run_job_writes_nothing(api, netbox):
    before = everything()
    with override_settings(NETBOX_URLS=[netbox.url]):
        r = api.post("/api/v1/netbox/import/", _body(netbox, dry_run=True), format="json")
    job = api.get(r["Location"]).json()
    assert r.status_code == 202 and job["status"] == "succeeded", job
    assert job["result"]["dry_run"] is True and job["result"]["counts"] == README_COUNTS
    assert everything() == before and Site.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_netbox_job_failure_is_recorded_and_wipes_the_token(api, netbox):
    with override_settings(NETBOX_URLS=[netbox.url]):
        r = api.post("/api/v1/netbox/import/", _body(netbox, figures={}), format="json")
    job = api.get(r["Location"]).json()
    assert r.status_code == 202 and job["status"] == "failed", job
    assert any("lacks power-ports" in e for e in job["errors"]["errors"]) and job["result"] is None
    assert Site.objects.count() == 0 and ImportJob.objects.get(pk=job["id"]).secret == ""


@pytest.mark.django_db
def test_netbox_job_refusals_queue_nothing(api, netbox, procurement_user):
    r = api.post("/api/v1/netbox/import/", _body(netbox), format="json")
    assert r.status_code == 400 and "NETBOX_URLS" in str(r.json())  # no URL listed: none may be read
    with override_settings(NETBOX_URLS=["http://127.0.0.1:1/"]):
        r = api.post("/api/v1/netbox/import/", _body(netbox), format="json")
        assert r.status_code == 400 and "url" in r.json()["errors"]
    with override_settings(NETBOX_URLS=[netbox.url]):
        r = api.post("/api/v1/netbox/import/", _body(netbox, row_from="name", row_pattern="no group"), format="json")
        assert r.status_code == 400
        proc = APIClient()
        proc.force_authenticate(procurement_user)
        assert proc.post("/api/v1/netbox/import/", _body(netbox), format="json").status_code == 403
        assert APIClient().post("/api/v1/netbox/import/", _body(netbox), format="json").status_code in (401, 403)
    assert ImportJob.objects.count() == 0 and netbox.token not in _raw_rows()


@pytest.mark.django_db
def test_queued_token_is_sealed_and_the_job_endpoint_is_constant_query(
    api, netbox, facilities_user, django_assert_num_queries
):
    jobs = [
        import_jobs.netbox_job_create(
            url=netbox.url, token=netbox.token, user=facilities_user, dry_run=True, figures=TEST_FIGURES
        )
        for _ in range(2)
    ]  # no commit in this test: queued, not run
    row = ImportJob.objects.get(pk=jobs[0].pk)
    assert row.status == "queued" and row.secret and netbox.token not in _raw_rows()
    assert import_jobs.open_token(row.secret) == netbox.token
    import_jobs.netbox_job_run(job_id=jobs[0].pk)
    api.get("/api/v1/import-jobs/")  # warm
    # Token + user, roles, the job (with its creator joined): as for a site job.
    with django_assert_num_queries(3):
        data = api.get(f"/api/v1/import-jobs/{jobs[0].pk}/").json()
    assert data["status"] == "succeeded" and data["result"]["counts"] == README_COUNTS
    with django_assert_num_queries(3):
        assert api.get(f"/api/v1/import-jobs/{jobs[1].pk}/").json()["status"] == "queued"
    assert netbox.token not in json.dumps(data)


@pytest.mark.django_db(transaction=True)
def test_netbox_page_runs_as_a_job_and_the_job_page_shows_the_summary(client, facilities_user, netbox):
    client.force_login(facilities_user)
    form = {
        "url": netbox.url,
        "token": netbox.token,
        "row_from": "location",
        "figures": json.dumps(TEST_FIGURES),  # JSON is YAML
        "dry_run": "on",
        "background": "on",
    }
    r = client.post("/netbox/import/", form)
    assert r.status_code == 400 and "NETBOX_URLS" in r.content.decode() and ImportJob.objects.count() == 0
    with override_settings(NETBOX_URLS=[netbox.url]):
        r = client.post("/netbox/import/", form)
    job = ImportJob.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/imports/{job.pk}/"
    assert job.kind == "netbox" and job.status == "succeeded" and job.secret == ""
    page = client.get(r["Location"]).content.decode()
    n_failing = len(job.result["failing_racks"])
    assert n_failing == 16 and f"{n_failing} racks failing a rule" in page and "Dry run: nothing was written" in page
    assert all(s["slug"] in page for s in job.result["sites"]) and netbox.token not in page
    assert Site.objects.count() == 0
