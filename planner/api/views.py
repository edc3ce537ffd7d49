"""CRUD viewsets for the reference data of the REST contract.

Every list is paginated (limit/offset) and answers in a fixed number of queries: parents are joined with
select_related and many-to-many sets prefetched, never fetched per row.
"""

from __future__ import annotations

import re

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from cooling.models import CoolingLoop
from planner import services
from planner.api import schema as sch
from planner.api import serializers as s
from planner.api.brief import BriefMixin, with_brief
from planner.api.bulk import BulkMixin
from planner.api.history import HistoryMixin
from planner.api.racks_bulk import RackCloneMixin, RowRacksBulkMixin
from racks.models import Fabric, Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site, Switch

ID_PATTERN = re.compile(r"[0-9]{1,18}")


class ConfirmDeleteMixin:
    """Deleting something that still holds nodes is refused (409) unless ``?confirm=true``."""

    node_lookup: str
    extra_query_params = ("confirm",)

    def _ensure_confirmed(self, holder) -> None:
        services.ensure_delete_confirmed(
            holder=holder,
            node_count=Node.objects.filter(**{self.node_lookup: holder}).count(),
            confirm=self.request.query_params.get("confirm", ""),
        )

    def destroy(self, request, *args, **kwargs):
        self._ensure_confirmed(self.get_object())
        return super().destroy(request, *args, **kwargs)

    def destroy_one(self, instance) -> None:
        """One item of a bulk delete: the same confirmation as a single delete."""
        self._ensure_confirmed(instance)
        self.perform_destroy(instance)


@with_brief
class SiteViewSet(BriefMixin, HistoryMixin, ConfirmDeleteMixin, BulkMixin, viewsets.ModelViewSet):
    queryset = Site.objects.all()
    serializer_class = s.SiteSerializer
    filterset_fields = {"slug": ["exact"], "country": ["exact"], "name": ["exact", "icontains"]}
    search_fields = ["name", "slug", "country"]
    ordering_fields = ["name", "id"]
    node_lookup = "rack__row__room__site"


@with_brief
class RoomViewSet(BriefMixin, HistoryMixin, ConfirmDeleteMixin, BulkMixin, viewsets.ModelViewSet):
    queryset = Room.objects.all()
    serializer_class = s.RoomSerializer
    filterset_fields = {"site": ["exact"], "floor_type": ["exact"], "name": ["exact", "icontains"]}
    search_fields = ["name"]
    ordering_fields = ["name", "id"]
    node_lookup = "rack__row__room"


class RowFilter(filters.FilterSet):
    site = filters.NumberFilter(field_name="room__site")

    class Meta:
        model = Row
        fields = {"room": ["exact"], "containment": ["exact"], "name": ["exact", "icontains"]}


@with_brief
class RowViewSet(BriefMixin, HistoryMixin, RowRacksBulkMixin, ConfirmDeleteMixin, BulkMixin, viewsets.ModelViewSet):
    queryset = Row.objects.all()
    serializer_class = s.RowSerializer
    filterset_class = RowFilter
    search_fields = ["name"]
    ordering_fields = ["name", "id"]
    node_lookup = "rack__row"


class RackFilter(filters.FilterSet):
    room = filters.NumberFilter(field_name="row__room")
    site = filters.NumberFilter(field_name="row__room__site")

    class Meta:
        model = Rack
        fields = {"row": ["exact"], "name": ["exact", "icontains"]}


@with_brief
class RackViewSet(BriefMixin, HistoryMixin, RackCloneMixin, ConfirmDeleteMixin, BulkMixin, viewsets.ModelViewSet):
    queryset = Rack.objects.all()
    serializer_class = s.RackSerializer
    filterset_class = RackFilter
    search_fields = ["name"]
    ordering_fields = ["name", "position", "id"]
    node_lookup = "rack"


@with_brief
class PowerSourceViewSet(BriefMixin, HistoryMixin, BulkMixin, viewsets.ModelViewSet):
    queryset = PowerSource.objects.select_related("site")
    serializer_class = s.PowerSourceSerializer
    filterset_fields = {"site": ["exact"], "kind": ["exact"], "parent": ["exact", "isnull"]}
    search_fields = ["name"]
    ordering_fields = ["name", "id"]


class PduFilter(filters.FilterSet):
    row = filters.NumberFilter(field_name="rack__row")
    site = filters.NumberFilter(field_name="rack__row__room__site")

    class Meta:
        model = Pdu
        fields = {"rack": ["exact"], "side": ["exact"], "source": ["exact"]}


@with_brief
class PduViewSet(BriefMixin, HistoryMixin, BulkMixin, viewsets.ModelViewSet):
    queryset = Pdu.objects.select_related("rack__row__room__site")
    serializer_class = s.PduSerializer
    filterset_class = PduFilter
    search_fields = ["name"]
    ordering_fields = ["name", "id"]


class CoolingLoopFilter(filters.FilterSet):
    rack = filters.NumberFilter(field_name="racks", distinct=True)

    class Meta:
        model = CoolingLoop
        fields = {"site": ["exact"], "room": ["exact", "isnull"], "kind": ["exact"]}


@with_brief
class CoolingLoopViewSet(BriefMixin, HistoryMixin, BulkMixin, viewsets.ModelViewSet):
    queryset = CoolingLoop.objects.prefetch_related("racks")
    serializer_class = s.CoolingLoopSerializer
    filterset_class = CoolingLoopFilter
    search_fields = ["name"]
    ordering_fields = ["name", "id"]


@with_brief
class NodeModelViewSet(BriefMixin, HistoryMixin, BulkMixin, viewsets.ModelViewSet):
    queryset = NodeModel.objects.all()
    serializer_class = s.NodeModelSerializer
    filterset_fields = {"cooling": ["exact"], "rack_scale": ["exact"], "vendor": ["exact"], "slug": ["exact"]}
    search_fields = ["slug", "name", "vendor"]
    ordering_fields = ["name", "max_power_kw", "id"]


class NodeFilter(filters.FilterSet):
    row = filters.NumberFilter(field_name="rack__row")
    room = filters.NumberFilter(field_name="rack__row__room")
    site = filters.NumberFilter(field_name="rack__row__room__site")
    model = filters.CharFilter(method="filter_model", help_text="Node model id or slug.")

    class Meta:
        model = Node
        fields = {"rack": ["exact"], "status": ["exact"]}

    def filter_model(self, queryset, name, value):
        # An id is ASCII digits that fit a bigint; anything else is a slug (unicode digits included).
        if ID_PATTERN.fullmatch(value):
            return queryset.filter(model_id=int(value))
        return queryset.filter(model__slug=value)


@with_brief
@extend_schema_view(
    partial_update=extend_schema(responses={200: s.NodeSerializer, 409: sch.PlacementConflictSerializer})
)
class NodeViewSet(BriefMixin, HistoryMixin, BulkMixin, viewsets.ModelViewSet):
    """Placed systems. Creating or moving one runs every placement rule; a fail answers 409 and writes nothing."""

    queryset = Node.objects.select_related("model")
    serializer_class = s.NodeSerializer
    filterset_class = NodeFilter
    search_fields = ["name", "model__slug"]
    ordering_fields = ["u_position", "name", "id", "created_at"]

    def create_one(self, data):
        serializer = self.get_serializer(data=data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return services.node_create(
            rack_id=data["rack"].pk,
            model_id=data["model"].pk,
            u_position=data.get("u_position"),
            name=data.get("name") or None,
            status=data.get("status", Node.Status.PLANNED),
        )

    def update_one(self, instance, data, partial: bool):
        serializer = self.get_serializer(instance, data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return services.node_update(
            node_id=instance.pk,
            rack_id=data["rack"].pk if "rack" in data else None,
            model_id=data["model"].pk if "model" in data else None,
            u_position=data.get("u_position"),
            name=data.get("name"),
            status=data.get("status"),
        )

    def destroy_one(self, instance) -> None:
        services.node_delete(node_id=instance.pk)

    @extend_schema(responses={201: s.NodeSerializer, 409: sch.PlacementConflictSerializer})
    def create(self, request, *args, **kwargs):
        if isinstance(request.data, list):
            return super().create(request, *args, **kwargs)  # the bulk path, through create_one per item
        node = self.create_one(request.data)
        return Response(self.get_serializer(node).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.NodeSerializer, 409: sch.PlacementConflictSerializer})
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        node = self.update_one(self.get_object(), request.data, partial)
        return Response(self.get_serializer(node).data)

    def destroy(self, request, *args, **kwargs):
        self.destroy_one(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@with_brief
class FabricViewSet(BriefMixin, HistoryMixin, BulkMixin, viewsets.ModelViewSet):
    """Network fabrics (reference §11): the racks each serves; its switches are ``switches/``."""

    queryset = Fabric.objects.select_related("site").prefetch_related("racks")
    serializer_class = s.FabricSerializer
    filterset_fields = {"site": ["exact"], "kind": ["exact"], "purpose": ["exact"], "name": ["exact", "icontains"]}
    search_fields = ["name"]
    ordering_fields = ["name", "id"]


class SwitchFilter(filters.FilterSet):
    rack = filters.NumberFilter(field_name="node__rack")
    site = filters.NumberFilter(field_name="fabric__site")

    class Meta:
        model = Switch
        fields = {"fabric": ["exact"], "role": ["exact"], "name": ["exact", "icontains"]}


@with_brief
class SwitchViewSet(BriefMixin, HistoryMixin, BulkMixin, viewsets.ModelViewSet):
    """Fabric switches. Creating one places it in its rack (every rule runs; a fail answers 409, nothing written)."""

    queryset = Switch.objects.select_related("node__model", "fabric")
    serializer_class = s.SwitchSerializer
    filterset_class = SwitchFilter
    search_fields = ["name"]
    ordering_fields = ["name", "id"]

    def create_one(self, data):
        serializer = self.get_serializer(data=data)
        serializer.is_valid(raise_exception=True)
        d = serializer.validated_data
        return services.switch_create(
            fabric_id=d["fabric"].pk,
            rack_id=d["rack"].pk,
            name=d["name"],
            role=d.get("role", Switch.Role.LEAF),
            ports=d["ports"],
            port_speed_gbps=d["port_speed_gbps"],
            uplink_ports=d.get("uplink_ports"),
            rail=d.get("rail"),
            u_height=d["u_height"],
            max_power_kw=d["max_power_kw"],
            weight_kg=d["weight_kg"],
            u_position=d.get("u_position"),
        )

    def update_one(self, instance, data, partial: bool):
        serializer = self.get_serializer(instance, data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "rack" in changes:
            changes["rack"] = changes["rack"].pk
        changes.pop("fabric", None)
        return services.switch_update(switch_id=instance.pk, **changes)

    def destroy_one(self, instance) -> None:
        services.switch_delete(switch_id=instance.pk)

    @extend_schema(responses={201: s.SwitchSerializer, 409: sch.PlacementConflictSerializer})
    def create(self, request, *args, **kwargs):
        if isinstance(request.data, list):
            return super().create(request, *args, **kwargs)
        sw = self.create_one(request.data)
        return Response(self.get_serializer(sw).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.SwitchSerializer, 409: sch.PlacementConflictSerializer})
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        sw = self.update_one(self.get_object(), request.data, partial)
        return Response(self.get_serializer(sw).data)

    def destroy(self, request, *args, **kwargs):
        self.destroy_one(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
