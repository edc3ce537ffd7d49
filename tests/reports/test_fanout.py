"""The nightly fan-out with a broker (no worker): waits out a broker outage once, not once per site.

Publishing is replaced by a fake broker that is down on a fake clock, so the waits are counted, never slept.
The real broker and workers are in test_reliability.py.
"""

from __future__ import annotations

import logging

import kombu.exceptions
import pytest
from django.conf import settings as django_settings

from planner import tasks
from planner.celery import app
from tests import factories as f

DAY = "2026-05-04"


class FakeTime:
    """``time`` for planner.tasks: ``sleep`` advances ``monotonic`` and is recorded."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeBroker:
    """Records each publish; refuses while ``down(clock, n)`` (n: publishes tried so far) is true."""

    def __init__(self, clock: FakeTime, down):
        self.clock, self.down = clock, down
        self.tried: list[int] = []
        self.published: list[tuple[tuple, dict]] = []

    def apply_async(self, args, **options):
        self.tried.append(args[0])
        if self.down(self.clock, len(self.tried)):
            raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.published.append((args, options))


@pytest.fixture
def clock(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(tasks, "time", fake)
    return fake


@pytest.fixture
def with_broker():
    """As in a worker: tasks are published, not run here."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = eager


def _broker(monkeypatch, clock, down) -> FakeBroker:
    broker = FakeBroker(clock, down)
    monkeypatch.setattr(tasks.site_capacity_report, "apply_async", broker.apply_async)
    return broker


def test_an_outage_at_the_start_is_one_wait_per_attempt_then_every_site_once(monkeypatch, clock, caplog):
    start = clock.now
    broker = _broker(monkeypatch, clock, lambda c, n: c.now < start + 5)  # back 5 s after the first try
    caplog.set_level(logging.INFO, logger="planner.tasks")

    result = tasks._queue_sites([11, 12, 13], DAY, queue="nightly-q")

    assert result == {"day": DAY, "queued": [11, 12, 13], "failed": []}
    assert clock.sleeps == [1.0, 2.0, 4.0]  # 1 s, doubled: the broker is back at 7 s >= 5 s
    assert broker.tried == [11, 11, 11, 11, 12, 13]  # the first site until it goes through, then the others
    assert [args for args, _ in broker.published] == [(11, DAY), (12, DAY), (13, DAY)]
    assert all(o == {"queue": "nightly-q", "ignore_result": True} for _, o in broker.published)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    for i, line in enumerate(warnings, start=1):
        assert "broker unreachable (OperationalError: Error 111" in line
        assert f"3 of 3 site(s) not queued yet, retry {i} in {clock.sleeps[i - 1]:.1f} s" in line
    assert "broker reachable again after 7.0 s, queuing the 3 site(s) left" in caplog.text
    assert f"nightly capacity reports for {DAY}: 3 site(s) queued, 0 not queued (3 broker retries)" in caplog.text


def test_an_outage_midway_resumes_at_the_first_site_not_queued(monkeypatch, clock, caplog):
    broker = _broker(monkeypatch, clock, lambda c, n: n in (2, 3))  # the 2nd and 3rd publish fail
    caplog.set_level(logging.INFO, logger="planner.tasks")

    result = tasks._queue_sites([11, 12, 13], DAY, queue=None)

    assert result["queued"] == [11, 12, 13] and result["failed"] == []
    assert broker.tried == [11, 12, 12, 12, 13]
    assert clock.sleeps == [1.0, 2.0]
    assert all(o == {"ignore_result": True} for _, o in broker.published)  # default queue
    assert "2 of 3 site(s) not queued yet, retry 1 in 1.0 s" in caplog.text
    assert "2 of 3 site(s) not queued yet, retry 2 in 2.0 s" in caplog.text


def test_a_second_outage_starts_the_backoff_again(monkeypatch, clock):
    _broker(monkeypatch, clock, lambda c, n: n in (1, 2, 4))
    assert tasks._queue_sites([11, 12, 13], DAY, queue=None)["queued"] == [11, 12, 13]
    assert clock.sleeps == [1.0, 2.0, 1.0]


def test_the_fanout_gives_up_at_the_bound_and_names_the_sites_left(monkeypatch, clock, caplog, settings):
    settings.NIGHTLY_FANOUT_RETRY_SECONDS = 10
    broker = _broker(monkeypatch, clock, lambda c, n: n >= 2)  # down for good after the first site
    caplog.set_level(logging.INFO, logger="planner.tasks")

    result = tasks._queue_sites([11, 12, 13], DAY, queue=None)

    assert result == {"day": DAY, "queued": [11], "failed": [12, 13]}
    assert clock.sleeps == [1.0, 2.0, 4.0, 3.0]  # the last wait is cut to the bound
    assert sum(clock.sleeps) == 10
    assert set(broker.tried) == {11, 12}  # site 13 was never tried: the outage is one wait, not one per site
    assert "broker still unreachable after 10 s, gave up on site(s) [12, 13]" in caplog.text
    assert "manage.py capacity_report --day 2026-05-04" in caplog.text
    assert f"nightly capacity reports for {DAY}: 1 site(s) queued, 2 not queued (4 broker retries)" in caplog.text


def test_a_site_that_cannot_be_published_for_another_reason_fails_alone(monkeypatch, clock, caplog):
    published = []

    def apply_async(args, **options):
        if args[0] == 12:
            raise TypeError("Object of type Decimal is not JSON serializable")
        published.append(args[0])

    monkeypatch.setattr(tasks.site_capacity_report, "apply_async", apply_async)
    result = tasks._queue_sites([11, 12, 13], DAY, queue=None)
    assert result == {"day": DAY, "queued": [11, 13], "failed": [12]}
    assert clock.sleeps == []
    assert "site 12 could not be queued" in caplog.text


@pytest.mark.django_db
def test_the_task_publishes_when_a_broker_is_configured(monkeypatch, clock, with_broker):
    sites = [f.SiteFactory(), f.SiteFactory()]
    broker = _broker(monkeypatch, clock, lambda c, n: n == 1)
    result = tasks.nightly_capacity_reports(DAY)
    assert result == {"day": DAY, "queued": [s.id for s in sites], "failed": []}
    assert [args for args, _ in broker.published] == [(s.id, DAY) for s in sites]


def test_report_tasks_are_acknowledged_late_and_rejected_back_when_their_process_dies():
    for task in (tasks.site_capacity_report, tasks.nightly_capacity_reports):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is False
    site = tasks.site_capacity_report
    assert site.max_retries == 5 and site.retry_backoff is True and site.retry_jitter is True


def test_the_visibility_timeout_outlasts_every_unacknowledged_message():
    """Redis must not hand a healthy, still running (or waiting for its retry countdown) task to a second
    worker: the timeout exceeds the longest such time of every task, computed here from the tasks themselves."""
    site = tasks.site_capacity_report
    longest_s = max(
        site.time_limit + site.retry_backoff_max,
        tasks.nightly_capacity_reports.time_limit,
        app.conf.task_time_limit,
    )
    options = app.conf.broker_transport_options
    assert options["visibility_timeout"] == django_settings.CELERY_VISIBILITY_TIMEOUT
    assert longest_s < options["visibility_timeout"] < 3600  # kombu's default would wait an hour
    # Expired messages are looked for often enough: at least ten sweeps per timeout, each one scanning.
    assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] * 10 <= max(
        options["visibility_timeout"], 10
    )
    # The fan-out's own bound fits in its time limits.
    assert tasks.nightly_capacity_reports.soft_time_limit > django_settings.NIGHTLY_FANOUT_RETRY_SECONDS
    assert site.soft_time_limit < site.time_limit
