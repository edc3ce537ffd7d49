"""Nightly capacity report tasks.

``nightly_capacity_reports`` (scheduled by beat, see ``CELERY_BEAT_SCHEDULE``) fans out one
``site_capacity_report`` per site, so several workers share the work and one failing site never stops the
others. Each site task takes ids only, calls one service (``reports.report_build``) and is idempotent: a
rerun, a retry or a redelivery replaces the day's report (one row per site and day, unique in the
database), so running it twice is harmless and losing it is not.

What keeps a report from being lost (README, "Reliability of nightly reports"):

- a lost database or broker connection inside a report: retried with exponential backoff, 5 times;
- the process running a report killed (SIGKILL, OOM): the message is acknowledged late and rejected back
  onto the queue when its process dies (``task_reject_on_worker_lost``), so another process runs it;
- a whole worker killed: Redis hands the unacknowledged message to another worker once the visibility
  timeout (``CELERY_VISIBILITY_TIMEOUT``) has passed;
- the broker down during the fan-out: the fan-out waits and retries, with backoff, for up to
  ``NIGHTLY_FANOUT_RETRY_SECONDS``, and queues the sites left as soon as the broker is back.

Without a broker (``CELERY_BROKER_URL`` unset) tasks run eagerly, in this process: the fan-out then catches
and logs each site's failure itself.
"""

from __future__ import annotations

import logging
import socket
import time

import kombu.exceptions
import redis.exceptions
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from planner import reports
from racks.models import Site

logger = logging.getLogger(__name__)

# Transient failures worth a retry: the database or the broker went away for a moment.
RETRY_ON = (
    OperationalError,
    InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)
# What a publish raises when the broker cannot be reached (kombu wraps most transport errors in its own
# OperationalError; the rest are the socket's).
BROKER_UNREACHABLE = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    socket.timeout,
)
SITE_TIME_LIMIT = settings.REPORT_TIME_LIMIT_S
SITE_SOFT_TIME_LIMIT = max(SITE_TIME_LIMIT - 60, SITE_TIME_LIMIT * 9 // 10)
SITE_MAX_RETRIES = 5
# First wait of the fan-out after a failed publish, doubled after each failure up to the maximum (s).
FANOUT_RETRY_FIRST_S = 1.0
FANOUT_RETRY_MAX_S = 30.0


@shared_task(
    bind=True,
    name="planner.tasks.site_capacity_report",
    autoretry_for=RETRY_ON,
    retry_backoff=True,
    retry_backoff_max=settings.REPORT_RETRY_BACKOFF_MAX_S,
    retry_jitter=True,
    max_retries=SITE_MAX_RETRIES,
    soft_time_limit=SITE_SOFT_TIME_LIMIT,
    time_limit=SITE_TIME_LIMIT,
    acks_late=True,
    reject_on_worker_lost=True,
)
def site_capacity_report(self, site_id: int, day_iso: str) -> dict | None:
    """Build (or rebuild) the report of one site for one day. Returns a small digest, None if the site is gone."""
    try:
        report = reports.report_build(int(site_id), reports.as_day(day_iso))
    except Site.DoesNotExist:
        logger.warning("capacity report: site %s no longer exists, skipped", site_id)
        return None
    except SoftTimeLimitExceeded:
        logger.error("capacity report for site %s on %s hit the soft time limit", site_id, day_iso)
        raise
    return {
        "site": report.site_id,
        "day": report.day.isoformat(),
        "report": report.pk,
        "racks": report.rack_count,
        "nodes": report.node_count,
    }


@shared_task(
    bind=True,
    name="planner.tasks.nightly_capacity_reports",
    soft_time_limit=settings.NIGHTLY_FANOUT_TIME_LIMIT_S - 60,
    time_limit=settings.NIGHTLY_FANOUT_TIME_LIMIT_S,
    acks_late=True,
    reject_on_worker_lost=True,
)
def nightly_capacity_reports(self, day_iso: str | None = None) -> dict:
    """Queue one ``site_capacity_report`` per site for ``day_iso`` (default: today).

    Site tasks go to the queue this task was delivered on (the default queue when run by beat or eagerly),
    so a worker dedicated to a queue gets the whole run. Returns the day and the site ids queued (or, run
    eagerly, built) and failed (not queued: the broker stayed unreachable; eagerly: the build failed).
    """
    day_iso = reports.as_day(day_iso).isoformat()
    site_ids = list(Site.objects.order_by("id").values_list("id", flat=True))
    if self.request.is_eager or self.app.conf.task_always_eager:
        return _build_in_process(site_ids, day_iso)
    delivery = getattr(self.request, "delivery_info", None) or {}
    return _queue_sites(site_ids, day_iso, queue=delivery.get("routing_key"))


def _build_in_process(site_ids: list[int], day_iso: str) -> dict:
    """No broker: each site's task runs here, and its error (after its own retries) is that site's failure."""
    done, failed = [], []
    for site_id in site_ids:
        try:
            site_capacity_report.delay(site_id, day_iso)
            done.append(site_id)
        except Exception:
            logger.exception("capacity report for site %s on %s failed", site_id, day_iso)
            failed.append(site_id)
    logger.info("nightly capacity reports for %s: %d site(s) done, %d failed", day_iso, len(done), len(failed))
    return {"day": day_iso, "queued": done, "failed": failed}


def _queue_sites(site_ids: list[int], day_iso: str, *, queue: str | None) -> dict:
    """Publish every site's task; while the broker is unreachable, wait (backoff) and resume where it stopped.

    One outage costs one failed publish and one wait per attempt, not one per site: after a failure no
    other site is tried until the wait is over. Gives up ``NIGHTLY_FANOUT_RETRY_SECONDS`` after the first
    failure; the sites left, and any site whose publish failed otherwise, are logged and returned as failed.
    """
    bound_s = float(settings.NIGHTLY_FANOUT_RETRY_SECONDS)
    options = {"queue": queue} if queue else {}
    queued: list[int] = []
    failed: list[int] = []
    pending = list(site_ids)
    attempt, wait_s, first_failure, down_since = 0, FANOUT_RETRY_FIRST_S, None, None
    while pending:
        try:
            # ignore_result: nothing waits on a site's result, so no result-backend subscription is made
            # at publish time. Outside a worker that subscription is what fails for ~20 s per task with
            # the Redis server down and logs Celery's "The Celery application must be restarted".
            site_capacity_report.apply_async((pending[0], day_iso), ignore_result=True, **options)
        except BROKER_UNREACHABLE as exc:
            now = time.monotonic()
            first_failure = now if first_failure is None else first_failure
            down_since = now if down_since is None else down_since
            left_s = bound_s - (now - first_failure)
            if left_s <= 0:
                break
            attempt += 1
            pause_s = min(wait_s, left_s)
            logger.warning(
                "nightly capacity reports for %s: broker unreachable (%s: %s); %d of %d site(s) not queued yet, "
                "retry %d in %.1f s (giving up in %.0f s)",
                day_iso, type(exc).__name__, exc, len(pending), len(site_ids), attempt, pause_s, left_s,
            )  # fmt: skip
            time.sleep(pause_s)
            wait_s = min(wait_s * 2, FANOUT_RETRY_MAX_S)
            continue
        except Exception:
            # Not the broker (e.g. an argument that cannot be serialised): that site fails, the others go on.
            logger.exception("nightly capacity reports for %s: site %s could not be queued", day_iso, pending[0])
            failed.append(pending.pop(0))
            continue
        queued.append(pending.pop(0))
        if down_since is not None:
            logger.info(
                "nightly capacity reports for %s: broker reachable again after %.1f s, queuing the %d site(s) left",
                day_iso, time.monotonic() - down_since, len(pending) + 1,
            )  # fmt: skip
            down_since, wait_s = None, FANOUT_RETRY_FIRST_S
    if pending:
        logger.error(
            "nightly capacity reports for %s: broker still unreachable after %.0f s, gave up on site(s) %s; "
            "rebuild them with: manage.py capacity_report --day %s [--site SLUG]",
            day_iso, bound_s, pending, day_iso,
        )  # fmt: skip
    failed += pending
    logger.info(
        "nightly capacity reports for %s: %d site(s) queued, %d not queued (%d broker retries)",
        day_iso, len(queued), len(failed), attempt,
    )  # fmt: skip
    return {"day": day_iso, "queued": queued, "failed": failed}


# --- Site import jobs ---------------------------------------------------------------------------------------

IMPORT_MAX_RETRIES = 5


# Both import jobs retry alike: late ack with reject-on-worker-lost, so a worker lost mid-import leaves the
# message to be delivered again; the import's transaction died with the worker, so the rerun starts from nothing.
IMPORT_TASK_OPTIONS = {
    "bind": True,
    "autoretry_for": RETRY_ON,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": IMPORT_MAX_RETRIES,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


def _run_import_job(task, run, job_id, what: str):
    """Call ``run(job_id=...)``; after the last retry of a transient failure the job is marked failed."""
    from planner import import_jobs

    try:
        job = run(job_id=int(job_id))
    except RETRY_ON:
        if task.request.retries >= IMPORT_MAX_RETRIES:
            import_jobs.fail_after_retries(job_id=int(job_id))
        raise
    if job is None:
        logger.warning("%s import job %s no longer exists, skipped", what, job_id)
    return job


@shared_task(name="planner.tasks.site_import_job", **IMPORT_TASK_OPTIONS)
def site_import_job(self, job_id: int) -> dict | None:
    """Run one site import job (``planner.import_jobs.import_job_run``); a rerun of a finished job does nothing."""
    from planner import import_jobs

    job = _run_import_job(self, import_jobs.import_job_run, job_id, "site")
    return None if job is None else {"job": job.pk, "status": job.status, "site": job.site_id}


@shared_task(name="planner.tasks.netbox_import_job", **IMPORT_TASK_OPTIONS)
def netbox_import_job(self, job_id: int) -> dict | None:
    """Run one NetBox import job (``planner.import_jobs.netbox_job_run``); a rerun of a finished job does nothing.

    Takes the job id only: the NetBox token stays sealed on the job row, never in the broker's message.
    """
    from planner import import_jobs

    job = _run_import_job(self, import_jobs.netbox_job_run, job_id, "netbox")
    return None if job is None else {"job": job.pk, "status": job.status}
