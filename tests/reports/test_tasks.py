"""Celery tasks in eager mode and the management command: fan-out, isolation of failures, retries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from planner import reports, tasks
from planner.models import CapacityReport
from tests import factories as f
from tests.reports.conftest import DAY


@pytest.fixture
def three_sites(small_site):
    others = []
    for i in range(2):
        rack = f.RackFactory(row__room__site=f.SiteFactory(name=f"Other {i}", slug=f"other-{i}"))
        f.PduFactory(rack=rack, side="A")
        f.PduFactory(rack=rack, side="B")
        f.NodeFactory(rack=rack)
        others.append(rack.row.room.site)
    return [small_site.site, *others]


def test_nightly_builds_one_report_per_site(three_sites):
    result = tasks.nightly_capacity_reports.delay(DAY.isoformat()).get()
    assert result == {"day": DAY.isoformat(), "queued": [s.id for s in three_sites], "failed": []}
    assert sorted(CapacityReport.objects.filter(day=DAY).values_list("site_id", flat=True)) == sorted(
        s.id for s in three_sites
    )
    # Rerun: same count.
    tasks.nightly_capacity_reports.delay(DAY.isoformat())
    assert CapacityReport.objects.count() == 3


def test_nightly_defaults_to_today(three_sites):
    from django.utils import timezone

    tasks.nightly_capacity_reports()
    assert set(CapacityReport.objects.values_list("day", flat=True)) == {timezone.localdate()}


def test_one_failing_site_does_not_stop_the_others(three_sites, monkeypatch, caplog):
    broken = three_sites[1]
    real = reports.report_build

    def build(site_id, day, **kwargs):
        if site_id == broken.id:
            raise RuntimeError("boom")
        return real(site_id, day, **kwargs)

    monkeypatch.setattr(reports, "report_build", build)
    result = tasks.nightly_capacity_reports(DAY.isoformat())
    assert result["failed"] == [broken.id]
    assert sorted(CapacityReport.objects.values_list("site_id", flat=True)) == sorted(
        [three_sites[0].id, three_sites[2].id]
    )
    assert "boom" in caplog.text


def test_site_task_retries_lost_database_connections(small_site, monkeypatch):
    calls = []
    real = reports.report_build

    def flaky(site_id, day, **kwargs):
        calls.append(site_id)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(site_id, day, **kwargs)

    monkeypatch.setattr(reports, "report_build", flaky)
    # throw=False: the first failure becomes a retry, which eager mode runs at once (no backoff wait).
    result = tasks.site_capacity_report.apply((small_site.site.id, DAY.isoformat()), throw=False).get()
    assert len(calls) == 2
    assert result["report"] == CapacityReport.objects.get().pk
    assert result["nodes"] == 4


def test_site_task_options():
    task = tasks.site_capacity_report
    assert task.name == "planner.tasks.site_capacity_report"
    assert OperationalError in task.autoretry_for
    assert task.retry_backoff is True
    assert task.max_retries == 5
    assert task.soft_time_limit < task.time_limit
    assert tasks.nightly_capacity_reports.name == "planner.tasks.nightly_capacity_reports"


def test_site_task_for_a_deleted_site_is_a_no_op(db):
    assert tasks.site_capacity_report.delay(987_654, DAY.isoformat()).get() is None
    assert CapacityReport.objects.count() == 0


def test_command_builds_every_site_and_prints_a_summary(three_sites, capsys):
    call_command("capacity_report", "--day", DAY.isoformat(), "--no-email")
    out = capsys.readouterr().out
    assert "3 report(s) built, 0 failed" in out
    assert "small 2026-03-10: report" in out and "4 nodes" in out
    assert CapacityReport.objects.filter(day=DAY).count() == 3


def test_command_one_site_and_rerun(three_sites, capsys):
    call_command("capacity_report", "--site", "small", "--day", DAY.isoformat())
    call_command("capacity_report", "--site", "small", "--day", DAY.isoformat())
    assert CapacityReport.objects.count() == 1
    call_command("capacity_report", "--site", "small", "--day", (DAY + timedelta(days=1)).isoformat())
    assert CapacityReport.objects.count() == 2


def test_command_reports_failures_and_keeps_going(three_sites, monkeypatch, capsys):
    real = reports.report_build

    def build(site_id, day, **kwargs):
        if site_id == three_sites[0].id:
            raise RuntimeError("boom")
        return real(site_id, day, **kwargs)

    monkeypatch.setattr(reports, "report_build", build)
    with pytest.raises(CommandError, match="2 report\\(s\\) built, 1 failed"):
        call_command("capacity_report", "--day", DAY.isoformat())
    assert "small: FAILED RuntimeError: boom" in capsys.readouterr().err
    assert CapacityReport.objects.count() == 2


@pytest.mark.parametrize("args, message", [(["--site", "nope"], "No site"), (["--day", "10/03/2026"], "YYYY-MM-DD")])
def test_command_rejects_bad_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("capacity_report", *args)
