"""The site import page in a real browser: upload an export document, watch the job's progress rise while
the import runs, then see the result with a link to the new site; and an invalid document's errors."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from playwright.sync_api import expect

from planner import import_jobs, tasks
from planner.models import ImportJob
from racks.models import Site
from tests.browser.conftest import log_in, make_user
from tests.transfer_builder import site_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WAIT_S = 60


def test_import_page_shows_progress_then_the_site(new_page, shot, tmp_path, monkeypatch):
    make_user("engineer", "facilities")
    doc = site_document(40, racks_per_row=10, rows_per_room=2)
    path = tmp_path / "site.json"
    path.write_text(json.dumps(doc))
    # Keep the uploaded job queued: the test runs it itself, paused half-way, to look at the page meanwhile.
    monkeypatch.setattr(tasks.site_import_job, "delay", lambda job_id: None)
    monkeypatch.setattr(import_jobs, "PROGRESS_INTERVAL_S", 0.0)
    halfway, resume = threading.Event(), threading.Event()
    write = import_jobs.ProgressWriter.__call__

    def write_and_pause(self, phase, done, total):
        write(self, phase, done, total)
        if phase == "nodes" and done > 0 and not halfway.is_set():
            halfway.set()
            resume.wait(WAIT_S)

    monkeypatch.setattr(import_jobs.ProgressWriter, "__call__", write_and_pause)

    page = new_page()
    log_in(page, "engineer")
    page.goto("/")
    page.get_by_role("link", name="Import a site").click()
    page.get_by_label("Site export document (JSON)").set_input_files(str(path))
    page.get_by_label("Name").fill("Imported hall")
    page.get_by_label("Slug").fill("imported-hall")
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/imports/*/")
    job = ImportJob.objects.get()
    expect(page.locator("#job-status")).to_have_text("queued")

    def run():
        try:
            import_jobs.import_job_run(job_id=job.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        assert halfway.wait(WAIT_S), "the import never reached its nodes"
        expect(page.locator("#job-status")).to_have_text("running", timeout=WAIT_S * 1000)
        total = 40 + 80 + 1
        expect(page.locator("#job-progress-text")).to_contain_text(f"of {total}", timeout=WAIT_S * 1000)
        # Paused after every rack (40) and the first node: the page shows 41 of 121, the import not committed.
        page.wait_for_function("() => document.getElementById('job-progress').value >= 41", timeout=WAIT_S * 1000)
        assert page.locator("#job-progress").evaluate("e => e.value") == 41
        expect(page.locator("#job-progress-text")).to_contain_text("41 of 121 (33.9 %), nodes")
        if connection.vendor != "sqlite":  # SQLite's shared-cache test database locks the table meanwhile
            assert not Site.objects.filter(slug="imported-hall").exists()
        shot(page, "import-running")
    finally:
        resume.set()
        worker.join(WAIT_S)
    expect(page.locator("#job-status")).to_have_text("succeeded", timeout=WAIT_S * 1000)
    link = page.locator("#job-site-link")
    expect(link).to_have_text("Imported hall")
    expect(page.locator("#job-counts")).to_contain_text("40 racks")
    assert page.locator("#job-progress").evaluate("e => e.value") == total
    shot(page, "import-done")
    link.click()
    site = Site.objects.get(slug="imported-hall")
    page.wait_for_url(f"**/sites/{site.pk}/")
    assert page.js_errors == []


def test_import_page_shows_the_errors_of_an_invalid_document(new_page, shot, tmp_path):
    make_user("engineer", "facilities")
    doc = site_document(20, racks_per_row=10, rows_per_room=2)
    doc["rooms"][0]["rows"][1]["racks"][3]["pdus"][1]["power_factor"] = 1.5
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    page = new_page()
    log_in(page, "engineer")
    page.goto("/sites/import/")
    page.get_by_label("Site export document (JSON)").set_input_files(str(path))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/imports/*/")
    expect(page.locator("#job-status")).to_have_text("failed", timeout=WAIT_S * 1000)
    expect(page.locator("#job-error-path")).to_have_text("rooms[0].rows[1].racks[3].pdus[1]")
    expect(page.locator("#job-error-list")).to_contain_text("power_factor")
    expect(page.locator("#job-result")).to_be_hidden()
    shot(page, "import-failed")
    assert Site.objects.count() == 0
    assert page.js_errors == []
