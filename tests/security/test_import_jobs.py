"""Site import jobs: the 202 flow in-process, who sees a job, idempotent reruns, progress while it runs,
and the job endpoints' query counts."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command

from planner import import_jobs, transfer
from planner.models import ImportJob
from racks.models import Node, Rack, Site
from tests.conftest import _token_client, _user
from tests.transfer_builder import site_document, strip_names


def _demo_doc() -> dict:
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    return transfer.export_site(Site.objects.get(slug="demo-campus"))


@pytest.mark.django_db(transaction=True)
def test_in_process_job_has_finished_when_the_202_answers(api):
    """No broker, no request transaction: the job runs at its own commit, before the view answers."""
    doc = _demo_doc()
    response = api.post("/api/v1/sites/import/?name=Copy&slug=copy", doc, format="json")
    assert response.status_code == 202, response.data
    job = response.data["job"]
    assert job["status"] == "succeeded", job
    copy = Site.objects.get(slug="copy")
    assert job["result"]["site"]["id"] == copy.pk
    assert job["result"]["site"]["page"].endswith(f"/sites/{copy.pk}/")
    assert job["progress"]["percent"] == 100.0
    assert strip_names(transfer.export_site(copy)) == strip_names(doc)


@pytest.mark.django_db
def test_a_job_is_seen_by_its_creator_and_superusers_only(api, facilities_user, admin_user):
    job = import_jobs.import_job_create(document={"format": "x"}, user=facilities_user)
    other = _token_client(_user("fac2", "facilities"))
    assert api.get(f"/api/v1/import-jobs/{job.pk}/").status_code == 200
    assert other.get(f"/api/v1/import-jobs/{job.pk}/").status_code == 404
    assert other.get("/api/v1/import-jobs/").data["count"] == 0
    assert _token_client(admin_user).get(f"/api/v1/import-jobs/{job.pk}/").status_code == 200
    listed = api.get("/api/v1/import-jobs/").data
    assert listed["count"] == 1 and [j["id"] for j in listed["results"]] == [job.pk]
    assert "document" not in listed["results"][0]


@pytest.mark.django_db
def test_rerun_of_a_finished_job_imports_nothing_twice(facilities_user):
    doc = _demo_doc()
    job = import_jobs.import_job_create(document=doc, user=facilities_user, name="Once", slug="once")
    first = import_jobs.import_job_run(job_id=job.pk)
    assert first.status == "succeeded" and first.attempts == 1
    sites, nodes = Site.objects.count(), Node.objects.count()
    again = import_jobs.import_job_run(job_id=job.pk)  # a redelivered message
    assert again.status == "succeeded" and again.attempts == 1 and again.site_id == first.site_id
    assert (Site.objects.count(), Node.objects.count()) == (sites, nodes)

    bad = import_jobs.import_job_create(document={**doc, "version": 99}, user=facilities_user)
    failed = import_jobs.import_job_run(job_id=bad.pk)
    assert failed.status == "failed" and failed.errors["path"] == "version"
    assert import_jobs.import_job_run(job_id=bad.pk).attempts == 1  # a failed job is not run again


@pytest.mark.django_db
def test_an_interrupted_job_runs_again_from_nothing(facilities_user):
    """A worker lost mid-import: its transaction is gone, the job still says running; the redelivery runs it."""
    doc = _demo_doc()
    job = import_jobs.import_job_create(document=doc, user=facilities_user, name="Again", slug="again")
    ImportJob.objects.filter(pk=job.pk).update(status="running", attempts=1, done=3, total=10)
    done = import_jobs.import_job_run(job_id=job.pk)
    assert done.status == "succeeded" and done.attempts == 2
    assert Site.objects.filter(slug="again").count() == 1


@pytest.mark.django_db
def test_a_damaged_document_fails_the_job_instead_of_importing_other_data(facilities_user):
    job = import_jobs.import_job_create(document=_demo_doc(), user=facilities_user, name="X", slug="x")
    ImportJob.objects.filter(pk=job.pk).update(document_sha256="0" * 64)
    failed = import_jobs.import_job_run(job_id=job.pk)
    assert failed.status == "failed" and "damaged" in failed.errors["detail"]
    assert not Site.objects.filter(slug="x").exists()


@pytest.mark.skipif(
    "postgresql" in settings.DATABASES["default"]["ENGINE"],
    reason="SQLite's cache path; on PostgreSQL test_import_worker polls a real worker's progress",
)
@pytest.mark.django_db
def test_progress_is_visible_through_the_job_url_while_the_import_runs(api, facilities_user, monkeypatch):
    """Read the job through the API from inside the running import (as a poll would between two writes):
    the import's rows are not committed, yet the job reports running with its progress rising."""
    doc = site_document(60, racks_per_row=10, rows_per_room=3)
    job = import_jobs.import_job_create(document=doc, user=facilities_user, name="Watched", slug="watched")
    monkeypatch.setattr(import_jobs, "PROGRESS_INTERVAL_S", 0.0)
    seen = []
    write = import_jobs.ProgressWriter.__call__

    def write_then_poll(self, phase, done, total):
        write(self, phase, done, total)
        polled = api.get(f"/api/v1/import-jobs/{job.pk}/").data
        seen.append((polled["status"], polled["progress"]["phase"], polled["progress"]["done"], total))

    monkeypatch.setattr(import_jobs.ProgressWriter, "__call__", write_then_poll)
    finished = import_jobs.import_job_run(job_id=job.pk)
    assert finished.status == "succeeded"
    n_racks, n_nodes = 60, 120
    assert {s[0] for s in seen} == {"running"}
    assert {s[3] for s in seen} == {n_racks + n_nodes + 1}
    done = [s[2] for s in seen]
    assert done == sorted(done) and done[0] == 0 and done[-1] == n_racks + n_nodes + 1
    assert {"racks", "nodes", "saving"} <= {s[1] for s in seen}
    polled = api.get(f"/api/v1/import-jobs/{job.pk}/").data
    assert polled["progress"]["done"] == polled["progress"]["total"] == n_racks + n_nodes + 1


@pytest.mark.django_db
def test_audit_history_records_the_bulk_written_objects_and_who_imported_them(facilities_user):
    doc = site_document(30, racks_per_row=10, rows_per_room=3)
    job = import_jobs.import_job_create(document=doc, user=facilities_user, name="Audited", slug="audited")
    site = import_jobs.import_job_run(job_id=job.pk).site
    racks = Rack.objects.filter(row__room__site=site)
    nodes = Node.objects.filter(rack__row__room__site=site)
    assert Rack.history.filter(id__in=racks.values("id"), history_type="+").count() == racks.count() == 30
    assert Node.history.filter(id__in=nodes.values("id"), history_type="+").count() == nodes.count() == 60
    users = set(Rack.history.filter(id__in=racks.values("id")).values_list("history_user", flat=True))
    users |= set(Node.history.filter(id__in=nodes.values("id")).values_list("history_user", flat=True))
    users |= set(Site.history.filter(id=site.pk).values_list("history_user", flat=True))
    assert users == {facilities_user.pk}


@pytest.mark.django_db
def test_job_endpoints_answer_in_a_constant_number_of_queries(api, facilities_user, django_assert_num_queries):
    doc = _demo_doc()
    jobs = [
        import_jobs.import_job_create(document=doc, user=facilities_user, name=f"C{i}", slug=f"c{i}") for i in range(3)
    ]
    import_jobs.import_job_run(job_id=jobs[0].pk)
    api.get("/api/v1/import-jobs/")  # warm: the token user's roles are cached per request anyway
    # Token + user, roles, the job (with its creator joined).
    with django_assert_num_queries(3):
        assert api.get(f"/api/v1/import-jobs/{jobs[0].pk}/").status_code == 200
    # Token + user, roles, count, one page (creator joined), whatever the number of jobs.
    with django_assert_num_queries(4):
        assert len(api.get("/api/v1/import-jobs/").data["results"]) == 3
    for i in range(3, 6):
        import_jobs.import_job_create(document=doc, user=facilities_user, name=f"C{i}", slug=f"c{i}")
    with django_assert_num_queries(4):
        assert len(api.get("/api/v1/import-jobs/").data["results"]) == 6


@pytest.mark.django_db
def test_import_page_uploads_and_the_job_page_shows_the_result(
    client, facilities_user, django_capture_on_commit_callbacks, django_assert_num_queries
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    doc = _demo_doc()
    client.force_login(facilities_user)
    assert client.get("/sites/import/").status_code == 200
    bad = client.post("/sites/import/", {"document": SimpleUploadedFile("x.json", b"[1, 2]")})
    assert bad.status_code == 400 and b"not a site export document" in bad.content
    assert ImportJob.objects.count() == 0
    import json

    upload = SimpleUploadedFile("site.json", json.dumps(doc).encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/sites/import/", {"document": upload, "name": "Web copy", "slug": "web-copy"})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    # Session, user, roles, the job (with its creator joined).
    with django_assert_num_queries(4):
        page = client.get(f"/imports/{job.pk}/")
    site = Site.objects.get(slug="web-copy")
    assert f'href="/sites/{site.pk}/"'.encode() in page.content
    assert b'data-status="succeeded"' in page.content
    assert b"import_job.js" in page.content
