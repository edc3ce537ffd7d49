"""Cooling loops: room air handlers, close-coupled units, rear doors, direct-liquid CDU loops, immersion."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from racks.models import Rack, Room, Site, non_negative, positive


class CoolingLoop(models.Model):
    class Kind(models.TextChoices):
        CRAH = "crah", "CRAH / CRAC (room air)"
        IN_ROW = "in_row", "In-row cooler"
        REAR_DOOR = "rear_door", "Rear-door heat exchanger"
        DIRECT_LIQUID = "direct_liquid", "Direct-to-chip liquid (CDU)"
        IMMERSION = "immersion", "Immersion"

    class Fluid(models.TextChoices):
        AIR = "air", "Air"
        WATER = "water", "Water"
        PG25 = "pg25", "25 % propylene glycol"

    AIR_SIDE_KINDS = (Kind.CRAH, Kind.IN_ROW, Kind.REAR_DOOR)
    LIQUID_KINDS = (Kind.DIRECT_LIQUID, Kind.IMMERSION)

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="cooling_loops")
    room = models.ForeignKey(
        Room,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cooling_loops",
        help_text="Empty: the loop serves the whole site.",
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    unit_capacity_kw = models.FloatField(validators=[MinValueValidator(0.0)], help_text="Capacity of one unit, kW.")
    units = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    redundant_units = models.PositiveIntegerField(default=0, help_text="Units held in reserve (N+1 -> 1).")
    supply_temp_c = models.FloatField(
        validators=[MinValueValidator(-20), MaxValueValidator(90)], help_text="Supply temperature, °C."
    )
    delta_t_c = models.FloatField(
        default=10.0, validators=[MinValueValidator(0.1), MaxValueValidator(60)], help_text="Design ΔT, K."
    )
    fluid = models.CharField(max_length=6, choices=Fluid.choices, default=Fluid.WATER)
    max_flow_lpm = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0)], help_text="Maximum flow, L/min; empty = unknown."
    )
    racks = models.ManyToManyField(
        Rack, blank=True, related_name="cooling_loops", help_text="Racks served; none = the whole room."
    )
    history = HistoricalRecords(m2m_fields=[racks])  # which racks a loop serves is audited too

    class Meta:
        ordering = ["site_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="cooling_loop_unique_name_per_site"),
            non_negative("unit_capacity_kw"),
            positive("units"),
            non_negative("redundant_units"),
            models.CheckConstraint(condition=Q(redundant_units__lt=F("units")), name="cooling_loop_redundant_lt_units"),
            positive("delta_t_c"),
            non_negative("max_flow_lpm"),
        ]

    def __str__(self) -> str:
        return self.name
