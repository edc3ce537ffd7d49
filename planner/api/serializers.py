"""Serializers of the REST contract. Field names are the contract: add freely, never rename."""

from __future__ import annotations

import copy
from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models.functions import Lower
from rest_framework import serializers
from rest_framework.settings import api_settings

from cooling.models import CoolingLoop
from planner import engine, selectors
from planner.api.fields import CleanCharField, FiniteFloatField, SafeIntegerField, SlugOrPkRelatedField
from planner.engine import fabric as engine_fabric
from planner.models import Reservation
from planner.validation import WRITABLE_FIELDS
from racks.models import Fabric, Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site, Switch


class StrictFieldsMixin:
    """A write naming a field the resource does not have answers 400 naming it, and nothing is written.

    DRF drops unknown keys silently: a typo (``capacity_kW``) or a field of another resource would answer
    200, write a history row and renew the site's budget token without changing anything the caller meant.

    Read-only fields (``id``, computed figures such as ``usable_kw``, ``model_slug``, ``created_at``) are
    accepted only when they repeat what the object already shows, so a body read with GET can be sent back
    with PUT; any other value answers 400 too (the planner computes it; ignoring it would drop what the
    caller meant, e.g. ``usable_kw`` to "set" a PDU's capacity). A create has nothing to repeat: a read-only
    field there answers 400. A PATCH that names no writable field at all (an empty body, or only repeated
    read-only fields) answers 400 too: it could change nothing.
    """

    MAX_NAMED = 20

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {}
            for key in sorted(map(str, data)):
                field = self.fields.get(key)
                if field is None:
                    errors[key[:100]] = ["Unknown field."]
                elif field.read_only and not self._repeats_current(key, data[key]):
                    errors[key] = ["Read-only: computed or assigned by the planner; it cannot be set."]
                if len(errors) >= self.MAX_NAMED:
                    break
            if errors:
                raise serializers.ValidationError(errors)
            if self.partial and not any(not self.fields[key].read_only for key in data):
                # Nothing would change, yet the save would write a history row and renew the budget token.
                raise serializers.ValidationError(
                    {api_settings.NON_FIELD_ERRORS_KEY: ["Nothing to change: the body names no writable field."]}
                )
        return super().to_internal_value(data)

    def _repeats_current(self, key: str, value) -> bool:
        if self.instance is None or isinstance(self.instance, (list, tuple, models.QuerySet)):
            return False
        current = getattr(self, "_current_representation", None)
        if current is None:
            current = self._current_representation = self.to_representation(self.instance)
        return key in current and current[key] == value


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


class PlannerModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Maps model fields to the strict API fields (finite floats, no booleans as numbers, clean names); refuses
    unknown fields (``StrictFieldsMixin``) and case-insensitive duplicates (``CaseInsensitiveUnique``)."""

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


def model_clean(serializer, attrs: dict, *, prepare=None) -> None:
    """Run the model's ``clean()`` (its cross-row invariants: one copy, shared with the admin, the forms and the
    write-time guard) on the object as this request would save it; its errors become field errors (400).

    ``prepare(obj)`` may set what ``clean()`` reads besides fields (a loop's ``pending_rack_ids``). Many-to-many
    values are not assigned: a model's ``clean()`` cannot read them from the instance.
    """
    model = serializer.Meta.model
    obj = copy.copy(serializer.instance) if serializer.instance is not None else model()
    many = {f.name for f in model._meta.many_to_many}
    for name, value in attrs.items():
        if name not in many:
            setattr(obj, name, value)
    if prepare is not None:
        prepare(obj)
    try:
        obj.clean()
    except DjangoValidationError as exc:
        raise serializers.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        ) from None


class SiteSerializer(PlannerModelSerializer):
    class Meta:
        model = Site
        fields = ["id", *WRITABLE_FIELDS["site"]]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model_clean(self, attrs)  # coordinates in pairs, an interconnect expansion with its date
        return attrs


class RoomSerializer(PlannerModelSerializer):
    class Meta:
        model = Room
        fields = ["id", *WRITABLE_FIELDS["room"]]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model_clean(self, attrs)  # not moved to another site while its old site refers to its racks or loops
        return attrs


class RowSerializer(PlannerModelSerializer):
    class Meta:
        model = Row
        fields = ["id", *WRITABLE_FIELDS["row"]]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model_clean(self, attrs)  # not moved while the old site or room refers to its racks
        return attrs


class RackSerializer(PlannerModelSerializer):
    class Meta:
        model = Rack
        fields = ["id", *WRITABLE_FIELDS["rack"]]

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        given = hasattr(data, "get") and data.get("position") is not None
        if self.instance is None and not given and attrs.get("row") is not None:
            from planner.services.bulk import rack_next_position

            # A new rack without a position takes the row's next free slot (the default 1 collided), before the
            # unique-together validators run.
            attrs["position"] = rack_next_position(row_id=attrs["row"].pk)
        return attrs

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model_clean(self, attrs)  # not shorter than its nodes; not moved while the old site or room refers to it
        return attrs


class PowerSourceSerializer(PlannerModelSerializer):
    usable_kw = serializers.SerializerMethodField(
        help_text="capacity_kva x power_factor when rated in kVA (the smaller of that and capacity_kw when both are "
        "given), else capacity_kw; x the site's power_derating for a panel or busway not listed for 100 % "
        "continuous operation when the site applies derate_distribution (NEC continuous-load rule), kW."
    )

    class Meta:
        model = PowerSource
        fields = ["id", *WRITABLE_FIELDS["power_source"], "usable_kw"]

    def get_usable_kw(self, obj: PowerSource) -> float:
        return round(selectors.source_rating(obj, obj.site)[1], 4)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        # A rating (kW or kVA; kW <= kVA x PF), parent of the same site, no loop, feeds only its own site.
        model_clean(self, attrs)
        return attrs


class PduSerializer(PlannerModelSerializer):
    usable_kw = serializers.SerializerMethodField(
        help_text="voltage_v x current_a x (sqrt(3) if 3-phase) x site power_derating x power_factor / 1000, kW."
    )

    class Meta:
        model = Pdu
        fields = ["id", *WRITABLE_FIELDS["pdu"], "usable_kw"]

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
        model_clean(self, attrs)  # the source is of the rack's site
        return attrs


class CoolingLoopSerializer(PlannerModelSerializer):
    usable_kw = serializers.SerializerMethodField(help_text="unit_capacity_kw x (units - redundant_units), kW.")
    racks = serializers.PrimaryKeyRelatedField(many=True, queryset=Rack.objects.all(), required=False)

    class Meta:
        model = CoolingLoop
        fields = ["id", *WRITABLE_FIELDS["cooling_loop"], "usable_kw"]

    def get_usable_kw(self, obj: CoolingLoop) -> float:
        return round(engine.loop_usable_kw(obj.unit_capacity_kw, obj.units, obj.redundant_units), 4)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        # Units, redundancy and fluid agree (CoolingLoop.design_errors); the room is of the loop's site, the racks
        # in its room or site (the racks given here, else those it lists).
        pending = [rack.pk for rack in attrs["racks"]] if "racks" in attrs else None
        if pending is not None and self.instance is not None:
            self.instance.pending_rack_ids = pending  # the write-time guard checks these, not the stored ones

        def prepare(obj):
            obj.pending_rack_ids = pending

        model_clean(self, attrs, prepare=prepare)
        return attrs


class NodeModelSerializer(PlannerModelSerializer):
    class Meta:
        model = NodeModel
        fields = ["id", *WRITABLE_FIELDS["node_model"]]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model_clean(self, attrs)  # PSUs, powers and liquid fraction agree (NodeModel.clean)
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


class FabricSerializer(PlannerModelSerializer):
    racks = serializers.PrimaryKeyRelatedField(many=True, queryset=Rack.objects.all(), required=False)
    media = serializers.ListField(
        child=serializers.ChoiceField(choices=list(engine_fabric.MEDIA_NAMES)),
        required=False,
        help_text="Allowed link media, e.g. passive_copper, active_copper, aoc, multimode, single_mode; empty = all.",
    )

    class Meta:
        model = Fabric
        fields = ["id", *WRITABLE_FIELDS["fabric"]]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        site = attrs.get("site", getattr(self.instance, "site", None))
        racks = attrs.get("racks")
        if site is not None and racks:
            wrong = sorted(
                r.pk for r in Rack.objects.filter(pk__in=[r.pk for r in racks]).exclude(row__room__site=site)
            )
            if wrong:
                raise serializers.ValidationError({"racks": [f"Rack {wrong[0]} is not in the fabric's site."]})
        moved = self.instance is not None and "site" in attrs and attrs["site"].pk != self.instance.site_id
        if moved and (self.instance.switches.exists() or (racks is None and self.instance.racks.exists())):
            raise serializers.ValidationError({"site": ["A fabric with switches or racks cannot change site."]})
        return attrs


class SwitchSerializer(PlannerModelSerializer):
    """A fabric switch; ``rack``, ``u_position``, ``u_height``, ``max_power_kw`` and ``weight_kg`` are those of the
    node it stands in the rack as (its load counts in every rule)."""

    rack = serializers.PrimaryKeyRelatedField(queryset=Rack.objects.all(), help_text="Rack the switch stands in.")
    u_position = SafeIntegerField(min_value=1, required=False, help_text="Lowest U; omit for the lowest free block.")
    u_height = SafeIntegerField(min_value=1, max_value=60)
    max_power_kw = FiniteFloatField(min_value=0.0, help_text="Maximum input power, kW (budgeted like a node's).")
    weight_kg = FiniteFloatField(min_value=0.0)
    uplink_ports = SafeIntegerField(
        min_value=0, required=False, allow_null=True, help_text="Ports toward spines; null = half the radix."
    )

    class Meta:
        model = Switch
        fields = ["id", *WRITABLE_FIELDS["switch"]]

    NODE_SIDE = ("rack", "u_position", "u_height", "max_power_kw", "weight_kg")

    def to_representation(self, instance):
        node = instance.node
        from_node = {
            "rack": node.rack_id,
            "u_position": node.u_position,
            "u_height": node.model.u_height,
            "max_power_kw": node.model.max_power_kw,
            "weight_kg": node.model.weight_kg,
        }
        data = {}
        for name, field in self.fields.items():
            if name in from_node:
                data[name] = from_node[name]
                continue
            attr = field.get_attribute(instance)
            data[name] = None if attr is None else field.to_representation(attr)
        return data

    def validate(self, attrs):
        attrs = super().validate(attrs)
        fabric = attrs.get("fabric", getattr(self.instance, "fabric", None))
        if self.instance is not None and "fabric" in attrs and attrs["fabric"].pk != self.instance.fabric_id:
            raise serializers.ValidationError({"fabric": ["A switch cannot move to another fabric."]})
        rack = attrs.get("rack")
        if fabric is not None and rack is not None and rack.row.room.site_id != fabric.site_id:
            raise serializers.ValidationError({"rack": ["The rack is not in the fabric's site."]})
        return attrs
