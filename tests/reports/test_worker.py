"""End to end on a real Celery worker: Redis broker, PostgreSQL test database, the nightly fan-out twice.

The worker is a separate process (``celery -A planner worker --pool=solo``) consuming a queue of its own,
so it cannot steal or be stolen work from any other worker on the same Redis. It reads and writes the
pytest test database (committed data: ``transaction=True``).
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
from django.conf import settings

from planner.celery import app
from planner.models import CapacityReport
from planner.tasks import nightly_capacity_reports
from racks.models import NodeModel
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
DAY = "2026-03-01"
TIMEOUT_S = 90


def _broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    return url if url.startswith("redis://") else "redis://127.0.0.1:6379/0"


def _require_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.exceptions.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {url} is not reachable: {exc}")
        pytest.skip(f"Redis at {url} is not reachable: {exc}")


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{db['NAME']}"


def _site(n_racks: int, n_nodes: int):
    site = f.SiteFactory()
    row = f.RowFactory(room=f.RoomFactory(site=site), containment="hot_aisle")
    f.CoolingLoopFactory(site=site, room=row.room)
    racks = []
    for _ in range(n_racks):
        rack = f.RackFactory(row=row)
        for side in "AB":
            f.PduFactory(rack=rack, side=side)
        racks.append(rack)
    for i in range(n_nodes):
        f.NodeFactory(rack=racks[i % n_racks], u_position=1 + 2 * (i // n_racks))
    return site, racks


def _publish(queue: str, broker_url: str) -> None:
    """Send the nightly task to the worker's queue (this process runs tasks eagerly otherwise)."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(broker_url) as conn:
            nightly_capacity_reports.apply_async(args=[DAY], queue=queue, producer=app.amqp.Producer(conn))
    finally:
        app.conf.task_always_eager = eager


def _forget_queue(broker_url: str, queue: str) -> None:
    """Delete the test queue and the exchange bindings kombu keeps for it in Redis."""
    import redis

    try:
        with app.connection_for_write(broker_url) as conn:
            conn.default_channel.queue_delete(queue)
        client = redis.Redis.from_url(broker_url, socket_connect_timeout=2, socket_timeout=2)
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    except Exception:  # cleanup only: never hide the test's own outcome
        pass


def _wait_for(predicate, proc: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"the worker exited ({proc.returncode}) before {what}:\n{log.read_text()[-4000:]}")
        time.sleep(0.25)
    pytest.fail(f"timed out after {TIMEOUT_S} s waiting for {what}:\n{log.read_text()[-4000:]}")


def test_nightly_reports_on_a_real_worker_are_written_once_per_site_and_day():
    broker_url = _broker_url()
    _require_redis(broker_url)
    sites = [_site(3, 4), _site(2, 1), _site(4, 0)]
    queue = f"reports-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "planner.settings",
        "DATABASE_URL": _database_url(),
        "DB_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": "",
        "REPORT_EMAIL_RECIPIENTS": "",
        "PYTHONUNBUFFERED": "1",
    }
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "worker.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "planner", "worker", "--pool=solo", "-Q", queue,
                 "-n", f"{queue}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            _publish(queue, broker_url)
            reports_of_day = CapacityReport.objects.filter(day=DAY)
            _wait_for(lambda: reports_of_day.count() == len(sites), proc, log, "one report per site")

            by_site = {r.site_id: r for r in reports_of_day}
            assert set(by_site) == {s.id for s, _ in sites}
            assert [by_site[s.id].rack_count for s, _ in sites] == [3, 2, 4]
            assert [by_site[s.id].node_count for s, _ in sites] == [4, 1, 0]
            assert by_site[sites[0][0].id].it_load_kw == pytest.approx(4 * 1.5)  # cpu-2u budgets 1.5 kW
            first_write = {sid: r.updated_at for sid, r in by_site.items()}

            # Something changes, and the nightly run is repeated the same day: replaced, never duplicated.
            site0, racks0 = sites[0]
            f.NodeFactory(rack=racks0[0], model=NodeModel.objects.get(slug="dgx-a100"), u_position=20)
            _publish(queue, broker_url)
            _wait_for(
                lambda: all(r.updated_at > first_write[r.site_id] for r in CapacityReport.objects.filter(day=DAY)),
                proc,
                log,
                "the second run to replace every report",
            )
            assert reports_of_day.count() == len(sites)
            assert CapacityReport.objects.count() == len(sites)
            again = CapacityReport.objects.get(site=site0, day=DAY)
            assert again.pk == by_site[site0.id].pk
            assert again.node_count == 5
            assert again.it_load_kw == pytest.approx(4 * 1.5 + 6.5)
            assert "site_capacity_report" in log.read_text()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            _forget_queue(broker_url, queue)
