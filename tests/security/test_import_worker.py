"""A 2,500-rack site imported through the API on a real Celery worker (Redis broker, PostgreSQL).

The test publishes the job the view queued to a queue of its own, consumed by a worker process started here
(``celery -A planner worker --pool=solo``), polls the job URL and sees the progress rise while the import
runs, then compares the export of the new site with the document. An invalid document fails the job with
the bad record's path, and writes nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from planner import tasks, transfer
from planner.celery import app
from racks.models import Node, Rack, Site
from tests.reports.test_worker import ROOT, _broker_url, _database_url, _forget_queue, _require_redis
from tests.transfer_builder import site_document, strip_names

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

N_RACKS = 2_500
TIMEOUT_S = 600
POLL_S = 0.2


def _start_worker(queue: str, broker_url: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "planner.settings",
        "DATABASE_URL": _database_url(),
        "DB_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": "",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "planner", "worker", "--pool=solo", "-Q", queue,
             "-n", f"{queue}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _poll(api, url: str, proc: subprocess.Popen, log: Path) -> list[dict]:
    """Every answer of the job URL until the job has finished (bounded by TIMEOUT_S)."""
    seen = []
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        response = api.get(url)
        assert response.status_code == 200, response.data
        seen.append(response.data)
        if response.data["status"] in ("succeeded", "failed"):
            return seen
        if proc.poll() is not None:
            pytest.fail(f"the worker exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
        time.sleep(POLL_S)
    pytest.fail(f"the job did not finish within {TIMEOUT_S} s:\n{log.read_text()[-4000:]}")


@pytest.fixture
def worker_queue(monkeypatch):
    """A queue of this test's own, a worker consuming it, and the view's ``delay`` publishing to it."""
    broker_url = _broker_url()
    _require_redis(broker_url)
    queue = f"import-test-{uuid.uuid4().hex[:12]}"

    def publish(job_id):
        eager = app.conf.task_always_eager
        app.conf.task_always_eager = False  # this process runs tasks in-process otherwise
        try:
            with app.connection_for_write(broker_url) as conn:
                tasks.site_import_job.apply_async(args=[job_id], queue=queue, producer=app.amqp.Producer(conn))
        finally:
            app.conf.task_always_eager = eager

    monkeypatch.setattr(tasks.site_import_job, "delay", publish)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "worker.log"
        proc = _start_worker(queue, broker_url, log)
        try:
            yield proc, log
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            _forget_queue(broker_url, queue)


def test_a_2500_rack_site_imports_on_a_worker_with_progress_and_round_trips(api, worker_queue):
    proc, log = worker_queue
    doc = site_document(N_RACKS)
    response = api.post("/api/v1/sites/import/?name=Big copy&slug=big-copy", doc, format="json")
    assert response.status_code == 202, response.data
    assert response.data["job"]["status"] == "queued"  # a worker runs it, not this request
    seen = _poll(api, response["Location"], proc, log)
    final = seen[-1]
    assert final["status"] == "succeeded", final

    n_nodes = sum(len(rk["nodes"]) for rm in doc["rooms"] for rw in rm["rows"] for rk in rw["racks"])
    total = N_RACKS + n_nodes + 1
    running = [j["progress"]["done"] for j in seen if j["status"] == "running"]
    # Seen while it ran (not yet committed): progress strictly between nothing and everything, and rising.
    assert any(0 < done < total for done in running), running
    assert running == sorted(running)
    assert len({d for d in running if 0 < d < total}) >= 2, running
    assert final["progress"] == {"phase": "saving", "done": total, "total": total, "percent": 100.0}

    site = Site.objects.get(slug="big-copy")
    assert final["result"]["site"]["id"] == site.pk
    assert final["result"]["counts"]["racks"] == N_RACKS == Rack.objects.filter(row__room__site=site).count()
    assert strip_names(transfer.export_site(site)) == strip_names(doc)
    assert "site_import_job" in log.read_text()


def test_an_invalid_large_document_fails_on_the_worker_with_its_path_and_writes_nothing(api, worker_queue):
    proc, log = worker_queue
    doc = site_document(N_RACKS)
    last_room = len(doc["rooms"]) - 1
    last_row = len(doc["rooms"][-1]["rows"]) - 1
    last_rack = len(doc["rooms"][-1]["rows"][-1]["racks"]) - 1
    rack = doc["rooms"][-1]["rows"][-1]["racks"][-1]
    rack["nodes"][1]["u_position"] = rack["u_height"] + 5  # above the top of the rack: a placement rule breaks
    counts = (Site.objects.count(), Rack.objects.count(), Node.objects.count())
    response = api.post("/api/v1/sites/import/", doc, format="json")
    assert response.status_code == 202, response.data
    final = _poll(api, response["Location"], proc, log)[-1]
    assert final["status"] == "failed", final
    assert final["result"] is None
    assert final["errors"]["path"] == f"rooms[{last_room}].rows[{last_row}].racks[{last_rack}].nodes[1]"
    assert "placement rules" in final["errors"]["detail"]
    assert (Site.objects.count(), Rack.objects.count(), Node.objects.count()) == counts
