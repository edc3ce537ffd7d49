"""``POST rows/{id}/racks/bulk/`` (a row of racks with A+B PDUs from one template) and ``POST racks/{id}/clone/``
(a rack with its PDUs): thin actions over ``planner.services.bulk``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from planner.api.serializers import RackSerializer
from planner.services import bulk
from racks.models import Pdu, PowerSource


class RowRacksBulkSerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=bulk.MAX_ROW_RACKS, help_text="Racks to add.")
    name_prefix = serializers.CharField(max_length=90, help_text="Each rack is named prefix + number, e.g. R1-01.")
    first_number = serializers.IntegerField(min_value=0, max_value=999_999, default=1)
    digits = serializers.IntegerField(min_value=1, max_value=6, default=2, help_text="Zero-padded to this width.")
    first_position = serializers.IntegerField(
        min_value=1, required=False, help_text="Slot of the first rack; default the row's next free position."
    )
    u_height = serializers.IntegerField(min_value=1, max_value=60, default=42)
    width_mm = serializers.FloatField(min_value=1, max_value=10_000, default=600)
    depth_mm = serializers.FloatField(min_value=1, max_value=10_000, default=1200)
    max_load_kg = serializers.FloatField(min_value=0, max_value=100_000)
    empty_weight_kg = serializers.FloatField(min_value=0, max_value=100_000)
    pdu_sides = serializers.ListField(
        child=serializers.ChoiceField(choices=Pdu.Side.choices),
        default=["A", "B"],
        max_length=2,
        help_text="One PDU per side listed (named PDU-A, PDU-B); empty = no PDU.",
    )
    pdu_phases = serializers.ChoiceField(choices=Pdu.Phases.choices, default=3)
    pdu_voltage_v = serializers.FloatField(min_value=1, max_value=1000, default=415)
    pdu_current_a = serializers.FloatField(min_value=0.1, max_value=1000, default=32)
    pdu_power_factor = serializers.FloatField(min_value=0.01, max_value=1.0, default=1.0)
    source_a = serializers.PrimaryKeyRelatedField(queryset=PowerSource.objects.all(), required=False, allow_null=True)
    source_b = serializers.PrimaryKeyRelatedField(queryset=PowerSource.objects.all(), required=False, allow_null=True)

    def validate_pdu_sides(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError("A side appears more than once.")
        return value


class RackCloneSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, help_text="Default: <name>-copy.")
    row = serializers.IntegerField(min_value=1, required=False, help_text="Default: the rack's own row.")
    position = serializers.IntegerField(min_value=1, required=False, help_text="Default: the next free one.")


class RowRacksBulkMixin:
    @extend_schema(
        request=RowRacksBulkSerializer,
        responses={201: RackSerializer(many=True)},
        summary="Add a row of racks with their PDUs (all or nothing)",
    )
    @action(detail=True, methods=["post"], url_path="racks/bulk", pagination_class=None)
    def racks_bulk(self, request, pk=None):
        row = self.get_object()
        body = RowRacksBulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        racks = bulk.racks_create_row(
            row_id=row.pk,
            count=d["count"],
            name_prefix=d["name_prefix"],
            first_number=d["first_number"],
            digits=d["digits"],
            first_position=d.get("first_position"),
            u_height=d["u_height"],
            width_mm=d["width_mm"],
            depth_mm=d["depth_mm"],
            max_load_kg=d["max_load_kg"],
            empty_weight_kg=d["empty_weight_kg"],
            pdus=bulk.PduTemplate(
                sides=tuple(d["pdu_sides"]),
                phases=int(d["pdu_phases"]),
                voltage_v=d["pdu_voltage_v"],
                current_a=d["pdu_current_a"],
                power_factor=d["pdu_power_factor"],
                source_a_id=d["source_a"].pk if d.get("source_a") else None,
                source_b_id=d["source_b"].pk if d.get("source_b") else None,
            ),
        )
        return Response(RackSerializer(racks, many=True).data, status=status.HTTP_201_CREATED)


class RackCloneMixin:
    @extend_schema(
        request=RackCloneSerializer,
        responses={201: RackSerializer},
        summary="Clone a rack with its PDUs (nodes are not copied)",
    )
    @action(detail=True, methods=["post"])
    def clone(self, request, pk=None):
        rack = self.get_object()
        body = RackCloneSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        clone = bulk.rack_clone(rack_id=rack.pk, name=d.get("name"), row_id=d.get("row"), position=d.get("position"))
        return Response(RackSerializer(clone).data, status=status.HTTP_201_CREATED)
