"""Nightly capacity reports, kept as history so run-out dates can be forecast."""

from __future__ import annotations

from django.db import models

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
