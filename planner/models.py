"""Nightly capacity reports, kept as history so run-out dates can be forecast."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from racks.models import Site


class CapacityReport(models.Model):
    """One report per site and day; a rerun on the same day replaces it (unique site + day)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="capacity_reports")
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    it_load_kw = models.FloatField(default=0.0)
    power_capacity_kw = models.FloatField(null=True, blank=True)
    air_heat_kw = models.FloatField(default=0.0)
    liquid_heat_kw = models.FloatField(default=0.0)
    rack_count = models.PositiveIntegerField(default=0)
    node_count = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict, help_text="Full snapshot: headroom, changes, forecast, risks.")
    summary = models.JSONField(
        default=dict,
        blank=True,
        help_text="Small digest: per-dimension totals (history for the forecast), run-out days, risk counts.",
    )

    class Meta:
        ordering = ["-day", "site_id"]
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="planner_report_one_per_site_day")]
        indexes = [models.Index(fields=["site", "-day"], name="planner_report_site_day")]

    def __str__(self) -> str:
        return f"{self.site} {self.day}"


class ImportJob(models.Model):
    """A site import run in the background (``POST /api/v1/sites/import/``), from queued to its result.

    ``document`` keeps the uploaded export document (zlib-compressed JSON, checked against ``document_sha256``)
    so a retried task re-runs exactly what was uploaded; it is never served back. Progress (``done`` of
    ``total`` in ``phase``) is written while the import runs from outside the import's own transaction
    (:mod:`planner.import_jobs`); ``result`` and ``errors`` are set once, when the job finishes.
    """

    class Kind(models.TextChoices):
        SITE = "site", "Site import"
        NETBOX = "netbox", "NetBox import"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SITE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker started the job (retries count).")
    options = models.JSONField(default=dict, blank=True, help_text="Import options: name, slug, as_is.")
    document = models.BinaryField(editable=False, help_text="The uploaded document, zlib-compressed JSON.")
    document_sha256 = models.CharField(max_length=64, editable=False)
    secret = models.TextField(
        blank=True,
        default="",
        editable=False,
        help_text="NetBox jobs: the API token, Fernet-encrypted with a key derived from SECRET_KEY; wiped when the "
        "job finishes. Never served.",
    )
    document_bytes = models.PositiveBigIntegerField(default=0, help_text="Size of the uploaded document (bytes).")
    phase = models.CharField(max_length=40, blank=True, default="")
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs")
    result = models.JSONField(default=dict, blank=True, help_text="On success: site, counts, created node models.")
    errors = models.JSONField(
        default=dict, blank=True, help_text="On failure: detail, path and errors, as the synchronous import gave them."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="planner_importjob_user_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} ({self.status})"


class Reservation(models.Model):
    """What a committed feasibility plan holds: planned nodes, installed or released together as a set.

    ``idempotency_key`` (the ``Idempotency-Key`` header, per user): a retry within
    ``IDEMPOTENCY_WINDOW`` returns this reservation instead of reserving again; the unique constraint makes two
    parallel identical commits reserve once.
    """

    class Status(models.TextChoices):
        HELD = "held", "held"
        INSTALLED = "installed", "installed"
        RELEASED = "released", "released"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="reservations")
    model = models.ForeignKey("racks.NodeModel", on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField(help_text="Units reserved (placed), not the units requested.")
    requested = models.PositiveIntegerField(default=0, help_text="Units the order asked for.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    nodes = models.ManyToManyField("racks.Node", related_name="reservations", blank=True)
    created_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="reservations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    node_ids = models.JSONField(
        default=list,
        blank=True,
        help_text="Ids of the nodes it reserved: their audit trail stays readable after a release deletes them.",
    )
    history = HistoricalRecords(excluded_fields=["idempotency_key"])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="planner_reservation_one_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"Reservation {self.pk}: {self.quantity} x {self.model_id} at {self.site_id} ({self.status})"
