"""Nightly capacity report tasks.

``nightly_capacity_reports`` (scheduled by beat, see ``CELERY_BEAT_SCHEDULE``) fans out one
``site_capacity_report`` per site, so several workers share the work and one failing site never stops the
others. Each site task takes ids only, calls one service (``reports.report_build``) and is idempotent: a
rerun replaces the day's report. Lost database or broker connections are retried with exponential backoff.

Without a broker (``CELERY_BROKER_URL`` unset) tasks run eagerly, in this process: the fan-out then catches
and logs each site's failure itself.
"""

from __future__ import annotations

import logging

import kombu.exceptions
import redis.exceptions
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
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
SITE_SOFT_TIME_LIMIT = 540
SITE_TIME_LIMIT = 600


@shared_task(
    bind=True,
    name="planner.tasks.site_capacity_report",
    autoretry_for=RETRY_ON,
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=SITE_SOFT_TIME_LIMIT,
    time_limit=SITE_TIME_LIMIT,
    acks_late=True,
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


@shared_task(bind=True, name="planner.tasks.nightly_capacity_reports", soft_time_limit=120, time_limit=180)
def nightly_capacity_reports(self, day_iso: str | None = None) -> dict:
    """Queue one ``site_capacity_report`` per site for ``day_iso`` (default: today).

    Site tasks go to the queue this task was delivered on (the default queue when run by beat or eagerly),
    so a worker dedicated to a queue gets the whole run.
    """
    day_iso = reports.as_day(day_iso).isoformat()
    delivery = getattr(self.request, "delivery_info", None) or {}
    queue = None if self.request.is_eager else delivery.get("routing_key")
    queued, failed = [], []
    for site_id in Site.objects.order_by("id").values_list("id", flat=True):
        try:
            if queue:
                site_capacity_report.apply_async((site_id, day_iso), queue=queue)
            else:
                site_capacity_report.delay(site_id, day_iso)
            queued.append(site_id)
        except Exception:
            # Eager mode runs the site here and propagates its error; with a broker, only publishing can fail.
            logger.exception("capacity report for site %s on %s failed", site_id, day_iso)
            failed.append(site_id)
    logger.info(
        "nightly capacity reports for %s: %d site(s) done or queued, %d failed", day_iso, len(queued), len(failed)
    )
    return {"day": day_iso, "queued": queued, "failed": failed}


# --- Site import jobs ---------------------------------------------------------------------------------------

IMPORT_MAX_RETRIES = 5


@shared_task(
    bind=True,
    name="planner.tasks.site_import_job",
    autoretry_for=RETRY_ON,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=IMPORT_MAX_RETRIES,
    acks_late=True,
    reject_on_worker_lost=True,
)
def site_import_job(self, job_id: int) -> dict | None:
    """Run one site import job (``planner.import_jobs.import_job_run``); a rerun of a finished job does nothing.

    Late ack with reject-on-worker-lost: a worker lost mid-import leaves the message to be delivered again,
    and the import's transaction died with the worker, so the rerun starts from nothing.
    """
    from planner import import_jobs

    try:
        job = import_jobs.import_job_run(job_id=int(job_id))
    except RETRY_ON:
        if self.request.retries >= IMPORT_MAX_RETRIES:
            import_jobs.fail_after_retries(job_id=int(job_id))
        raise
    if job is None:
        logger.warning("site import job %s no longer exists, skipped", job_id)
        return None
    return {"job": job.pk, "status": job.status, "site": job.site_id}
