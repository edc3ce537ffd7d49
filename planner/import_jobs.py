"""Site import as a background job: queue an uploaded export document, run it once, report progress.

``import_job_create`` stores the document with the job and queues ``planner.tasks.site_import_job`` when the
job row commits (a worker never looks for a job that is not there yet). Without a broker the task runs
in-process at that commit, so a request that queues a job answers with it finished.

``import_job_run`` (the task's one service) is idempotent: a job that has succeeded or failed is left as it
is, and success is written in the import's own transaction after locking the job row, so a task delivered
twice (a retry, a redelivery after a lost worker) never imports twice: a second run finds the job succeeded
and rolls its copy back (it would clash with the first site's name anyway).

The import is all or nothing, so while it runs its rows are invisible to everyone else, including its own
progress if that were written in the same transaction. Progress is therefore written from outside it: on
PostgreSQL (any server database) through a second connection to the same database, in autocommit, onto the
job row; on SQLite, whose single writer lock the import holds, into the in-process ``progress`` cache
(settings.CACHES: SQLite runs the tasks in-process, so the process that runs the import is the one that
answers).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
import types
import zlib

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords

from planner import transfer
from planner.models import ImportJob

logger = logging.getLogger(__name__)

# A site document is larger than an ordinary request: 20 MB by default (the API answers 413 past it).
MAX_DOCUMENT_BYTES = settings.SITE_IMPORT_MAX_BYTES
# Progress is written at most this often (and at each change of phase): enough to watch, cheap to write.
PROGRESS_INTERVAL_S = 0.2
CACHE_TIMEOUT_S = 24 * 3600


class DocumentDamaged(Exception):
    """The stored document does not match its checksum: the job is failed rather than run on other data."""


def encode_document(doc: dict) -> tuple[bytes, str, int]:
    """(zlib-compressed canonical JSON, its SHA-256, size of the JSON in bytes)."""
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    return zlib.compress(raw, 6), hashlib.sha256(raw).hexdigest(), len(raw)


def job_document(job: ImportJob) -> dict:
    """The document stored with the job; raises DocumentDamaged when it is not the one that was uploaded."""
    try:
        raw = zlib.decompress(bytes(job.document))
    except zlib.error as exc:
        raise DocumentDamaged(f"cannot decompress: {exc}") from None
    if hashlib.sha256(raw).hexdigest() != job.document_sha256:
        raise DocumentDamaged("checksum mismatch")
    return json.loads(raw)


def import_job_create(*, document: dict, user, name: str | None = None, slug: str | None = None, as_is: bool = False):
    """Store a site import job and queue it when it commits. Returns the job (as queued).

    ``document`` must be a dict (a parsed JSON object); everything else about it is checked by the job.
    """
    from planner import tasks  # tasks import this module

    blob, digest, size = encode_document(document)
    options = {"name": name, "slug": slug, "as_is": bool(as_is)}
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=ImportJob.Kind.SITE,
            created_by=user if getattr(user, "is_authenticated", False) else None,
            options=options,
            document=blob,
            document_sha256=digest,
            document_bytes=size,
        )
        transaction.on_commit(lambda: tasks.site_import_job.delay(job.pk))
    return job


def progress_key(job_id: int) -> str:
    return f"planner:import-job:{job_id}:progress"


def _uses_cache() -> bool:
    return connections[DEFAULT_DB_ALIAS].vendor == "sqlite"


class ProgressWriter:
    """``progress(phase, done, total)`` for ``transfer.import_site``, written outside the import's transaction.

    Throttled to one write per ``PROGRESS_INTERVAL_S`` within a phase. A failed progress write is logged and
    never stops the import: progress is a courtesy, the result is what counts.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.phase: str | None = None
        self.last_s = 0.0
        self.connection = None
        self.total = 0  # the import's total work units, once it has said

    def __call__(self, phase: str, done: int, total: int) -> None:
        self.total = total
        now_s = time.monotonic()
        if phase == self.phase and now_s - self.last_s < PROGRESS_INTERVAL_S and done < total:
            return
        self.phase, self.last_s = phase, now_s
        if _uses_cache():
            figures = {"phase": phase, "done": done, "total": total}
            caches["progress"].set(progress_key(self.job_id), figures, CACHE_TIMEOUT_S)
            return
        try:
            if self.connection is None:
                # A connection of its own (not the thread's): autocommit, outside the import's transaction.
                self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET phase = %s, done = %s, total = %s "
                    "WHERE id = %s AND status = %s",
                    [phase, done, total, self.job_id, ImportJob.Status.RUNNING],
                )
        except DatabaseError:
            logger.warning("import job %s: progress not written", self.job_id, exc_info=True)
            self.close()

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(DatabaseError):
                self.connection.close()
            self.connection = None


def job_progress(job: ImportJob) -> dict:
    """{phase, done, total} of a job: the cache's newer figures while a job runs on SQLite, else the row's."""
    if job.status == ImportJob.Status.RUNNING and _uses_cache():
        cached = caches["progress"].get(progress_key(job.pk))
        if cached:
            return cached
    return {"phase": job.phase, "done": job.done, "total": job.total}


def _fail(job_id: int, payload: dict) -> None:
    """Record a failure (and wipe a NetBox job's token), unless another run has succeeded meanwhile."""
    ImportJob.objects.filter(pk=job_id).exclude(status=ImportJob.Status.SUCCEEDED).update(
        status=ImportJob.Status.FAILED, errors=payload, finished_at=timezone.now(), secret=""
    )


class _AlreadyDone(Exception):
    pass


class _history_user:
    """Audit-history rows written during the import name the job's creator (a worker has no request)."""

    def __init__(self, user):
        self.user = user

    def __enter__(self):
        self.previous = getattr(HistoricalRecords.context, "request", None)
        if self.user is not None and self.previous is None:
            HistoricalRecords.context.request = types.SimpleNamespace(user=self.user)

    def __exit__(self, *exc):
        if self.previous is None and hasattr(HistoricalRecords.context, "request"):
            del HistoricalRecords.context.request


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued (or interrupted) import job once. Returns the job, None if it does not exist.

    Transient database errors propagate (the task retries them); every other failure is recorded on the job.
    """
    with transaction.atomic():
        job = ImportJob.objects.select_for_update(of=("self",)).select_related("created_by").filter(pk=job_id).first()
        if job is None:
            return None
        if job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED):
            return job
        job.status, job.started_at, job.attempts = ImportJob.Status.RUNNING, timezone.now(), job.attempts + 1
        job.phase, job.done, job.total = transfer.PHASE_CHECKING, 0, 0
        job.save(update_fields=["status", "started_at", "attempts", "phase", "done", "total"])
    progress = ProgressWriter(job.pk)
    options = job.options or {}
    try:
        doc = job_document(job)
        with _history_user(job.created_by), transaction.atomic():
            result = transfer.import_site(
                doc,
                name=options.get("name"),
                slug=options.get("slug"),
                as_is=bool(options.get("as_is")),
                progress=progress,
                history_user=job.created_by,
            )
            locked = ImportJob.objects.select_for_update().get(pk=job.pk)
            if locked.status == ImportJob.Status.SUCCEEDED:
                raise _AlreadyDone
            site = result.site
            locked.status, locked.finished_at, locked.site = ImportJob.Status.SUCCEEDED, timezone.now(), site
            locked.phase = transfer.PHASE_SAVING
            locked.done = locked.total = progress.total
            locked.result = {
                "site": {"id": site.pk, "name": site.name, "slug": site.slug},
                "counts": result.counts,
                "created_node_models": result.created_models,
                "as_is": bool(options.get("as_is")),
            }
            locked.errors = {}
            locked.save()
    except transfer.ImportFailed as exc:
        _fail(job.pk, exc.payload)
    except _AlreadyDone:
        logger.info("import job %s: already succeeded, this run rolled back", job.pk)
    except DocumentDamaged as exc:
        logger.error("import job %s: stored document damaged (%s)", job.pk, exc)
        _fail(job.pk, {"detail": "The stored document is damaged; upload it again.", "path": "$", "errors": {}})
    except (OperationalError, InterfaceError, ConnectionError, TimeoutError):
        raise  # transient: the task retries, and gives up with fail_after_retries
    except Exception:
        logger.exception("import job %s failed on an internal error", job.pk)
        _fail(
            job.pk,
            {"detail": "The import stopped on an internal error; nothing was imported.", "path": "$", "errors": {}},
        )
    finally:
        progress.close()
        if _uses_cache():
            caches["progress"].delete(progress_key(job.pk))
    return ImportJob.objects.get(pk=job.pk)


def fail_after_retries(*, job_id: int) -> None:
    """The task gave up retrying a transient error: say so on the job instead of leaving it running."""
    _fail(
        job_id,
        {
            "detail": "The import could not reach the database; nothing was imported. Upload it again.",
            "path": "$",
            "errors": {},
        },
    )


def import_jobs_for(user):
    """Jobs ``user`` may see: a superuser every job, anyone else the jobs they created. Without the document."""
    # No join to the site: ``result`` names it, and on SQLite a running import holds the site table's lock.
    jobs = ImportJob.objects.defer("document", "secret").select_related("created_by")
    if getattr(user, "is_superuser", False):
        return jobs
    return jobs.filter(created_by_id=getattr(user, "pk", None) or 0)


# --- NetBox import jobs ---------------------------------------------------------------------------------------
#
# The job needs the caller's NetBox token until a worker has read NetBox, possibly after retries, so it is kept
# with the job, never in clear: Fernet (AES-128-CBC + HMAC-SHA256, the ``cryptography`` package) with a key
# derived from SECRET_KEY. django.core.signing would only sign it (its payload is readable base64). The token
# is wiped when the job finishes, succeeded or failed, and is never in ``options``, the API or the page.
# A job that never runs (no worker ever takes it) keeps its encrypted token until it is deleted.

NETBOX_PROGRESS_UNITS = 100  # the service reports fractions; the job shows them as done of 100


def _fernet():
    import base64

    from cryptography.fernet import Fernet

    digest = hashlib.sha256(b"planner.import_jobs.netbox-token:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal_token(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def open_token(sealed: str) -> str:
    """The token sealed with ``seal_token``; raises ``cryptography.fernet.InvalidToken`` (SECRET_KEY changed)."""
    return _fernet().decrypt(sealed.encode()).decode()


def netbox_job_create(
    *,
    url: str,
    token: str,
    user,
    site_slugs: list[str] | tuple[str, ...] = (),
    dry_run: bool = False,
    row_from: str = "location",
    row_pattern: str | None = None,
    figures: dict | None = None,
    skip_incomplete: bool = False,
):
    """Store a NetBox import job (options in clear, the token sealed) and queue it when it commits.

    ``url`` must already be checked against NETBOX_URLS by the caller (the API serializer, the page form).
    """
    from planner import tasks  # tasks import this module

    options = {
        "url": url,
        "sites": list(site_slugs),
        "dry_run": bool(dry_run),
        "row_from": row_from,
        "row_pattern": row_pattern or None,
        "figures": figures or {},
        "skip_incomplete": bool(skip_incomplete),
    }
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=ImportJob.Kind.NETBOX,
            created_by=user if getattr(user, "is_authenticated", False) else None,
            options=options,
            secret=seal_token(token),
        )
        transaction.on_commit(lambda: tasks.netbox_import_job.delay(job.pk))
    return job


def netbox_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued (or interrupted) NetBox import job once. Returns the job, None if it does not exist.

    As ``import_job_run``: transient database errors propagate (the task retries them), every other failure
    is recorded on the job; success is written in the import's transaction after locking the job row.
    """
    from cryptography.fernet import InvalidToken

    from planner.netbox.client import FetchFailed
    from planner.netbox.mapping import MappingError, RowConfig
    from planner.netbox.service import ImportRefused, netbox_import

    with transaction.atomic():
        job = ImportJob.objects.select_for_update(of=("self",)).select_related("created_by").filter(pk=job_id).first()
        if job is None:
            return None
        if job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED):
            return job
        job.status, job.started_at, job.attempts = ImportJob.Status.RUNNING, timezone.now(), job.attempts + 1
        job.phase, job.done, job.total = "reading NetBox", 0, NETBOX_PROGRESS_UNITS
        job.save(update_fields=["status", "started_at", "attempts", "phase", "done", "total"])
    writer = ProgressWriter(job.pk)

    def progress(message: str, fraction: float) -> None:
        done = max(0, min(NETBOX_PROGRESS_UNITS, round(NETBOX_PROGRESS_UNITS * float(fraction))))
        writer(str(message)[:40], done, NETBOX_PROGRESS_UNITS)

    options = job.options or {}
    try:
        token = open_token(job.secret)
        rows = RowConfig(source=options.get("row_from") or "location", pattern=options.get("row_pattern") or None)
        with _history_user(job.created_by), transaction.atomic():
            summary = netbox_import(
                client_or_url=options["url"],
                token=token,
                site_slugs=options.get("sites") or [],
                dry_run=bool(options.get("dry_run")),
                rows=rows,
                figures=options.get("figures") or None,
                skip_incomplete=bool(options.get("skip_incomplete")),
                progress=progress,
            )
            locked = ImportJob.objects.select_for_update().get(pk=job.pk)
            if locked.status == ImportJob.Status.SUCCEEDED:
                raise _AlreadyDone
            locked.status, locked.finished_at = ImportJob.Status.SUCCEEDED, timezone.now()
            locked.phase, locked.done, locked.total = "done", NETBOX_PROGRESS_UNITS, NETBOX_PROGRESS_UNITS
            locked.result = json.loads(json.dumps(summary.to_dict(), default=str))
            locked.errors, locked.secret = {}, ""
            locked.save()
    except ImportRefused as exc:
        _fail(job.pk, {**exc.payload, "path": "$"})
    except (FetchFailed, MappingError) as exc:
        _fail(job.pk, {"detail": str(exc), "path": "$", "errors": []})
    except InvalidToken:
        _fail(job.pk, {"detail": "The stored token cannot be read (SECRET_KEY changed); queue it again.", "path": "$",
                       "errors": []})  # fmt: skip
    except _AlreadyDone:
        logger.info("netbox import job %s: already succeeded, this run rolled back", job.pk)
    except (OperationalError, InterfaceError, ConnectionError, TimeoutError):
        raise
    except Exception:
        logger.exception("netbox import job %s failed on an internal error", job.pk)
        _fail(job.pk, {"detail": "The import stopped on an internal error; nothing was imported.", "path": "$",
                       "errors": []})  # fmt: skip
    finally:
        writer.close()
        if _uses_cache():
            caches["progress"].delete(progress_key(job.pk))
    return ImportJob.objects.defer("document", "secret").get(pk=job.pk)
