"""Nightly reports survive a lost worker process, a lost worker and a lost broker (issue 12, point 4).

Real Celery workers (prefork, as deployed) on the pytest PostgreSQL database and a private Redis server per
test. The fault worker (tests/reports/fault_worker.py) holds the chosen task at its start until the test
creates a release file, so each kill happens at a known point while the report is running, and the report
cannot finish before the fault: no sleeps and no timing in the assertions.

"Written exactly once" is checked twice: one CapacityReport row for the (site, day), and one
``report site=<id> day=<day> created`` line (reports.report_build's log) over every worker's log with no
``replaced`` line, so no attempt wrote it a second time.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from planner.models import CapacityReport
from planner.tasks import nightly_capacity_reports, site_capacity_report
from tests import factories as f
from tests.reports.celery_support import (
    ROOT,
    RedisServer,
    Worker,
    markers,
    new_queue,
    publish,
    release,
    wait_for,
    worker_env,
)

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

DAY = "2026-04-02"


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
    return site


def _writes(text: str, site_id: int) -> list[str]:
    """How report_build wrote the site's report of DAY, one entry per write: 'created' or 'replaced'."""
    return re.findall(rf"report site={site_id} day={DAY} (created|replaced)", text)


@pytest.fixture
def tmp():
    with tempfile.TemporaryDirectory(prefix="planner-reliability-") as folder:
        path = Path(folder)
        (path / "faults").mkdir()
        yield path


@pytest.fixture
def redis_server(tmp):
    server = RedisServer(tmp)
    server.start()
    yield server
    server.stop()


def test_a_killed_pool_process_does_not_lose_the_report(tmp, redis_server):
    site = _site(2, 3)
    faults, queue = tmp / "faults", new_queue("reliability-child")
    worker = Worker("w1", queue, tmp / "w1.log", worker_env(redis_server.url(), faults))
    try:
        publish(site_capacity_report, [site.id, DAY], queue=queue, broker_url=redis_server.url())
        wait_for(lambda: len(markers(faults)) == 1, "the report to start", logs=(worker.log,), procs=[worker.proc])
        first = markers(faults)[0]
        assert first["pid"] != worker.pid, "the report must run in a pool child, not in the worker's main process"
        import os
        import signal

        os.kill(first["pid"], signal.SIGKILL)
        release(faults)

        reports_of_day = CapacityReport.objects.filter(site=site, day=DAY)
        wait_for(lambda: reports_of_day.exists(), "the redelivered report", logs=(worker.log,), procs=[worker.proc])
        wait_for(lambda: "succeeded" in worker.text(), "the task to succeed", logs=(worker.log,), procs=[worker.proc])

        second = markers(faults)[1]
        assert second["id"] == first["id"] and second["args"] == [site.id, DAY]
        assert second["pid"] != first["pid"]
        assert len(markers(faults)) == 2
        assert reports_of_day.count() == 1
        assert reports_of_day.get().node_count == 3
        assert _writes(worker.text(), site.id) == ["created"]
        assert "WorkerLostError" in worker.text()
        assert redis_server.client().llen(queue) == 0
    finally:
        worker.stop()


def test_a_killed_worker_leaves_the_report_to_the_next_worker_after_the_visibility_timeout(tmp, redis_server):
    site = _site(3, 2)
    faults, queue = tmp / "faults", new_queue("reliability-worker")
    # A visibility timeout of seconds, through the setting production uses (default: the time limit + margin).
    env = worker_env(redis_server.url(), faults, CELERY_VISIBILITY_TIMEOUT="4")
    first = Worker("w1", queue, tmp / "w1.log", env)
    second = None
    try:
        publish(site_capacity_report, [site.id, DAY], queue=queue, broker_url=redis_server.url())
        wait_for(lambda: len(markers(faults)) == 1, "the report to start", logs=(first.log,), procs=[first.proc])
        first.kill_all()
        assert redis_server.client().hlen("unacked") == 1, "the killed worker's message waits, unacknowledged"
        release(faults)

        second = Worker("w2", queue, tmp / "w2.log", env)
        reports_of_day = CapacityReport.objects.filter(site=site, day=DAY)
        logs = (first.log, second.log)
        wait_for(lambda: reports_of_day.exists(), "the second worker's report", logs=logs, procs=[second.proc])
        wait_for(lambda: "succeeded" in second.text(), "the task to succeed", logs=logs, procs=[second.proc])

        found = markers(faults)
        assert len(found) == 2 and found[0]["id"] == found[1]["id"]
        assert reports_of_day.count() == 1
        assert reports_of_day.get().rack_count == 3
        assert _writes(first.text(), site.id) == []
        assert _writes(second.text(), site.id) == ["created"]
        assert redis_server.client().hlen("unacked") == 0
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_broker_stopped_during_the_fanout_every_site_is_queued_when_it_returns(tmp, redis_server):
    sites = [_site(2, 2), _site(1, 1), _site(3, 0)]
    faults, queue = tmp / "faults", new_queue("reliability-broker")
    env = worker_env(
        redis_server.url(0),
        faults,
        CELERY_RESULT_BACKEND=redis_server.url(1),  # results on the same server, as usually deployed
        PLANNER_FAULT_TASKS="nightly_capacity_reports",
        NIGHTLY_FANOUT_RETRY_SECONDS="60",
    )
    worker = Worker("w1", queue, tmp / "w1.log", env)
    try:
        publish(nightly_capacity_reports, [DAY], queue=queue, broker_url=redis_server.url())
        wait_for(lambda: len(markers(faults)) == 1, "the fan-out to start", logs=(worker.log,), procs=[worker.proc])
        redis_server.stop()
        release(faults)
        # The fan-out finds the broker gone: it says so and waits (twice here, with backoff), rather than
        # marking every site failed; the broker comes back within NIGHTLY_FANOUT_RETRY_SECONDS.
        wait_for(
            lambda: "retry 2 in" in worker.text(), "the fan-out's second retry line", logs=(worker.log,),
            procs=[worker.proc],
        )  # fmt: skip
        redis_server.start()

        reports_of_day = CapacityReport.objects.filter(day=DAY)
        wait_for(lambda: reports_of_day.count() == len(sites), "every site's report", logs=(worker.log,),
                 procs=[worker.proc])  # fmt: skip
        wait_for(lambda: "nightly capacity reports for" in worker.text(), "the fan-out's summary",
                 logs=(worker.log,), procs=[worker.proc])  # fmt: skip
        text = worker.text()
        assert sorted(reports_of_day.values_list("site_id", flat=True)) == sorted(s.id for s in sites)
        for site in sites:
            assert _writes(text, site.id) == ["created"], site.id
        retries = re.findall(r"broker unreachable .*; (\d+) of (\d+) site\(s\) not queued yet, retry (\d+)", text)
        # One wait per attempt for the whole outage, not one per site: no site was tried twice in a row.
        assert [r[2] for r in retries[:2]] == ["1", "2"]
        assert all(r[:2] == ("3", "3") for r in retries)
        assert f"nightly capacity reports for {DAY}: {len(sites)} site(s) queued, 0 not queued" in text
        assert "must be restarted" not in text
        # Every message acknowledged once the broker was back, the fan-out's included: nothing will run again
        # when the visibility timeout expires.
        client = redis_server.client()
        wait_for(lambda: client.hlen("unacked") == 0 and client.llen(queue) == 0, "every message acknowledged",
                 logs=(worker.log,), procs=[worker.proc])  # fmt: skip
    finally:
        worker.stop()


def test_fanout_outside_a_worker_waits_for_the_broker_without_celery_must_be_restarted(tmp):
    """A fan-out run by a process that is not a worker (a shell, a cron job calling the task).

    There a publish also subscribes to the task's result on the Redis result backend, and with the Redis
    server down that subscription retried for ~20 s per site, then logged Celery's "The Celery application
    must be restarted" and failed the site. The fan-out publishes without a result subscription and waits
    for the broker instead; the server here is down when the fan-out starts and started after its first
    retry line.
    """
    sites = [_site(1, 1), _site(2, 0)]
    server = RedisServer(tmp)  # not started yet: the broker is down
    env = worker_env(
        server.url(0), tmp / "faults", CELERY_RESULT_BACKEND=server.url(1), NIGHTLY_FANOUT_RETRY_SECONDS="60"
    )
    code = f"from planner.tasks import nightly_capacity_reports as t; print('RESULT', t({DAY!r}))"
    log = tmp / "shell.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: "retry 1 in" in log.read_text(), "the fan-out's retry line", logs=(log,))
        server.start()
        proc.wait(timeout=60)
        text = log.read_text()
        assert proc.returncode == 0, text
        assert f"RESULT {{'day': '{DAY}', 'queued': {[s.id for s in sites]}, 'failed': []}}" in text
        assert "must be restarted" not in text
        queued = [json.loads(m) for m in server.client().lrange("celery", 0, -1)]
        assert sorted(m["headers"]["argsrepr"] for m in queued) == sorted(repr((s.id, DAY)) for s in sites)
        assert all(m["headers"]["ignore_result"] for m in queued)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        server.stop()
