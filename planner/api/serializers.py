"""Serializers of the REST contract. Field names are the contract: add freely, never rename."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from rest_framework import serializers

from cooling.models import CoolingLoop
from planner import engine
from planner.api.fields import CleanCharField, FiniteFloatField, SafeIntegerField, SlugOrPkRelatedField
from planner.models import Reservation
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site


class CaseInsensitiveUnique:
    """The model's case-insensitive unique constraints (``racks.models.unique_ci``) as a 400 naming the field,
    before the database would refuse the write (the constraint stays the guarantee under races)."""

    requires_context = True

    def __call__(self, attrs, serializer):
        model = serializer.Meta.model
        instance = serializer.instance
        for constraint in model._meta.constraints:
            if not isinstance(constraint, models.UniqueConstraint) or not constraint.expressions:
                continue
            parents = [e.name for e in constraint.expressions if isinstance(e, models.F)]
            lowered = [e.source_expressions[0].name for e in constraint.expressions if isinstance(e, Lower)]
            if len(lowered) != 1 or not (set(parents) | set(lowered)) & set(attrs):
                continue
            field = lowered[0]
            declared = serializer.fields.get(field)
            if declared is not None and model._meta.get_field(field).unique and not declared.validators:
                continue  # the caller removed this field's uniqueness check on purpose (the site import)

            def value(name):
                if name in attrs:
                    return attrs[name]
                return getattr(instance, name, None) if instance is not None else None

            text = value(field)
            if text is None:
                continue
            rows = model._default_manager.annotate(_ci=Lower(field)).filter(
                _ci=Lower(models.Value(str(text))), **{p: value(p) for p in parents}
            )
            if instance is not None:
                rows = rows.exclude(pk=instance.pk)
            if rows.exists():
                raise serializers.ValidationError({field: [constraint.violation_error_message]})


class PlannerModelSerializer(serializers.ModelSerializer):
    """Maps model fields to the strict API fields (finite floats, no booleans as numbers, clean names)."""

    def get_validators(self):
        return [*super().get_validators(), CaseInsensitiveUnique()]

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.FloatField: FiniteFloatField,
        models.IntegerField: SafeIntegerField,
        models.PositiveIntegerField: SafeIntegerField,
        models.PositiveSmallIntegerField: SafeIntegerField,
        models.CharField: CleanCharField,
    }


class SiteSerializer(PlannerModelSerializer):
    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "slug",
            "country",
            "utility_capacity_kw",
            "power_derating",
            "energy_price_per_kwh",
            "carbon_kg_per_kwh",
            "design_pue",
        ]


class RoomSerializer(PlannerModelSerializer):
    class Meta:
        model = Room
        fields = [
            "id",
            "site",
            "name",
            "floor_type",
            "floor_rated_load_kg_m2",
            "tile_rated_load_kg",
            "floor_load_method",
        ]


class RowSerializer(PlannerModelSerializer):
    class Meta:
        model = Row
        fields = ["id", "room", "name", "aisle_width_mm", "containment", "air_kw_per_rack_limit"]


class RackSerializer(PlannerModelSerializer):
    class Meta:
        model = Rack
        fields = [
            "id",
            "row",
            "name",
            "position",
            "u_height",
            "width_mm",
            "depth_mm",
            "max_load_kg",
            "empty_weight_kg",
        ]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and "u_height" in attrs:
            top = max(
                (n.u_position + n.model.u_height - 1 for n in self.instance.nodes.select_related("model")), default=0
            )
            if attrs["u_height"] < top:
                raise serializers.ValidationError(
                    {"u_height": f"Nodes occupy up to U{top}; the rack cannot be shorter than {top} U."}
                )
        return attrs


class PowerSourceSerializer(PlannerModelSerializer):
    class Meta:
        model = PowerSource
        fields = ["id", "site", "name", "kind", "capacity_kw", "parent"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        site = attrs.get("site", getattr(self.instance, "site", None))
        parent = attrs.get("parent", getattr(self.instance, "parent", None))
        if parent is not None:
            if parent.site_id != site.id:
                raise serializers.ValidationError({"parent": "The parent source must belong to the same site."})
            # Walk up from the parent: reaching this source would close a loop.
            seen = set()
            node = parent
            while node is not None and node.pk not in seen:
                if self.instance is not None and node.pk == self.instance.pk:
                    raise serializers.ValidationError({"parent": "This parent would make the power chain a loop."})
                seen.add(node.pk)
                node = node.parent
        return attrs


class PduSerializer(PlannerModelSerializer):
    usable_kw = serializers.SerializerMethodField(
        help_text="voltage_v x current_a x (sqrt(3) if 3-phase) x site power_derating x power_factor / 1000, kW."
    )

    class Meta:
        model = Pdu
        fields = [
            "id",
            "rack",
            "name",
            "side",
            "phases",
            "voltage_v",
            "current_a",
            "power_factor",
            "source",
            "usable_kw",
        ]

    def get_usable_kw(self, obj: Pdu) -> float:
        return round(
            engine.pdu_usable_kw(
                voltage_v=obj.voltage_v,
                current_a=obj.current_a,
                phases=obj.phases,
                derating=obj.rack.row.room.site.power_derating,
                power_factor=obj.power_factor,
            ),
            4,
        )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        rack = attrs.get("rack", getattr(self.instance, "rack", None))
        source = attrs.get("source", getattr(self.instance, "source", None))
        if source is not None and rack is not None:
            site_id = Room.objects.filter(rows__racks=rack).values_list("site_id", flat=True).first()
            if source.site_id != site_id:
                raise serializers.ValidationError({"source": "The power source must belong to the rack's site."})
        return attrs


class CoolingLoopSerializer(PlannerModelSerializer):
    usable_kw = serializers.SerializerMethodField(help_text="unit_capacity_kw x (units - redundant_units), kW.")
    racks = serializers.PrimaryKeyRelatedField(many=True, queryset=Rack.objects.all(), required=False)

    class Meta:
        model = CoolingLoop
        fields = [
            "id",
            "site",
            "room",
            "name",
            "kind",
            "unit_capacity_kw",
            "units",
            "redundant_units",
            "supply_temp_c",
            "delta_t_c",
            "fluid",
            "max_flow_lpm",
            "racks",
            "usable_kw",
        ]

    def get_usable_kw(self, obj: CoolingLoop) -> float:
        return round(engine.loop_usable_kw(obj.unit_capacity_kw, obj.units, obj.redundant_units), 4)

    def validate(self, attrs):
        attrs = super().validate(attrs)

        def current(name):
            return attrs[name] if name in attrs else getattr(self.instance, name, None)

        errors = {}
        site, room, kind, fluid = current("site"), current("room"), current("kind"), current("fluid")
        units, redundant = current("units") or 1, current("redundant_units") or 0
        if redundant >= units:
            errors["redundant_units"] = f"Must be fewer than units ({units}): at least one unit has to carry load."
        if room is not None and site is not None and room.site_id != site.id:
            errors["room"] = "The room must belong to the loop's site."
        if kind in CoolingLoop.LIQUID_KINDS and fluid == CoolingLoop.Fluid.AIR:
            errors["fluid"] = "A liquid loop needs a liquid fluid (water or pg25)."
        if kind == CoolingLoop.Kind.CRAH and fluid not in (None, CoolingLoop.Fluid.AIR, CoolingLoop.Fluid.WATER):
            errors["fluid"] = "Room air handlers move air (chilled water coils count as water)."
        racks = attrs.get("racks")
        if racks and site is not None:
            rack_ids = [r.pk for r in racks]
            rows = Rack.objects.filter(pk__in=rack_ids).values_list("pk", "row__room__site_id", "row__room_id")
            wrong = sorted(pk for pk, site_id, room_id in rows if site_id != site.id or (room and room_id != room.id))
            if wrong:
                errors["racks"] = f"Racks {wrong} are not in the loop's {'room' if room else 'site'}."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class NodeModelSerializer(PlannerModelSerializer):
    class Meta:
        model = NodeModel
        fields = [
            "id",
            "slug",
            "vendor",
            "name",
            "u_height",
            "max_power_kw",
            "typical_power_kw",
            "weight_kg",
            "cooling",
            "liquid_fraction",
            "airflow_cfm",
            "psu_count",
            "psu_rating_kw",
            "psus_required",
            "max_inlet_temp_c",
            "max_supply_temp_c",
            "rack_scale",
            "source",
            "notes",
        ]

    def validate(self, attrs):
        attrs = super().validate(attrs)

        def current(name, default=None):
            return attrs[name] if name in attrs else getattr(self.instance, name, default)

        errors = {}
        if (current("psus_required", 0) or 0) > (current("psu_count", 0) or 0):
            errors["psus_required"] = "Cannot exceed psu_count."
        if current("typical_power_kw", 0) > current("max_power_kw", 0):
            errors["typical_power_kw"] = "Cannot exceed max_power_kw."
        if current("cooling") == NodeModel.Cooling.AIR and (current("liquid_fraction", 0) or 0) > 0:
            errors["liquid_fraction"] = "An air-cooled model has liquid_fraction 0."
        if current("cooling") == NodeModel.Cooling.LIQUID and (current("liquid_fraction", 0) or 0) <= 0:
            errors["liquid_fraction"] = "A liquid-cooled model puts some heat into liquid (> 0)."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class NodeSerializer(PlannerModelSerializer):
    model = SlugOrPkRelatedField(queryset=NodeModel.objects.all(), help_text="Node model id or slug.")
    u_position = SafeIntegerField(
        min_value=1, required=False, help_text="Lowest U (1-based); omit for the lowest free block."
    )
    name = CleanCharField(max_length=100, required=False, help_text="Omit for '<model slug>-<n>'.")
    model_slug = serializers.CharField(source="model.slug", read_only=True)

    class Meta:
        model = Node
        fields = ["id", "rack", "model", "model_slug", "u_position", "name", "status", "created_at"]
        read_only_fields = ["created_at"]
        # Uniqueness and placement are checked by the service under a lock (409 with the check result).
        validators = []


def reservation_queryset():
    return Reservation.objects.select_related("model", "created_by").prefetch_related("nodes")


class ReservationSerializer(serializers.ModelSerializer):
    model_slug = serializers.CharField(source="model.slug", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True, default=None)
    nodes = serializers.SerializerMethodField()

    class Meta:
        model = Reservation
        fields = [
            "id",
            "site",
            "model",
            "model_slug",
            "quantity",
            "requested",
            "status",
            "nodes",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_nodes(self, obj) -> list[int]:
        return sorted(n.pk for n in obj.nodes.all())
