"""``reservations/``: what committed feasibility plans hold; install or release one as a set."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from planner import services
from planner.api.brief import BriefMixin, with_brief
from planner.api.serializers import ReservationSerializer, reservation_queryset
from planner.models import Reservation


def reservation_kpis(reservation) -> dict:
    """The KPIs of a reservation's units as placed (no retrofit: they passed every rule when reserved), at the
    default reference workload (Llama 2 70B Server)."""
    from types import SimpleNamespace

    from planner import ai_factory, selectors

    model = reservation.model
    plan = SimpleNamespace(
        fits_now=True, requested=reservation.quantity, unplaced=0, retrofits=(), model=selectors.node_model_spec(model)
    )
    return ai_factory.plan_kpis(
        plan,
        reservation.site,
        throughput=ai_factory.throughput_for(
            model.pk, ai_factory.DEFAULT_REFERENCE_WORKLOAD, ai_factory.DEFAULT_SCENARIO
        ),
        gpus_per_system=model.gpus,
    )


class ReservationFilter(filters.FilterSet):
    class Meta:
        model = Reservation
        fields = {"site": ["exact"], "model": ["exact"], "status": ["exact"]}


@with_brief
class ReservationViewSet(BriefMixin, viewsets.ReadOnlyModelViewSet):
    """Reservations made by ``POST feasibility/`` with ``commit: true``. Read them here; install or release one
    (all its nodes together) with the two actions."""

    queryset = reservation_queryset()
    serializer_class = ReservationSerializer
    filterset_class = ReservationFilter
    ordering_fields = ["created_at", "id", "quantity"]
    extra_error_statuses = (409,)

    def retrieve(self, request, *args, **kwargs):
        """One reservation, with the KPIs of what it holds (issue 17; the list leaves them out: a query each)."""
        response = super().retrieve(request, *args, **kwargs)
        if isinstance(response.data, dict) and "quantity" in response.data:  # not the brief shape
            response.data["kpis"] = reservation_kpis(self.get_object())
        return response

    @extend_schema(request=None, responses={200: ReservationSerializer})
    @action(detail=True, methods=["post"])
    def install(self, request, pk=None):
        """Mark every node of a held reservation installed (409 unless held)."""
        reservation = services.reservation_install(reservation_id=self.get_object().pk)
        return Response(ReservationSerializer(reservation_queryset().get(pk=reservation.pk)).data)

    @extend_schema(request=None, responses={200: ReservationSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Give a held reservation back: its planned nodes are removed, freeing their capacity (409 unless held)."""
        reservation = services.reservation_release(reservation_id=self.get_object().pk)
        return Response(ReservationSerializer(reservation_queryset().get(pk=reservation.pk)).data)
