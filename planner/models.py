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
