"""Cooling loops: room air handlers, close-coupled units, rear doors, direct-liquid CDU loops, immersion."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.signals import m2m_changed, pre_save
from simple_history.models import HistoricalRecords

from racks.models import (
    MAX_NAMED,
    Rack,
    Room,
    Site,
    _guard,
    _listing,
    _out_of_scope,
    _raise,
    lock_sites,
    non_negative,
    positive,
    unique_ci,
)


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
    unit_airflow_cfm = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.001)],
        help_text="Air-side units: air one unit delivers, CFM; empty = unknown (airflow not checked).",
    )
    approach_c = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0)],
        help_text="Direct-liquid and immersion loops: CDU approach, K (node supply = facility supply + approach); "
        "empty = not given.",
    )
    racks = models.ManyToManyField(
        Rack, blank=True, related_name="cooling_loops", help_text="Racks served; none = the whole room."
    )
    history = HistoricalRecords(m2m_fields=[racks])  # which racks a loop serves is audited too

    class Meta:
        ordering = ["site_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="cooling_loop_unique_name_per_site"),
            unique_ci("name", parent="site", what="cooling loop", within="site"),
            non_negative("unit_capacity_kw"),
            positive("units"),
            non_negative("redundant_units"),
            models.CheckConstraint(condition=Q(redundant_units__lt=F("units")), name="cooling_loop_redundant_lt_units"),
            positive("delta_t_c"),
            non_negative("max_flow_lpm"),
            positive("unit_airflow_cfm"),
            non_negative("approach_c"),
        ]

    # The racks a form or serializer is about to give the loop (ids), when it replaces them: ``clean()`` and the
    # write-time guard then check those instead of the stored ones. Not a field; cleared once the loop is saved.
    pending_rack_ids: list[int] | None = None

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = self.design_errors()
        if self.approach_c is not None and self.kind not in self.LIQUID_KINDS:
            errors["approach_c"] = [
                "A CDU approach applies to direct_liquid and immersion loops only; leave it empty for air-side units."
            ]
        _raise({**self.scope_errors(), **errors})

    def design_errors(self) -> dict[str, list[str]]:
        """Units, redundancy, kind and fluid agree (no query)."""
        errors: dict[str, list[str]] = {}
        units, redundant = self.units or 1, self.redundant_units or 0
        if redundant >= units:
            errors["redundant_units"] = [f"Must be fewer than units ({units}): at least one unit has to carry load."]
        if self.kind in self.LIQUID_KINDS and self.fluid == self.Fluid.AIR:
            errors["fluid"] = ["A liquid loop needs a liquid fluid (water or pg25)."]
        if self.kind == self.Kind.CRAH and self.fluid not in (None, self.Fluid.AIR, self.Fluid.WATER):
            errors["fluid"] = ["Room air handlers move air (chilled water coils count as water)."]
        return errors

    def scope_errors(self, *, lock: bool = False) -> dict[str, list[str]]:
        """The loop's room is of its site; its racks (``pending_rack_ids``, else the stored ones) are in its room,
        or its site when it has no room. So changing the site or room while it lists racks outside the new scope
        is refused. Three queries at most (four locked)."""
        if self.site_id is None:
            return {}
        if lock:
            condition = Q(pk=self.site_id) | Q(rooms__id=self.room_id)
            if self.pk is not None:
                condition |= Q(cooling_loops__id=self.pk)
            lock_sites(condition)
        errors: dict[str, list[str]] = {}
        site = Site.objects.filter(pk=self.site_id).values_list("name", flat=True).first()
        room = None
        if self.room_id is not None:
            room = Room.objects.filter(pk=self.room_id).values_list("name", "site_id", "site__name").first()
            if room is not None and room[1] != self.site_id:
                errors["room"] = [
                    f'Room "{room[0]}" is in site "{room[2]}", not in the loop\'s site "{site}": a loop cools a room '
                    "of its own site."
                ]
        if self.pending_rack_ids is not None:
            racks = Rack.objects.filter(pk__in=self.pending_rack_ids)
        elif self.pk is not None:
            racks = Rack.objects.filter(cooling_loops=self.pk)
        else:
            racks = Rack.objects.none()
        scope = Q(row__room_id=self.room_id) if self.room_id is not None else Q(row__room__site_id=self.site_id)
        outside = [
            f'rack "{rack}" (room "{rack_room}", site "{rack_site}")'
            for rack, rack_room, rack_site in racks.exclude(scope)
            .values_list("name", "row__room__name", "row__room__site__name")
            .order_by("name")[: MAX_NAMED + 1]
        ]
        if outside:
            where = f'room "{room[0]}" of site "{site}"' if room is not None else f'site "{site}"'
            errors["racks"] = [
                f'Cooling loop "{self}" can serve only racks of its {where}, not {_listing(outside)}. '
                "Remove those racks from the loop first, or choose them from its own room or site."
            ]
        return errors


def _guard_links(sender, instance, action, reverse, pk_set, **kwargs):
    """A rack linked to a loop (either side: ``loop.racks.add``, ``rack.cooling_loops.add``) is in the loop's room,
    or its site when it has none. Checked with the sites locked, before the link is written; one query."""
    if action != "pre_add" or not pk_set:
        return
    if reverse:  # instance is a rack, pk_set the loops
        lock_sites(Q(rooms__rows__racks__id=instance.pk) | Q(cooling_loops__id__in=pk_set))
        place = Rack.objects.filter(pk=instance.pk).values_list("row__room_id", "row__room__site_id").first()
        if place is None:
            return
        room_id, site_id = place
        wrong = [
            f'cooling loop "{loop}" (site "{loop_site}"' + (f', room "{loop_room}")' if loop_room else ")")
            for loop, loop_site, loop_room in CoolingLoop.objects.filter(pk__in=pk_set)
            .filter(_out_of_scope(site_id, room_id))
            .values_list("name", "site__name", "room__name")
            .order_by("name")[: MAX_NAMED + 1]
        ]
        if wrong:
            raise ValidationError(
                {"cooling_loops": [f'Rack "{instance}" cannot be served by {_listing(wrong)}: not its room or site.']}
            )
        return
    lock_sites(Q(pk=instance.site_id) | Q(rooms__rows__racks__id__in=pk_set))
    linked = CoolingLoop(pk=instance.pk, site_id=instance.site_id, room_id=instance.room_id, name=instance.name)
    linked.pending_rack_ids = sorted(pk_set)
    _raise({key: value for key, value in linked.scope_errors().items() if key == "racks"})


def _guard_loop(sender, instance, raw=False, **kwargs):
    try:
        _guard(sender, instance, raw=raw, **kwargs)
    finally:
        instance.pending_rack_ids = None  # used once: the racks are linked right after the save


pre_save.connect(_guard_loop, sender=CoolingLoop, dispatch_uid="scope_guard_CoolingLoop")
m2m_changed.connect(_guard_links, sender=CoolingLoop.racks.through, dispatch_uid="scope_guard_loop_racks")
