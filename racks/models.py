"""The physical model: sites, rooms, rows, racks, power chain, hardware catalogue and placed nodes.

Models are thin: fields, constraints and choices. Physics lives in ``planner.engine``; queries that feed it
live in ``planner.selectors``; writes that must pass the rules go through ``planner.services``.
"""

from __future__ import annotations

import uuid

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connection, models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.db.models.signals import pre_save
from simple_history.models import HistoricalRecords

NON_NEGATIVE = [MinValueValidator(0.0)]
COUNTRY_CODE = RegexValidator(r"^[A-Z]{2}\Z", "An ISO 3166-1 alpha-2 code: two capital letters, e.g. DE.")


def non_negative(field: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__gte": 0}), name=f"%(app_label)s_%(class)s_{field}_gte_0")


def positive(field: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__gt": 0}), name=f"%(app_label)s_%(class)s_{field}_gt_0")


# --- cross-site and cross-room invariants -----------------------------------------------------------------
#
# Every reference between objects stays inside one site (and, for a cooling loop with a room, one room): a
# power source's parent and the PDUs and sources it feeds, a PDU's source, a loop's room and racks. Each model
# checks the references that touch it in ``scope_errors()`` with a fixed number of queries. ``clean()`` calls it
# (the admin and the forms through ``full_clean()``, the API serializers through ``model_clean``), and a
# ``pre_save`` guard calls it again at write time, after locking the sites involved, so no path (import, shell,
# a racing request) writes a reference across sites. Loop-rack links are guarded in ``cooling.models``.
#
# Why the lock makes the check safe under READ COMMITTED: two writes that could together create a cross-site
# reference (moving a UPS to site Y while a PDU of site X is pointed at it; moving a rack while its PDU is
# re-pointed) both lock the site the reference lives in *now* (each locks its object's stored site and its
# requested one, and the sites of what it points at). The second writer waits for the first to commit, and its
# check, a new statement after the lock, sees the first one's committed rows.

MAX_NAMED = 5  # conflicts named in one message; the rest are counted


def lock_sites(condition: Q) -> None:
    """Lock the sites matching ``condition`` (``SELECT ... FOR UPDATE``, in id order, one query), the order every
    writer locks in (``planner.services``, ``planner.budget_tokens``). Outside a transaction a lock would end with
    its own statement, so nothing is locked there."""
    if connection.in_atomic_block:
        inner = Site.objects.filter(condition).values("pk")
        list(Site.objects.select_for_update().filter(pk__in=inner).order_by("pk").values_list("pk", flat=True))


def _any(*conditions: Q | None) -> Q:
    out = Q(pk__in=[])
    for condition in conditions:
        if condition is not None:
            out |= condition
    return out


def _listing(items: list[str]) -> str:
    """Up to MAX_NAMED items joined, then how many more (the caller fetched MAX_NAMED + 1 at most)."""
    shown = "; ".join(items[:MAX_NAMED])
    return shown + ("; and more" if len(items) > MAX_NAMED else "")


def _cooling_loop():
    return apps.get_model("cooling", "CoolingLoop")


def _out_of_scope(site_id: int, room_id: int | None) -> Q:
    """Cooling loops whose scope does not include a rack in ``site_id`` / ``room_id``: another site, or a room
    of their own that is not the rack's."""
    return ~Q(site_id=site_id) | (Q(room__isnull=False) & ~Q(room_id=room_id))


def _moved_rack_conflicts(pdus, loops, site_id: int, room_id: int | None) -> list[str]:
    """Names what of the old place still refers to racks that move to ``site_id`` / ``room_id``: PDUs fed by a
    power source of another site, cooling loops whose site or room no longer includes the racks."""
    conflicts = [
        f'PDU "{pdu}" of rack "{rack}" is fed by power source "{src}" of site "{src_site}"'
        for pdu, rack, src, src_site in pdus.filter(source__isnull=False)
        .exclude(source__site_id=site_id)
        .values_list("name", "rack__name", "source__name", "source__site__name")
        .order_by("rack__name", "name")[: MAX_NAMED + 1]
    ]
    conflicts += [
        f'cooling loop "{loop}" of site "{loop_site}"' + (f', room "{loop_room}"' if loop_room else "") + " serves it"
        for loop, loop_site, loop_room in loops.filter(_out_of_scope(site_id, room_id))
        .values_list("name", "site__name", "room__name")
        .distinct()
        .order_by("name")[: MAX_NAMED + 1]
    ]
    return conflicts


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _guard(sender, instance, raw=False, **kwargs):
    """Write-time guard: the same check as ``clean()``, with the sites locked (see above)."""
    if raw:  # loaddata writes fixtures as they are
        return
    _raise(instance.scope_errors(lock=True))


def unique_ci(field: str, *, parent: str | None = None, what: str, within: str = "") -> models.UniqueConstraint:
    """``field`` unique regardless of case (within ``parent``): "Hall A" and "hall a" cannot both exist."""
    exprs = (F(parent), Lower(field)) if parent else (Lower(field),)
    where = f" in this {within}" if within else ""
    return models.UniqueConstraint(
        *exprs,
        name=f"%(app_label)s_%(class)s_{field}_ci_unique",
        violation_error_message=f"A {what} with this {field}{where} already exists (compared regardless of case).",
    )


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
    derate_distribution = models.BooleanField(
        default=False,
        help_text="Apply the site's power_derating to panels and busways (NEC continuous-load rule, reference "
        "§4.5), except those listed for 100 % continuous operation.",
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
    # Location and governance (issue 17; reference §13.3, §14, §15). Every field optional: a site without them
    # is still planned; the KPIs, site selection and readiness say which figure they miss.
    latitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-90.0), MaxValueValidator(90.0)], help_text="WGS 84, °."
    )
    longitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-180.0), MaxValueValidator(180.0)], help_text="WGS 84, °."
    )
    jurisdiction = models.CharField(
        max_length=2,
        blank=True,
        default="",
        validators=[COUNTRY_CODE],
        help_text="ISO 3166-1 alpha-2 country whose law governs the site (data residency), e.g. DE.",
    )
    is_edge = models.BooleanField(default=False, help_text="An edge site (small, close to its users).")
    carbon_source = models.CharField(
        max_length=200, blank=True, default="", help_text="Where the carbon intensity comes from, e.g. Ember via OWID."
    )
    carbon_year = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1990), MaxValueValidator(2100)],
        help_text="Data year of the carbon intensity.",
    )
    renewable_share = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of the site's energy from renewables (grid mix or PPA), 0 to 1.",
    )
    renewable_ppa = models.BooleanField(default=False, help_text="Renewable energy bought under a PPA.")
    energy_price_source = models.CharField(
        max_length=200, blank=True, default="", help_text="Where the energy price comes from, e.g. EIA 2023."
    )
    grid_interconnect_kw = models.FloatField(
        null=True, blank=True, validators=NON_NEGATIVE, help_text="Grid interconnect capacity today, kW."
    )
    grid_expansion_kw = models.FloatField(
        null=True, blank=True, validators=NON_NEGATIVE, help_text="Interconnect capacity the utility will add, kW."
    )
    grid_expansion_date = models.DateField(null=True, blank=True, help_text="When the added capacity arrives.")
    dora_register_entry = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="DORA Art. 28(3) register-of-information reference of the site's ICT arrangement.",
    )
    dora_critical_function = models.BooleanField(
        default=False, help_text="The arrangement supports a critical or important function (DORA Art. 28(3))."
    )
    data_processing_country = models.CharField(
        max_length=2,
        blank=True,
        default="",
        validators=[COUNTRY_CODE],
        help_text="Where data is processed and stored (DORA Art. 30(2)(b)), ISO 3166-1 alpha-2.",
    )
    ai_rmf_govern_url = models.URLField(blank=True, default="", help_text="NIST AI RMF Govern: evidence link.")
    ai_rmf_map_url = models.URLField(blank=True, default="", help_text="NIST AI RMF Map: evidence link.")
    ai_rmf_measure_url = models.URLField(blank=True, default="", help_text="NIST AI RMF Measure: evidence link.")
    ai_rmf_manage_url = models.URLField(blank=True, default="", help_text="NIST AI RMF Manage: evidence link.")
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
            unique_ci("name", what="site"),
            unique_ci("slug", what="site"),
            non_negative("utility_capacity_kw"),
            models.CheckConstraint(
                condition=Q(power_derating__gt=0, power_derating__lte=1), name="racks_site_power_derating_range"
            ),
            non_negative("energy_price_per_kwh"),
            non_negative("carbon_kg_per_kwh"),
            models.CheckConstraint(condition=Q(design_pue__gte=1), name="racks_site_design_pue_gte_1"),
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90), name="racks_site_latitude_range"),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180), name="racks_site_longitude_range"
            ),
            models.CheckConstraint(
                condition=Q(renewable_share__gte=0, renewable_share__lte=1), name="racks_site_renewable_share_range"
            ),
            non_negative("grid_interconnect_kw"),
            non_negative("grid_expansion_kw"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        """Coordinates come in pairs; an interconnect expansion has both its size and its date."""
        errors: dict[str, list[str]] = {}
        if (self.latitude is None) != (self.longitude is None):
            missing = "longitude" if self.longitude is None else "latitude"
            errors[missing] = ["Give latitude and longitude together (or neither)."]
        if (self.grid_expansion_kw is None) != (self.grid_expansion_date is None):
            missing = "grid_expansion_date" if self.grid_expansion_date is None else "grid_expansion_kw"
            errors[missing] = ["Give the expansion's kW and its date together (or neither)."]
        _raise(errors)


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
    tile_rolling_load_kg = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.001)],
        help_text="Raised floors: rolling load per caster the floor panels take, in kg; empty = not checked.",
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
            unique_ci("name", parent="site", what="room", within="site"),
            models.UniqueConstraint(fields=["site", "name"], name="racks_room_unique_name_per_site"),
            positive("floor_rated_load_kg_m2"),
            positive("tile_rated_load_kg"),
            positive("tile_rolling_load_kg"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        _raise(self.scope_errors())

    def scope_errors(self, *, lock: bool = False) -> dict[str, list[str]]:
        """A room moved to another site: refused while its racks' PDUs are fed by sources of another site or
        cooling loops of another site serve its racks or the room itself. At most two queries (three locked)."""
        if self.pk is None or self.site_id is None:
            return {}
        if lock:
            lock_sites(Q(pk=self.site_id) | Q(rooms__id=self.pk))
        # The room's own loops (room = this room) and those listing its racks must be of its new site.
        loops = _cooling_loop().objects.filter(Q(racks__row__room_id=self.pk) | Q(room_id=self.pk))
        conflicts = _moved_rack_conflicts(Pdu.objects.filter(rack__row__room_id=self.pk), loops, self.site_id, self.pk)
        if not conflicts:
            return {}
        site = Site.objects.filter(pk=self.site_id).values_list("name", flat=True).first()
        return {
            "site": [
                f'Room "{self}" cannot move to site "{site}" while something of its old site refers to it: '
                f"{_listing(conflicts)}. Re-point or clear those first."
            ]
        }


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
            unique_ci("name", parent="room", what="row", within="room"),
            models.UniqueConstraint(fields=["room", "name"], name="racks_row_unique_name_per_room"),
            non_negative("aisle_width_mm"),
            non_negative("air_kw_per_rack_limit"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        _raise(self.scope_errors())

    def scope_errors(self, *, lock: bool = False) -> dict[str, list[str]]:
        """A row moved to a room of another site (or another room): refused while its racks' PDUs are fed by
        sources of another site or cooling loops outside the new room or site serve its racks. Three queries
        at most (four locked)."""
        if self.pk is None or self.room_id is None:
            return {}
        if lock:
            lock_sites(Q(rooms__id=self.room_id) | Q(rooms__rows__id=self.pk))
        target = Room.objects.filter(pk=self.room_id).values_list("site_id", "site__name", "name").first()
        if target is None:
            return {}
        site_id, site, room = target
        conflicts = _moved_rack_conflicts(
            Pdu.objects.filter(rack__row_id=self.pk),
            _cooling_loop().objects.filter(racks__row_id=self.pk),
            site_id,
            self.room_id,
        )
        if not conflicts:
            return {}
        return {
            "room": [
                f'Row "{self}" cannot move to room "{room}" of site "{site}" while something of its old place refers '
                f"to its racks: {_listing(conflicts)}. Re-point or clear those first."
            ]
        }


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
            unique_ci("name", parent="row", what="rack", within="row"),
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

    def clean(self):
        _raise({**self.height_errors(), **self.scope_errors()})

    def height_errors(self) -> dict[str, list[str]]:
        """A rack is never shorter than the nodes it holds (one query)."""
        if self.pk is None or self.u_height is None:
            return {}
        top = Node.objects.filter(rack_id=self.pk).aggregate(
            top=models.Max(F("u_position") + F("model__u_height") - 1)
        )["top"]
        if top is not None and self.u_height < top:
            return {"u_height": [f"Nodes occupy up to U{top}; the rack cannot be shorter than {top} U."]}
        return {}

    def scope_errors(self, *, lock: bool = False) -> dict[str, list[str]]:
        """A rack moved to a row of another site (or another room): refused while its PDUs are fed by sources
        of another site or cooling loops outside the new room or site list it. Three queries at most (four
        locked)."""
        if self.pk is None or self.row_id is None:
            return {}
        if lock:
            lock_sites(Q(rooms__rows__id=self.row_id) | Q(rooms__rows__racks__id=self.pk))
        target = (
            Row.objects.filter(pk=self.row_id)
            .values_list("room_id", "room__site_id", "room__site__name", "room__name", "name")
            .first()
        )
        if target is None:
            return {}
        room_id, site_id, site, room, row = target
        conflicts = _moved_rack_conflicts(
            Pdu.objects.filter(rack_id=self.pk), _cooling_loop().objects.filter(racks=self.pk), site_id, room_id
        )
        if not conflicts:
            return {}
        return {
            "row": [
                f'Rack "{self}" cannot move to row "{row}" (room "{room}", site "{site}") while something of its old '
                f"place refers to it: {_listing(conflicts)}. Re-point or clear those first."
            ]
        }


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
    capacity_kw = models.FloatField(
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
        help_text="Rating in kW; may be empty when capacity_kva is given.",
    )
    capacity_kva = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.001)],
        help_text="Rating in kVA (usable kW = kVA x power factor); empty = rated in kW only.",
    )
    power_factor = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0.01), MaxValueValidator(1.0)],
        help_text="Power factor of the kVA rating (0 < PF <= 1).",
    )
    listed_continuous_100 = models.BooleanField(
        default=False,
        help_text="Panel or busway listed for 100 % continuous operation: the site's continuous-load derating "
        "does not apply to it (reference §4.5).",
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.RESTRICT, related_name="children")
    # Set on objects imported from NetBox (planner.netbox): a re-import matches them by it. Null = ours.
    netbox_id = models.PositiveIntegerField(null=True, blank=True, editable=False, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["site_id", "name"]
        constraints = [
            unique_ci("name", parent="site", what="power source", within="site"),
            models.UniqueConstraint(fields=["site", "name"], name="racks_powersource_unique_name_per_site"),
            non_negative("capacity_kw"),
            positive("capacity_kva"),
            models.CheckConstraint(
                condition=Q(power_factor__gt=0, power_factor__lte=1), name="racks_powersource_power_factor_range"
            ),
            models.CheckConstraint(
                condition=Q(capacity_kw__isnull=False) | Q(capacity_kva__isnull=False),
                name="racks_powersource_kw_or_kva",
                violation_error_message="Give capacity_kw or capacity_kva (or both).",
            ),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="racks_powersource_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = self.rating_errors()
        errors.update(self.scope_errors())
        _raise(errors)

    def rating_errors(self) -> dict[str, list[str]]:
        """At least one of capacity_kw / capacity_kva; with both, the kW rating cannot exceed kVA x PF (real power
        is at most apparent power times the power factor, reference §4.4)."""
        kw, kva, pf = self.capacity_kw, self.capacity_kva, self.power_factor
        if kw is None and kva is None:
            msg = "Give capacity_kw or capacity_kva (or both): a power source needs a rating."
            return {"capacity_kw": [msg], "capacity_kva": [msg]}
        if kw is not None and kva is not None and pf is not None and kw > kva * pf * (1 + 1e-9) + 1e-9:
            return {
                "capacity_kw": [
                    f"{kw:g} kW exceeds capacity_kva x power_factor = {kva:g} kVA x {pf:g} = {kva * pf:g} kW: "
                    "a source cannot deliver more real power than its apparent power times its power factor."
                ]
            }
        return {}

    def scope_errors(self, *, lock: bool = False) -> dict[str, list[str]]:
        """The source's parent is of the source's site and not below the source; what the source feeds (PDUs
        of racks, other sources) is of its site, so changing its site while it feeds anything there is
        refused. Five queries at most (seven locked), whatever the number of PDUs or sources."""
        if self.site_id is None:
            return {}
        if lock:
            lock_sites(
                _any(
                    Q(pk=self.site_id),
                    Q(power_sources__id=self.pk) if self.pk is not None else None,
                    Q(power_sources__id=self.parent_id) if self.parent_id is not None else None,
                )
            )
        errors: dict[str, list[str]] = {}
        site = Site.objects.filter(pk=self.site_id).values_list("name", flat=True).first()
        if self.parent_id is not None:
            parent = PowerSource.objects.filter(pk=self.parent_id).values_list("name", "site_id", "site__name").first()
            if parent is not None and parent[1] != self.site_id:
                errors["parent"] = [
                    f'Parent "{parent[0]}" is a power source of site "{parent[2]}", not of site "{site}": a source '
                    "is fed only from its own site."
                ]
            elif parent is not None and self.pk is not None:
                # Walk up from the parent through the site's chain (one query): reaching this source is a loop.
                up = dict(PowerSource.objects.filter(site_id=self.site_id).values_list("pk", "parent_id"))
                node, seen = self.parent_id, set()
                while node is not None and node not in seen:
                    if node == self.pk:
                        errors["parent"] = [f'Parent "{parent[0]}" is fed from "{self}": the chain would be a loop.']
                        break
                    seen.add(node)
                    node = up.get(node)
        if self.pk is not None:
            conflicts = [
                f'PDU "{pdu}" of rack "{rack}" (site "{pdu_site}")'
                for pdu, rack, pdu_site in Pdu.objects.filter(source_id=self.pk)
                .exclude(rack__row__room__site_id=self.site_id)
                .values_list("name", "rack__name", "rack__row__room__site__name")
                .order_by("rack__name", "name")[: MAX_NAMED + 1]
            ]
            conflicts += [
                f'power source "{child}" (site "{child_site}")'
                for child, child_site in PowerSource.objects.filter(parent_id=self.pk)
                .exclude(site_id=self.site_id)
                .values_list("name", "site__name")
                .order_by("name")[: MAX_NAMED + 1]
            ]
            if conflicts:
                errors["site"] = [
                    f'Power source "{self}" cannot belong to site "{site}" while it feeds another site\'s '
                    f"{_listing(conflicts)}. Re-point or clear those first."
                ]
        return errors


class Receptacle(models.TextChoices):
    """A PDU receptacle type (IEC 60320 C13 / C19, or IEC 60309); a node model's cords name the one they need."""

    C13 = "C13", "C13"
    C19 = "C19", "C19"
    IEC60309 = "IEC60309", "IEC 60309"


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
    # Receptacles by type and branch breakers (POWER_OUTLETS, POWER_PHASE); empty = unknown: "not checked".
    receptacles_c13 = models.PositiveIntegerField(null=True, blank=True, help_text="C13 receptacles; empty = unknown.")
    receptacles_c19 = models.PositiveIntegerField(null=True, blank=True, help_text="C19 receptacles; empty = unknown.")
    receptacles_iec60309 = models.PositiveIntegerField(
        null=True, blank=True, help_text="IEC 60309 receptacles; empty = unknown."
    )
    branch_breaker_a = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.1), MaxValueValidator(1000)],
        help_text="Rating of each branch breaker, A; empty = unknown (branches not checked).",
    )
    branch_count = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Branch breakers; empty = unknown."
    )
    # Set on objects imported from NetBox (planner.netbox): a re-import matches them by it. Null = ours.
    netbox_id = models.PositiveIntegerField(null=True, blank=True, editable=False, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["rack_id", "side", "name"]
        verbose_name = "PDU"
        constraints = [
            unique_ci("name", parent="rack", what="PDU", within="rack"),
            models.UniqueConstraint(fields=["rack", "name"], name="racks_pdu_unique_name_per_rack"),
            models.CheckConstraint(condition=Q(side__in=["A", "B"]), name="racks_pdu_side_a_or_b"),
            models.CheckConstraint(condition=Q(phases__in=[1, 3]), name="racks_pdu_phases_1_or_3"),
            positive("voltage_v"),
            positive("current_a"),
            models.CheckConstraint(
                condition=Q(power_factor__gt=0, power_factor__lte=1), name="racks_pdu_power_factor_range"
            ),
            positive("branch_breaker_a"),
            positive("branch_count"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = self.scope_errors()
        if (self.branch_breaker_a is None) != (self.branch_count is None):
            errors.setdefault("branch_count", []).append("Give branch_breaker_a and branch_count together.")
        _raise(errors)

    def scope_errors(self, *, lock: bool = False) -> dict[str, list[str]]:
        """A PDU's source is a power source of its rack's site. Two queries at most (three locked)."""
        if self.source_id is None or self.rack_id is None:
            return {}
        if lock:
            lock_sites(
                _any(
                    Q(rooms__rows__racks__id=self.rack_id),
                    Q(power_sources__id=self.source_id),
                    Q(rooms__rows__racks__pdus__id=self.pk) if self.pk is not None else None,
                )
            )
        rack = Rack.objects.filter(pk=self.rack_id).values_list("name", "row__room__site_id", "row__room__site__name")
        source = PowerSource.objects.filter(pk=self.source_id).values_list("name", "site_id", "site__name")
        rack, source = rack.first(), source.first()
        if rack is None or source is None or rack[1] == source[1]:
            return {}
        return {
            "source": [
                f'Power source "{source[0]}" belongs to site "{source[2]}", but rack "{rack[0]}" is in site '
                f'"{rack[2]}": a PDU is fed only from its rack\'s site.'
            ]
        }


class NodeModel(models.Model):
    class Cooling(models.TextChoices):
        AIR = "air", "Air"
        LIQUID = "liquid", "Liquid"
        HYBRID = "hybrid", "Hybrid"

    class Kind(models.TextChoices):
        SYSTEM = "system", "System"
        SWITCH = "switch", "Switch"

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
    heat_output_kw = models.FloatField(
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
        help_text="Vendor's published heat output, kW; empty = not published. Air heat is budgeted at the larger "
        "of this and max power.",
    )
    rack_scale = models.BooleanField(default=False, help_text="A whole-rack system: needs an empty rack.")
    gpus = models.PositiveIntegerField(null=True, blank=True, help_text="GPUs per system; null = unknown.")
    cord_count = models.PositiveIntegerField(null=True, blank=True, help_text="Power cords; empty = unsourced.")
    cord_receptacle = models.CharField(
        max_length=8,
        choices=Receptacle.choices,
        null=True,
        blank=True,
        help_text="The PDU receptacle each cord plugs into; empty = unsourced.",
    )
    kind = models.CharField(
        max_length=8,
        choices=Kind.choices,
        default=Kind.SYSTEM,
        help_text="system, or switch: the rack-load model of a fabric switch (planner.services.switch_create).",
    )
    # Network ports by purpose (reference §11.1); null = not stated (the fabric rules then say "not checked").
    compute_ports = models.PositiveIntegerField(
        null=True, blank=True, help_text="Compute-fabric ports; null = unknown."
    )
    compute_port_gbps = models.FloatField(null=True, blank=True, validators=NON_NEGATIVE)
    storage_ports = models.PositiveIntegerField(null=True, blank=True, help_text="Storage-fabric ports.")
    storage_port_gbps = models.FloatField(null=True, blank=True, validators=NON_NEGATIVE)
    inband_ports = models.PositiveIntegerField(null=True, blank=True, help_text="In-band management ports.")
    inband_port_gbps = models.FloatField(null=True, blank=True, validators=NON_NEGATIVE)
    oob_ports = models.PositiveIntegerField(null=True, blank=True, help_text="Out-of-band (BMC) ports.")
    oob_port_gbps = models.FloatField(null=True, blank=True, validators=NON_NEGATIVE)
    source = models.TextField(blank=True, default="", help_text="Where each figure comes from.")
    notes = models.TextField(blank=True, default="")
    # The NetBox device-type slug (library and NetBox agree on it) this model was imported from or matched to.
    netbox_slug = models.CharField(max_length=100, null=True, blank=True, unique=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["vendor", "name"]
        constraints = [
            unique_ci("slug", what="node model"),
            positive("u_height"),
            non_negative("max_power_kw"),
            non_negative("typical_power_kw"),
            non_negative("weight_kg"),
            non_negative("psu_rating_kw"),
            non_negative("airflow_cfm"),
            non_negative("heat_output_kw"),
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

    def clean(self):
        """The model's figures agree with each other (the admin, the forms, the API and the import all call this)."""
        errors: dict[str, list[str]] = {}
        if (self.psus_required or 0) > (self.psu_count or 0):
            errors["psus_required"] = ["Cannot exceed psu_count."]
        typical, top = self.typical_power_kw, self.max_power_kw
        if typical is not None and top is not None and typical > top:
            errors["typical_power_kw"] = ["Cannot exceed max_power_kw."]
        fraction = self.liquid_fraction or 0
        if self.cooling == self.Cooling.AIR and fraction > 0:
            errors["liquid_fraction"] = ["An air-cooled model has liquid_fraction 0."]
        if self.cooling == self.Cooling.LIQUID and fraction <= 0:
            errors["liquid_fraction"] = ["A liquid-cooled model puts some heat into liquid (> 0)."]
        _raise(errors)


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
            unique_ci("name", parent="rack", what="node", within="rack"),
            models.UniqueConstraint(fields=["rack", "name"], name="racks_node_unique_name_per_rack"),
            models.UniqueConstraint(fields=["rack", "u_position"], name="racks_node_unique_u_per_rack"),
            positive("u_position"),
        ]

    def __str__(self) -> str:
        return self.name


for _model in (Room, Row, Rack, PowerSource, Pdu):
    pre_save.connect(_guard, sender=_model, dispatch_uid=f"scope_guard_{_model.__name__}")


class Fabric(models.Model):
    """A network fabric of a site (reference §11): the racks it serves and, through its switches, its leaf ports.

    ``purpose`` says which of a node model's ports attach to it (compute, storage, in-band, out-of-band);
    ``media``: the link media the site allows on it (planner.engine.fabric.MEDIA names), cheapest first.
    """

    class Kind(models.TextChoices):
        INFINIBAND = "infiniband", "InfiniBand"
        ETHERNET = "ethernet", "Ethernet / RoCE"

    class Purpose(models.TextChoices):
        COMPUTE = "compute", "Compute"
        STORAGE = "storage", "Storage"
        INBAND = "inband", "In-band management"
        OOB = "oob", "Out-of-band management"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="fabrics")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INFINIBAND)
    purpose = models.CharField(max_length=8, choices=Purpose.choices, default=Purpose.COMPUTE)
    rail_optimized = models.BooleanField(default=True, help_text="Port k of every node goes to a leaf of rail k.")
    media = models.JSONField(
        default=list,
        blank=True,
        help_text="Allowed link media (passive_copper, active_copper, aoc, multimode, single_mode); empty = all.",
    )
    racks = models.ManyToManyField(Rack, blank=True, related_name="fabrics", help_text="Racks the fabric serves.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["site_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="racks_fabric_unique_name_per_site"),
        ]

    def __str__(self) -> str:
        return self.name


class Switch(models.Model):
    """A fabric switch. It sits in its rack as a Node (``node``, of a NodeModel of kind switch), so its power,
    heat, weight and U count in every rule and budget like any node's; the switch row adds the network side."""

    class Role(models.TextChoices):
        LEAF = "leaf", "Leaf"
        SPINE = "spine", "Spine"
        CORE = "core", "Core"
        MANAGEMENT = "management", "Management"

    fabric = models.ForeignKey(Fabric, on_delete=models.CASCADE, related_name="switches")
    node = models.OneToOneField(Node, on_delete=models.CASCADE, related_name="switch")
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.LEAF)
    ports = models.PositiveIntegerField(validators=[MinValueValidator(1)], help_text="Logical ports (radix).")
    port_speed_gbps = models.FloatField(validators=[MinValueValidator(1)])
    uplink_ports = models.PositiveIntegerField(
        null=True, blank=True, help_text="Ports toward spines; null = half (non-blocking, reference §11.2 C)."
    )
    rail = models.PositiveIntegerField(null=True, blank=True, help_text="Rail a leaf serves (rail-optimized).")
    history = HistoricalRecords()

    class Meta:
        ordering = ["fabric_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["fabric", "name"], name="racks_switch_unique_name_per_fabric"),
        ]

    def __str__(self) -> str:
        return self.name
