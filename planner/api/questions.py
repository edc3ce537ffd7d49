"""Question endpoints: one APIView per rule-bound operation, each calling one service or selector.

Procurement may call every one of them (``question = True``); none writes unless told to ``commit``.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from planner import ai_factory, planning, resilience, retrofits, selectors, services
from planner import headroom as site_headroom
from planner.ai_factory import DEFAULT_REFERENCE_WORKLOAD, DEFAULT_SCENARIO
from planner.api import schema as sch
from planner.api.fields import FiniteFloatField, SafeIntegerField, SlugOrPkRelatedField, StrictBooleanField
from planner.api.filtering import reject_unknown_params
from planner.api.permissions import can_write
from planner.engine.failure import KINDS, Failure, validate_failures
from planner.models import REFERENCE_WORKLOADS, Scenario
from planner.validation import MAX_PLACE_QUANTITY, MAX_QUANTITY, MAX_TARGET_KW
from racks.models import NodeModel, Rack, Site

MAX_FAILURES = 100


class CheckRequest(serializers.Serializer):
    # The rack comes with its row, room and site: the check needs them (one query instead of two).
    rack = serializers.PrimaryKeyRelatedField(queryset=Rack.objects.select_related("row__room__site"))
    model = SlugOrPkRelatedField(queryset=NodeModel.objects.all(), help_text="Node model id or slug.")
    quantity = SafeIntegerField(min_value=1, max_value=MAX_PLACE_QUANTITY, default=1)
    u_position = SafeIntegerField(min_value=1, max_value=60, required=False, allow_null=True)

    def validate(self, attrs):
        if attrs.get("u_position") is not None and attrs["quantity"] != 1:
            raise serializers.ValidationError({"u_position": "Give u_position only when placing one unit."})
        return attrs


class PlacementCheckView(APIView):
    """Evaluate every placement rule for ``quantity`` units of a model in a rack. Never writes."""

    question = True

    @extend_schema(request=CheckRequest, responses={200: sch.PlacementCheckResponse})
    def post(self, request):
        reject_unknown_params(request, ())
        req = CheckRequest(data=request.data)
        req.is_valid(raise_exception=True)
        data = req.validated_data
        ctx, model, result = services.check_placement(
            rack_id=data["rack"].pk,
            model_id=data["model"].pk,
            quantity=data["quantity"],
            u_position=data.get("u_position"),
            rack=data["rack"],
            model=data["model"],
        )
        body = result.to_dict()
        body["headroom"] = retrofits.headroom_dict(ctx)
        failing = tuple(c.code for c in result.checks if c.status == "fail")
        body["retrofits"] = (
            retrofits.retrofit_options(
                ctx,
                extra=((selectors.node_model_spec(model), data["quantity"]),),
                failing_codes=failing,
                site=data["rack"].row.room.site,
            )
            if retrofits.offers_retrofits(failing)
            else []
        )
        return Response(body)


class RackHeadroomView(APIView):
    """Headroom of one rack in every dimension, what binds, and how many more of each model fit."""

    question = True

    @extend_schema(responses={200: sch.RackHeadroomResponse})
    def get(self, request, pk: int):
        reject_unknown_params(request, ())
        try:
            ctx = selectors.rack_context(pk)
        except Rack.DoesNotExist:
            raise NotFound(f"Rack {pk} does not exist.") from None
        return Response(retrofits.headroom_dict(ctx))


class RetrofitQuery(serializers.Serializer):
    model = SlugOrPkRelatedField(queryset=NodeModel.objects.all(), required=False)
    quantity = SafeIntegerField(min_value=1, max_value=MAX_PLACE_QUANTITY, default=1)
    target_kw = FiniteFloatField(min_value=0.0, max_value=MAX_TARGET_KW, required=False)

    def validate(self, attrs):
        if ("model" in attrs) == ("target_kw" in attrs):
            raise serializers.ValidationError("Give either model (with quantity) or target_kw.")
        return attrs


class RackRetrofitsView(APIView):
    """Retrofit options for a rack: for ``model`` x ``quantity`` more units, or for a total ``target_kw``."""

    question = True

    @extend_schema(
        parameters=[
            OpenApiParameter("model", str, description="Node model slug or id"),
            OpenApiParameter("quantity", int),
            OpenApiParameter("target_kw", float, description="Rack IT load to plan for, kW"),
        ],
        responses={200: sch.RackRetrofitsResponse},
    )
    def get(self, request, pk: int):
        reject_unknown_params(request, ("model", "quantity", "target_kw"))
        query = RetrofitQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        try:
            ctx = selectors.rack_context(pk)
        except Rack.DoesNotExist:
            raise NotFound(f"Rack {pk} does not exist.") from None
        if "model" in data:
            spec = selectors.node_model_spec(data["model"])
            options = retrofits.retrofit_options(ctx, extra=((spec, data["quantity"]),))
        else:
            options = retrofits.retrofit_options(ctx, target_kw=data["target_kw"])
        return Response({"rack": pk, "options": options})


class SiteHeadroomView(APIView):
    """Site totals in every dimension, with rooms and their rows nested."""

    question = True

    @extend_schema(responses={200: sch.SiteHeadroomResponse})
    def get(self, request, pk: int):
        reject_unknown_params(request, ())
        get_object_or_404(Site, pk=pk)
        return Response(site_headroom.site_headroom_of(pk))


class FeasibilityRequest(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    model = SlugOrPkRelatedField(queryset=NodeModel.objects.all(), help_text="Node model id or slug.")
    quantity = SafeIntegerField(min_value=1, max_value=MAX_QUANTITY)
    commit = StrictBooleanField(default=False, help_text="Reserve the placements as one reservation of planned nodes.")
    partial = StrictBooleanField(
        default=False,
        help_text="With commit: reserve what fits even when not all of it does (default: all or nothing).",
    )
    # KPI inputs (issue 17): the throughput basis and the prices that have no sourced default
    reference_workload = serializers.ChoiceField(
        choices=list(REFERENCE_WORKLOADS.items()),
        default=DEFAULT_REFERENCE_WORKLOAD,
        help_text="For the KPIs' tokens/s.",
    )
    scenario = serializers.ChoiceField(choices=Scenario.choices, default=DEFAULT_SCENARIO)
    hardware_usd_per_system = FiniteFloatField(
        min_value=0.0, required=False, allow_null=True, help_text="No sourced default: the cost KPI needs it."
    )
    hardware_lead_time_days = FiniteFloatField(
        min_value=0.0,
        max_value=3650.0,
        required=False,
        allow_null=True,
        help_text="Default PLANNER_HARDWARE_LEAD_TIME_DAYS.",
    )
    utilization = FiniteFloatField(
        min_value=0.0,
        max_value=1.0,
        default=1.0,
        help_text="For the energy figures only: share of max power used (default 1 = max power all year).",
    )
    idle_fraction = FiniteFloatField(
        min_value=0.0,
        max_value=1.0,
        required=False,
        allow_null=True,
        help_text="For the energy figures: idle draw / max draw (the TCO's idle floor; unsourced, §17.1).",
    )


class FeasibilityView(APIView):
    """Place N units of a model at a site: what fits now, where, what binds for the rest, what unlocks it."""

    question = True

    extra_error_statuses = (409,)

    @extend_schema(
        request=FeasibilityRequest,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="With commit: a retry with the same key within 24 h returns the same reservation "
                "instead of reserving again.",
            )
        ],
        responses={200: sch.FeasibilityResponse},
    )
    def post(self, request):
        reject_unknown_params(request, ())
        req = FeasibilityRequest(data=request.data)
        req.is_valid(raise_exception=True)
        data = req.validated_data
        if data["commit"] and not can_write(request.user):
            raise PermissionDenied("Only facilities users may commit placements.")
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if len(key) > 255:
            raise serializers.ValidationError({"Idempotency-Key": ["At most 255 characters."]})
        spec = selectors.node_model_spec(data["model"])
        plan = planning.plan_feasibility(selectors.site_snapshot(data["site"].pk), spec, data["quantity"])
        body = plan.to_dict()
        body["model"] = data["model"].slug
        body["kpis"] = ai_factory.plan_kpis(
            plan,
            data["site"],
            throughput=ai_factory.throughput_for(data["model"].pk, data["reference_workload"], data["scenario"]),
            gpus_per_system=data["model"].gpus,
            hardware_usd_per_system=data.get("hardware_usd_per_system"),
            hardware_lead_time_days=data.get("hardware_lead_time_days"),
        )
        if data["utilization"] != 1.0 or data.get("idle_fraction") is not None:
            body["energy"] = planning.order_energy(
                data["site"],
                spec,
                data["quantity"],
                utilization=data["utilization"],
                idle_fraction=data.get("idle_fraction"),
                optics_kw=plan.fabric["optics_kw"] if plan.fabric else 0.0,
            )
        headers = {}
        if data["commit"]:
            reservation, replayed = services.reservation_commit(
                site_id=data["site"].pk,
                model_id=data["model"].pk,
                quantity=data["quantity"],
                plan=plan,
                partial=data["partial"],
                user_id=request.user.pk,
                idempotency_key=key or None,
            )
            from planner.api.serializers import ReservationSerializer, reservation_queryset

            reservation = reservation_queryset().get(pk=reservation.pk)
            body["reservation"] = ReservationSerializer(reservation).data
            body["committed_node_ids"] = body["reservation"]["nodes"]
            if replayed:
                headers["Idempotent-Replayed"] = "true"
        return Response(body, headers=headers)


class TcoRequest(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    model = SlugOrPkRelatedField(queryset=NodeModel.objects.all(), help_text="Node model id or slug.")
    quantity = SafeIntegerField(min_value=1, max_value=MAX_QUANTITY)
    horizon_years = SafeIntegerField(min_value=1, max_value=30, default=5)
    utilization = FiniteFloatField(
        min_value=0.0, max_value=1.0, default=1.0, help_text="Share of the year at max power (0-1); 1 = training."
    )
    gpus_per_node = SafeIntegerField(
        min_value=0,
        max_value=1000,
        required=False,
        allow_null=True,
        help_text="For the GPU-hour options. Default: the catalogue's GPUs of the model (0 when unknown).",
    )
    cloud_usd_per_gpu_hour = FiniteFloatField(
        min_value=0.0, required=False, allow_null=True, help_text="Your own cloud price; no cloud column without it."
    )
    colo_usd_per_kw_month = FiniteFloatField(
        min_value=0.0, required=False, allow_null=True, help_text="Default: CBRE H2 2024, $184.06/kW/month."
    )
    colo_includes_power = StrictBooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: the config's colo_power_billed_separately (power billed on top, §7.3 [S56]).",
    )
    hardware_capex_usd = FiniteFloatField(
        min_value=0.0,
        max_value=1e12,
        required=False,
        allow_null=True,
        help_text="No sourced price: without it the on-prem and colocation totals are null (with the reason).",
    )
    retrofit_capex_usd = FiniteFloatField(
        min_value=0.0, required=False, allow_null=True, help_text="Default: the feasibility plan's retrofit cost."
    )
    idle_fraction = FiniteFloatField(
        min_value=0.0,
        max_value=1.0,
        required=False,
        allow_null=True,
        help_text="Idle draw / max draw (0-1). Unsourced (§17.1): default the config's; unset, energy is a range.",
    )
    discount_rate = FiniteFloatField(
        min_value=0.0, max_value=0.99, required=False, allow_null=True, help_text="Yearly, 0-0.99 (default 0)."
    )
    hardware_life_years = FiniteFloatField(
        min_value=0.1, max_value=50.0, required=False, allow_null=True, help_text="Depreciation; default horizon."
    )
    colo_lease_years = FiniteFloatField(
        min_value=0.1, max_value=50.0, required=False, allow_null=True, help_text="Default: the horizon."
    )
    neocloud_reserved_usd_per_gpu_hour = FiniteFloatField(
        min_value=0.0, required=False, allow_null=True, help_text="Default: the GPU's sourced price (§17.2)."
    )
    hyperscaler_on_demand_usd_per_gpu_hour = FiniteFloatField(
        min_value=0.0, required=False, allow_null=True, help_text="Default: the GPU's sourced price (§17.2)."
    )


class TcoView(APIView):
    """On-prem versus colocation versus GPU-hour clouds for an order: totals, NPV, payback, break-even
    utilisation, sensitivity, tornado and unamortized risk. Writes nothing."""

    question = True

    @extend_schema(request=TcoRequest, responses={200: sch.TcoResponse})
    def post(self, request):
        from planner.tco import TcoInputError, tco_for_order

        reject_unknown_params(request, ())
        req = TcoRequest(data=request.data)
        req.is_valid(raise_exception=True)
        data = dict(req.validated_data)
        try:
            body = tco_for_order(**data)
        except TcoInputError as exc:
            raise serializers.ValidationError(exc.errors) from None
        return Response(body)


class FailureItem(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    id = SafeIntegerField(min_value=1, help_text="Power source, PDU, rack (kind side) or cooling loop id.")
    side = serializers.ChoiceField(choices=["A", "B"], required=False, allow_null=True, help_text="Kind side only.")

    def validate(self, attrs):
        if attrs["kind"] == "side" and not attrs.get("side"):
            raise serializers.ValidationError({"side": ["Give side (A or B) with kind side."]})
        if attrs["kind"] != "side" and attrs.get("side"):
            raise serializers.ValidationError({"side": ["Give side only with kind side."]})
        return attrs


class WhatIfRequest(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    fail = FailureItem(many=True, allow_empty=False, max_length=MAX_FAILURES, help_text="The elements lost together.")


class WhatIfView(APIView):
    """Lose the given elements together: every rule re-run on the racks they touch (DESIGN "N-1")."""

    question = True

    @extend_schema(request=WhatIfRequest, responses={200: sch.WhatIfResponse})
    def post(self, request):
        reject_unknown_params(request, ())
        req = WhatIfRequest(data=request.data)
        req.is_valid(raise_exception=True)
        data = req.validated_data
        site_id = data["site"].pk
        failures = [Failure(item["kind"], item["id"], item.get("side")) for item in data["fail"]]
        index = selectors.site_failure_index(site_id)
        errors = {}
        for i, failure in enumerate(failures):
            try:
                validate_failures(index, [failure])
            except ValueError as exc:
                errors[f"fail.{i}.id"] = [str(exc)]
        if errors:
            raise serializers.ValidationError(errors)
        return Response({"site": site_id, **resilience.run_what_if(index, failures)})


class SiteResilienceView(APIView):
    """The N-1 sweep of a site: every single element lost in turn, worst first, and the single points of
    failure (an element whose loss makes a rack that passes now fail)."""

    question = True

    @extend_schema(responses={200: sch.ResilienceResponse})
    def get(self, request, pk: int):
        reject_unknown_params(request, ())
        try:
            # The same sweep the resilience page, the dashboard and the report show (cached per budget token).
            return Response(resilience.site_resilience(pk))
        except Site.DoesNotExist:
            raise NotFound(f"Site {pk} does not exist.") from None
