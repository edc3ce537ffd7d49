"""The physical model: sites, rooms, rows, racks, power chain, hardware catalogue and placed nodes.

Models are thin: fields, constraints and choices. Physics lives in ``planner.engine``; queries that feed it
live in ``planner.selectors``; writes that must pass the rules go through ``planner.services``.
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

NON_NEGATIVE = [MinValueValidator(0.0)]


def non_negative(field: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__gte": 0}), name=f"%(app_label)s_%(class)s_{field}_gte_0")


def positive(field: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__gt": 0}), name=f"%(app_label)s_%(class)s_{field}_gt_0")


class Site(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    country = models.CharField(max_length=64, blank=True, default="")
    utility_capacity_kw = models.FloatField(
        null=True, blank=True, validators=NON_NEGATIVE, help_text="Utility feed capacity in kW; empty = unlimited."
    )
    power_derating = models.FloatField(
        default=0.8,
        validators=[MinValueValidator(0.01), MaxValueValidator(1.0)],
        help_text="Share of a breaker's rating usable for continuous load (NEC 210.20(A): 0.8; IEC sites: 1.0).",
    )
    energy_price_per_kwh = models.FloatField(
        null=True, blank=True, validators=NON_NEGATIVE, help_text="Energy price in USD per kWh."
    )
    carbon_kg_per_kwh = models.FloatField(
        null=True, blank=True, validators=NON_NEGATIVE, help_text="Grid carbon intensity in kg CO2 per kWh."
    )
    design_pue = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(1.0)], help_text="Design PUE (>= 1.0)."
    )
    # Changes, in the same transaction, whenever anything that feeds the site's shared budgets changes
    # (planner.budget_tokens); cached budget totals are keyed by it. Not user data: never exported.
    budget_token = models.UUIDField(default=uuid.uuid4, editable=False)
    # Set on objects imported from NetBox (planner.netbox): a re-import matches them by it. Null = ours.
    netbox_id = models.PositiveIntegerField(null=True, blank=True, editable=False, db_index=True)
    netbox_url = models.CharField(max_length=200, blank=True, default="", editable=False)
    history = HistoricalRecords(excluded_fields=["budget_token"])

    class Meta:
        ordering = ["name"]
        constraints = [
            non_negative("utility_capacity_kw"),
            models.CheckConstraint(
                condition=Q(power_derating__gt=0, power_derating__lte=1), name="racks_site_power_derating_range"
            ),
            non_negative("energy_price_per_kwh"),
            non_negative("carbon_kg_per_kwh"),
            models.CheckConstraint(condition=Q(design_pue__gte=1), name="racks_site_design_pue_gte_1"),
        ]

    def __str__(self) -> str:
        return self.name


class Room(models.Model):
    class FloorType(models.TextChoices):
        RAISED = "raised", "Raised floor"
        SLAB = "slab", "Slab"

    class FloorLoadMethod(models.TextChoices):
        FOOTPRINT = "footprint", "Footprint (worst case)"
        HALF_AISLE = "half_aisle", "Footprint + half aisles"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=100)
    floor_type = models.CharField(max_length=10, choices=FloorType.choices, default=FloorType.SLAB)
    floor_rated_load_kg_m2 = models.FloatField(
        validators=[MinValueValidator(0.001)], help_text="Uniform floor rating in kg/m² (12 kPa ≈ 1,224 kg/m²)."
    )
    tile_rated_load_kg = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.001)],
        help_text="Raised floors: concentrated load one tile carries at a rack foot, in kg.",
    )
    floor_load_method = models.CharField(
        max_length=12, choices=FloorLoadMethod.choices, default=FloorLoadMethod.FOOTPRINT
    )
    # Set on objects imported from NetBox (planner.netbox): a re-import matches them by it. Null = ours.
    netbox_id = models.PositiveIntegerField(null=True, blank=True, editable=False, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["site_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="racks_room_unique_name_per_site"),
            positive("floor_rated_load_kg_m2"),
            positive("tile_rated_load_kg"),
        ]

    def __str__(self) -> str:
        return self.name


class Row(models.Model):
    class Containment(models.TextChoices):
        NONE = "none", "Open aisles"
        COLD_AISLE = "cold_aisle", "Cold-aisle containment"
        HOT_AISLE = "hot_aisle", "Hot-aisle containment"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="rows")
    name = models.CharField(max_length=100)
    aisle_width_mm = models.FloatField(default=1200, validators=NON_NEGATIVE, help_text="Aisle width in mm.")
    containment = models.CharField(max_length=12, choices=Containment.choices, default=Containment.NONE)
    air_kw_per_rack_limit = models.FloatField(
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
        help_text="Air heat one rack may reject, in kW; empty = 10 kW open aisles, 25 kW contained.",
    )
    # Set on objects imported from NetBox (planner.netbox): a re-import matches them by it. Null = ours.
    netbox_id = models.PositiveIntegerField(null=True, blank=True, editable=False, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["room_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["room", "name"], name="racks_row_unique_name_per_room"),
            non_negative("aisle_width_mm"),
            non_negative("air_kw_per_rack_limit"),
        ]

    def __str__(self) -> str:
        return self.name


class Rack(models.Model):
    row = models.ForeignKey(Row, on_delete=models.CASCADE, related_name="racks")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)], help_text="Slot in the row.")
    u_height = models.PositiveIntegerField(default=42, validators=[MinValueValidator(1), MaxValueValidator(60)])
    width_mm = models.FloatField(default=600, validators=[MinValueValidator(1)])
    depth_mm = models.FloatField(default=1200, validators=[MinValueValidator(1)])
    max_load_kg = models.FloatField(validators=NON_NEGATIVE, help_text="Equipment weight the frame may carry, kg.")
    empty_weight_kg = models.FloatField(validators=NON_NEGATIVE, help_text="Weight of the empty frame, kg.")
    # Set on objects imported from NetBox (planner.netbox): a re-import matches them by it. Null = ours.
    netbox_id = models.PositiveIntegerField(null=True, blank=True, editable=False, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["row_id", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["row", "name"], name="racks_rack_unique_name_per_row"),
            models.UniqueConstraint(fields=["row", "position"], name="racks_rack_unique_position_per_row"),
            positive("position"),
            positive("u_height"),
            positive("width_mm"),
            positive("depth_mm"),
            non_negative("max_load_kg"),
            non_negative("empty_weight_kg"),
        ]

    def __str__(self) -> str:
        return self.name


class PowerSource(models.Model):
    class Kind(models.TextChoices):
        UTILITY = "utility", "Utility feed"
        GENERATOR = "generator", "Generator"
        UPS = "ups", "UPS"
        PANEL = "panel", "Panel"
        BUSWAY = "busway", "Busway"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="power_sources")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    capacity_kw = models.FloatField(validators=NON_NEGATIVE, help_text="Capacity in kW.")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.RESTRICT, related_name="children")
    # Set on objects imported from NetBox (planner.netbox): a re-import matches them by it. Null = ours.
    netbox_id = models.PositiveIntegerField(null=True, blank=True, editable=False, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["site_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="racks_powersource_unique_name_per_site"),
            non_negative("capacity_kw"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="racks_powersource_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class Pdu(models.Model):
    class Side(models.TextChoices):
        A = "A", "A"
        B = "B", "B"

    class Phases(models.IntegerChoices):
        SINGLE = 1, "Single-phase"
        THREE = 3, "Three-phase"

    rack = models.ForeignKey(Rack, on_delete=models.CASCADE, related_name="pdus")
    name = models.CharField(max_length=100)
    side = models.CharField(max_length=1, choices=Side.choices)
    phases = models.PositiveSmallIntegerField(choices=Phases.choices, default=Phases.THREE)
    voltage_v = models.FloatField(
        validators=[MinValueValidator(1), MaxValueValidator(1000)], help_text="Volts; line-to-line when 3-phase."
    )
    current_a = models.FloatField(
        validators=[MinValueValidator(0.1), MaxValueValidator(1000)], help_text="Breaker rating in A."
    )
    power_factor = models.FloatField(default=1.0, validators=[MinValueValidator(0.01), MaxValueValidator(1.0)])
    source = models.ForeignKey(PowerSource, null=True, blank=True, on_delete=models.RESTRICT, related_name="pdus")
    # Set on objects imported from NetBox (planner.netbox): a re-import matches them by it. Null = ours.
    netbox_id = models.PositiveIntegerField(null=True, blank=True, editable=False, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["rack_id", "side", "name"]
        verbose_name = "PDU"
        constraints = [
            models.UniqueConstraint(fields=["rack", "name"], name="racks_pdu_unique_name_per_rack"),
            models.CheckConstraint(condition=Q(side__in=["A", "B"]), name="racks_pdu_side_a_or_b"),
            models.CheckConstraint(condition=Q(phases__in=[1, 3]), name="racks_pdu_phases_1_or_3"),
            positive("voltage_v"),
            positive("current_a"),
            models.CheckConstraint(
                condition=Q(power_factor__gt=0, power_factor__lte=1), name="racks_pdu_power_factor_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class NodeModel(models.Model):
    class Cooling(models.TextChoices):
        AIR = "air", "Air"
        LIQUID = "liquid", "Liquid"
        HYBRID = "hybrid", "Hybrid"

    slug = models.SlugField(max_length=64, unique=True)
    vendor = models.CharField(max_length=64)
    name = models.CharField(max_length=100)
    u_height = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(60)])
    max_power_kw = models.FloatField(validators=NON_NEGATIVE, help_text="Vendor maximum input power, kW.")
    typical_power_kw = models.FloatField(validators=NON_NEGATIVE, help_text="Typical draw, kW.")
    weight_kg = models.FloatField(validators=NON_NEGATIVE)
    cooling = models.CharField(max_length=8, choices=Cooling.choices, default=Cooling.AIR)
    liquid_fraction = models.FloatField(
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of heat carried by liquid, 0 to 1.",
    )
    airflow_cfm = models.FloatField(null=True, blank=True, validators=NON_NEGATIVE)
    psu_count = models.PositiveIntegerField(default=0)
    psu_rating_kw = models.FloatField(default=0.0, validators=NON_NEGATIVE)
    psus_required = models.PositiveIntegerField(default=0)
    max_inlet_temp_c = models.FloatField(null=True, blank=True, help_text="Max air inlet, °C; empty = unsourced.")
    max_supply_temp_c = models.FloatField(
        null=True, blank=True, help_text="Max liquid supply, °C; empty = unsourced or not liquid-cooled."
    )
    rack_scale = models.BooleanField(default=False, help_text="A whole-rack system: needs an empty rack.")
    source = models.TextField(blank=True, default="", help_text="Where each figure comes from.")
    notes = models.TextField(blank=True, default="")
    # The NetBox device-type slug (library and NetBox agree on it) this model was imported from or matched to.
    netbox_slug = models.CharField(max_length=100, null=True, blank=True, unique=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["vendor", "name"]
        constraints = [
            positive("u_height"),
            non_negative("max_power_kw"),
            non_negative("typical_power_kw"),
            non_negative("weight_kg"),
            non_negative("psu_rating_kw"),
            non_negative("airflow_cfm"),
            models.CheckConstraint(
                condition=Q(liquid_fraction__gte=0, liquid_fraction__lte=1),
                name="racks_nodemodel_liquid_fraction_range",
            ),
            models.CheckConstraint(
                condition=Q(psus_required__lte=F("psu_count")), name="racks_nodemodel_psus_required_lte_count"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Node(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        INSTALLED = "installed", "Installed"

    rack = models.ForeignKey(Rack, on_delete=models.CASCADE, related_name="nodes")
    model = models.ForeignKey(NodeModel, on_delete=models.PROTECT, related_name="nodes")
    u_position = models.PositiveIntegerField(validators=[MinValueValidator(1)], help_text="Lowest U, 1-based.")
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set on objects imported from NetBox (planner.netbox): a re-import matches them by it. Null = ours.
    netbox_id = models.PositiveIntegerField(null=True, blank=True, editable=False, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["rack_id", "u_position"]
        constraints = [
            models.UniqueConstraint(fields=["rack", "name"], name="racks_node_unique_name_per_rack"),
            models.UniqueConstraint(fields=["rack", "u_position"], name="racks_node_unique_u_per_rack"),
            positive("u_position"),
        ]

    def __str__(self) -> str:
        return self.name
