"""The OpenAPI contract beyond what drf-spectacular infers: error responses, and the question answers typed.

``PlannerAutoSchema`` (``DEFAULT_SCHEMA_CLASS``) documents, for every operation, each error status it can
answer, all in the one ``ApiError`` shape (planner/api/exceptions.py): one central place instead of a copy per
view. The ``*Response`` serializers below only describe answers (the engine builds them); they let generated
clients make models for the question endpoints.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import permissions, serializers

from planner.api.serializers import ReservationSerializer

ERROR_DESCRIPTIONS = {
    400: "Invalid input or an unknown query parameter: `errors` names each field (nothing was written).",
    401: "No or invalid credentials (`Authorization: Token <key>`).",
    403: "The user's role may not do this.",
    404: "No such object.",
    406: "The `Accept` header asks for a format the API does not serve (JSON).",
    409: "Refused by a rule or by what still depends on the object (nothing was written).",
    413: "The request body is too large.",
    415: "The request body is not `application/json`.",
    429: "Too many requests: wait for the `Retry-After` seconds.",
    500: "Server error: nothing was saved.",
    503: "Temporarily unavailable (the database is down): retry later.",
}

WRITE_METHODS = ("POST", "PUT", "PATCH")
# The bulk action -> the single operation whose id it would otherwise repeat.
BULK_ACTIONS = {"bulk_update": "update", "bulk_partial_update": "partial_update", "bulk_destroy": "destroy"}


def _one_or_list(single: dict, description: str) -> dict:
    from planner.api.bulk import MAX_ITEMS

    many = {"type": "array", "minItems": 1, "maxItems": MAX_ITEMS, "items": single}
    return {"oneOf": [single, many], "description": description}


class ApiErrorSerializer(serializers.Serializer):
    """Every error under /api/. A 409 may carry more keys (a refused placement: its check result)."""

    status = serializers.IntegerField(help_text="The HTTP status code.")
    code = serializers.CharField(help_text="A machine-readable error kind (not_found, invalid, throttled, ...).")
    detail = serializers.CharField(help_text="What went wrong, for a person.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field path (`name`, `fail.0.kind`, `3.slug` for item 3 of a bulk list) -> messages; "
        "empty when the error is not about a field.",
    )

    class Meta:
        ref_name = "ApiError"


class PlannerAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with every error status documented per operation."""

    def _error_statuses(self) -> list[int]:
        view = self.view
        public = any(
            isinstance(p, type) and issubclass(p, permissions.AllowAny) for p in getattr(view, "permission_classes", ())
        )
        codes = [400, 406, 500, 503]
        if not public:
            codes += [401, 403]
        if "{" in self.path:
            codes.append(404)
        if self.method in WRITE_METHODS:
            codes += [413, 415]
        if self.method in (*WRITE_METHODS, "DELETE") and getattr(view, "queryset", None) is not None:
            codes.append(409)
        if getattr(view, "throttle_classes", ()):
            codes.append(429)
        return sorted(set(codes) | set(getattr(view, "extra_error_statuses", ())))

    def _bulk(self) -> str | None:
        """The operation's action when it is one that takes a list body (planner/api/bulk.py), else None."""
        action = getattr(self.view, "action", None)
        if hasattr(self.view, "bulk_destroy") and (action == "create" or action in BULK_ACTIONS):
            return action
        return None

    def get_operation_id(self):
        # The bulk operations share their path with list and create: without this their ids would repeat the
        # detail operations' (racks_update), which generated clients refuse.
        operation_id = super().get_operation_id()
        action = self._bulk()
        if action in BULK_ACTIONS and operation_id.endswith(BULK_ACTIONS[action]):
            return operation_id[: -len(BULK_ACTIONS[action])] + action
        return operation_id

    def _get_request_body(self, direction="request"):
        from planner.api.bulk import DELETE_BODY

        action = self._bulk()
        if action == "bulk_destroy":  # drf-spectacular documents no body for a DELETE
            return {"content": {media: {"schema": schema} for media, schema in DELETE_BODY.items()}, "required": True}
        body = super()._get_request_body(direction)
        if action == "create" and body:
            for media in body.get("content", {}).values():
                media["schema"] = _one_or_list(media["schema"], "One object, or a list for an atomic bulk create.")
        return body

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        action = self._bulk()
        code = "201" if action == "create" else "200"
        media = (responses.get(code) or {}).get("content", {}).get("application/json")
        if action in ("create", "bulk_update", "bulk_partial_update") and media and "schema" in media:
            media["schema"] = (
                _one_or_list(media["schema"], "The object created, or the list of them for a list body.")
                if action == "create"
                else {"type": "array", "items": media["schema"]}
            )
        ref = self.resolve_serializer(ApiErrorSerializer, "response").ref
        for code in self._error_statuses():
            key = str(code)
            existing = responses.get(key) or {}
            content = existing.get("content", {}).get("application/json", {}).get("schema")
            if content and content.get("$ref") and content != ref and code == 409:
                # A view documented its own, more specific conflict body (it extends ApiError).
                existing["description"] = existing.get("description") or ERROR_DESCRIPTIONS[code]
                continue
            responses[key] = {
                "description": existing.get("description") or ERROR_DESCRIPTIONS[code],
                "content": {"application/json": {"schema": ref}},
            }
        return responses


class NodeModelRefExtension(OpenApiSerializerFieldExtension):
    """``model`` is "id or slug": ``oneOf: [integer, string]`` in the schema."""

    target_class = "planner.api.fields.SlugOrPkRelatedField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return build_basic_type(OpenApiTypes.INT)
        return {
            "oneOf": [build_basic_type(OpenApiTypes.INT), {"type": "string", "minLength": 1}],
            "description": "Node model id or slug.",
        }


# ---- question answers ------------------------------------------------------------------------------------


def _float(**kw):
    return serializers.FloatField(**kw)


def _nfloat(**kw):
    return serializers.FloatField(allow_null=True, **kw)


class RuleCheckSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.ChoiceField(choices=["ok", "warn", "fail"])
    message = serializers.CharField()
    value = _nfloat()
    limit = _nfloat()
    unit = serializers.CharField(allow_blank=True)


class KwHeadroomSerializer(serializers.Serializer):
    capacity_kw = _nfloat()
    load_kw = _float()
    headroom_kw = _nfloat()
    limited_by = serializers.CharField(allow_null=True, required=False)
    utility_capacity_kw = _nfloat(required=False, help_text="Site only; null = unlimited.")
    room_capacity_kw = _nfloat(required=False)


class SpaceHeadroomSerializer(serializers.Serializer):
    free_u = serializers.IntegerField()
    largest_free_block_u = serializers.IntegerField()
    u_height = serializers.IntegerField(required=False)


class KgHeadroomSerializer(serializers.Serializer):
    capacity_kg = _nfloat()
    load_kg = _float()
    headroom_kg = _nfloat()


class FloorHeadroomSerializer(serializers.Serializer):
    capacity_kg_m2 = _nfloat()
    load_kg_m2 = _float()
    headroom_kg_m2 = _nfloat()
    method = serializers.CharField(required=False)
    tile_capacity_kg = _nfloat(required=False)
    tile_load_kg = _nfloat(required=False)
    tile_headroom_kg = _nfloat(required=False)


class StrandedSerializer(serializers.Serializer):
    power = _float(help_text="kW of power headroom no cooling is left for.")
    cooling = _float(help_text="kW of cooling headroom no power is left for.")


class HeadroomTotalsSerializer(serializers.Serializer):
    power = KwHeadroomSerializer()
    cooling_air = KwHeadroomSerializer()
    cooling_liquid = KwHeadroomSerializer()
    space = SpaceHeadroomSerializer()
    rack_load = KgHeadroomSerializer()
    floor = FloorHeadroomSerializer()
    binding = serializers.CharField(allow_null=True, help_text="The dimension with the least headroom.")
    stranded_kw = StrandedSerializer()


class RackHeadroomResponse(HeadroomTotalsSerializer):
    fits = serializers.DictField(child=serializers.IntegerField(), help_text="Model slug -> how many more fit.")
    blocked_by = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Model slug -> the rules one unit more than `fits` would break.",
    )


class RowHeadroomSerializer(HeadroomTotalsSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    containment = serializers.CharField()
    rack_count = serializers.IntegerField()


class RoomHeadroomSerializer(HeadroomTotalsSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    floor_type = serializers.CharField()
    rack_count = serializers.IntegerField()
    rows = RowHeadroomSerializer(many=True)


class SiteHeadroomResponse(HeadroomTotalsSerializer):
    site = serializers.IntegerField()
    name = serializers.CharField()
    rack_count = serializers.IntegerField()
    fits = serializers.DictField(child=serializers.IntegerField(), help_text="Model slug -> estimated count.")
    fits_basis = serializers.CharField()
    rooms = RoomHeadroomSerializer(many=True)


class CduSizingSerializer(serializers.Serializer):
    liquid_kw = _float()
    flow_lpm = _float()
    residual_air_kw = _float()
    fluid = serializers.CharField()
    delta_t_c = _float()
    rho_kg_per_l = _float()
    cp_kj_per_kg_k = _float()
    basis = serializers.CharField()


class RetrofitOptionSerializer(serializers.Serializer):
    kind = serializers.CharField()
    resolves = serializers.ListField(child=serializers.CharField())
    still_failing = serializers.ListField(child=serializers.CharField(), required=False)
    capex_usd = _nfloat()
    pue_after = _nfloat()
    annual_energy_cost_delta = _nfloat(help_text="Site currency per year; negative = saving.")
    annual_co2_kg_delta = _nfloat()
    notes = serializers.CharField(allow_blank=True)
    prerequisites = serializers.ListField(child=serializers.CharField())
    cdu = CduSizingSerializer(allow_null=True)
    applicable = serializers.BooleanField()
    why_not = serializers.CharField(allow_blank=True)
    resolves_all_failing_cooling = serializers.BooleanField()
    recommended = serializers.BooleanField(help_text="Never true for an option that resolves no failing rule.")
    carried_kw = _float()
    resolves_all_failing = serializers.BooleanField(required=False)
    lead_time_weeks = _nfloat(required=False, help_text="Where the reference has a figure (§16.1), else null.")
    pdus_per_side = serializers.IntegerField(allow_null=True, required=False)
    pdu_usable_kw = _nfloat(required=False)
    added_kw = _nfloat(required=False)
    pdus_added_per_side = serializers.DictField(
        child=serializers.IntegerField(), allow_null=True, required=False, help_text="add_pdus: PDUs added per side."
    )
    busways = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="busway_tap_off: the busway feeding each side."
    )
    combines = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="combined: the power and the cooling option done together, re-checked on one rack.",
    )


class PlacementCheckResponse(serializers.Serializer):
    ok = serializers.BooleanField(help_text="No rule fails (warnings pass).")
    checks = RuleCheckSerializer(many=True)
    positions = serializers.ListField(child=serializers.IntegerField())
    load_kw = _nfloat()
    air_heat_kw = _nfloat()
    liquid_heat_kw = _nfloat()
    weight_kg = _nfloat()
    equipment_kg = _nfloat()
    headroom = RackHeadroomResponse()
    retrofits = RetrofitOptionSerializer(many=True)


class PlacementConflictSerializer(ApiErrorSerializer):
    """409 of a node create or move: the error shape with the full check result beside it."""

    ok = serializers.BooleanField()
    checks = RuleCheckSerializer(many=True)
    positions = serializers.ListField(child=serializers.IntegerField(), required=False)

    class Meta:
        ref_name = "PlacementConflict"


class RackRetrofitsResponse(serializers.Serializer):
    rack = serializers.IntegerField()
    options = RetrofitOptionSerializer(many=True)


class PlannedPlacementSerializer(serializers.Serializer):
    rack = serializers.IntegerField()
    rack_name = serializers.CharField()
    u_position = serializers.IntegerField()


class RowRetrofitSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    row_name = serializers.CharField()
    racks = serializers.ListField(child=serializers.IntegerField())
    unlocks = serializers.IntegerField()
    resolves = serializers.ListField(child=serializers.CharField())
    kind = serializers.CharField(allow_null=True)
    capex_usd = _nfloat()
    notes = serializers.CharField(allow_blank=True)
    combines = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="combined: the power and cooling option kinds."
    )
    still_failing = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Codes the racks' best options leave failing."
    )
    lead_time_weeks = _nfloat(required=False, help_text="Longest known lead time of the racks' options (§16.1).")


class EnergySerializer(serializers.Serializer):
    kw = _float()
    pue = _float()
    annual_kwh = _float()
    annual_cost = _nfloat()
    annual_co2_kg = _nfloat()
    basis = serializers.CharField()


class KpisSerializer(serializers.Serializer):
    tokens_per_s = _nfloat(help_text="Tokens/s per system x systems (throughput basis in arithmetic).")
    tokens_per_s_per_kw = _nfloat(help_text="Tokens/s per kW of facility power (IT kW x PUE).")
    usd_per_million_tokens = _nfloat(help_text="Energy + amortized hardware and retrofit, or rent, or cloud price.")
    g_co2_per_million_tokens = _nfloat()
    days_to_deploy = _nfloat(help_text="The longer of the retrofit's and the hardware's lead time.")
    energy_usd_per_million_tokens = _nfloat(help_text="The energy part of the cost alone.")
    null_reasons = serializers.DictField(child=serializers.CharField(), help_text="KPI -> why it is null.")
    arithmetic = serializers.DictField(child=serializers.CharField(), help_text="KPI -> its arithmetic and source.")


class FeasibilityResponse(serializers.Serializer):
    requested = serializers.IntegerField()
    fits_now = serializers.BooleanField()
    placed = serializers.IntegerField()
    placements = PlannedPlacementSerializer(many=True)
    unplaced = serializers.IntegerField()
    binding = serializers.DictField(child=serializers.IntegerField(), help_text="Rule code -> units it blocked.")
    retrofits = RowRetrofitSerializer(many=True)
    energy = EnergySerializer()
    kpis = KpisSerializer(help_text="The plan's KPIs (issue 17); null with a reason where an input is unknown.")
    model = serializers.CharField(help_text="Node model slug.")
    committed_node_ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="With commit: the reservation's nodes."
    )
    reservation = ReservationSerializer(required=False, help_text="With commit: the reservation made (or replayed).")


TCO_OPTION_CHOICES = ["on_prem", "colocation", "cloud", "neocloud_reserved", "hyperscaler_on_demand"]


class TcoOptionSerializer(serializers.Serializer):
    option = serializers.ChoiceField(choices=TCO_OPTION_CHOICES)
    total_usd = _nfloat(help_text="Null: a cost is unknown (total_reason), never 0 in its place.")
    capex_usd = _float(help_text="Known capex: retrofit (known part) + hardware (known).")
    energy_usd = _float()
    rent_usd = _float()
    cloud_usd = _float()
    energy_kwh = _nfloat()
    co2_kg = _nfloat()
    notes = serializers.CharField(allow_blank=True)
    npv_usd = _nfloat(help_text="Present value of the costs at discount_rate; null when the total is.")
    annual_opex_usd = _float()
    hardware_capex_usd = _nfloat(help_text="Null: unknown (no sourced price).")
    hardware_residual_usd = _nfloat(help_text="Book value left at the end of the horizon, credited.")
    total_usd_low = _nfloat(help_text="With total_usd_high: the range when idle power is unknown (range_reason).")
    total_usd_high = _nfloat()
    energy_kwh_high = _nfloat()
    range_reason = serializers.CharField(allow_blank=True)
    total_reason = serializers.CharField(allow_blank=True, help_text="Why total_usd is null.")
    usd_per_gpu_hour = _nfloat()
    price_basis = serializers.CharField(allow_blank=True, help_text="GPU-hour options: the price's source and date.")


class TcoSensitivitySerializer(serializers.Serializer):
    energy_price_step = _float()
    utilization_step = _float()
    energy_price_per_kwh = _float()
    utilization = _float()
    on_prem_usd = _nfloat()
    colocation_usd = _nfloat()
    cloud_usd = _nfloat()
    cheapest = serializers.CharField(allow_null=True)
    neocloud_reserved_usd = _nfloat()
    hyperscaler_on_demand_usd = _nfloat()


class UnamortizedSerializer(serializers.Serializer):
    years_in_service = serializers.IntegerField()
    recovered_usd = _nfloat(help_text="Retrofit capex recovered (linear over the horizon); null: unknown.")
    unrecovered_usd = _nfloat()
    hardware_book_value_usd = _nfloat()
    colo_lease_remaining_usd = _nfloat()
    reserved_commitment_remaining_usd = _nfloat()
    on_prem_at_risk_usd = _nfloat()
    colocation_at_risk_usd = _nfloat()
    neocloud_reserved_at_risk_usd = _nfloat()


class TcoPaybackSerializer(serializers.Serializer):
    alternative = serializers.CharField(help_text="The option compared with on-prem (an options[].option).")
    payback_years = _nfloat(help_text="Undiscounted; null: never or unknown (reason).")
    within_horizon = serializers.BooleanField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)


class TcoBreakEvenSerializer(serializers.Serializer):
    alternative = serializers.CharField(help_text="The option compared with on-prem (an options[].option).")
    utilization = _nfloat(help_text="On-prem is cheaper above (or below) this utilisation, NPV basis.")
    on_prem_cheaper = serializers.ChoiceField(choices=["above", "below", "always", "never"], allow_null=True)
    reason = serializers.CharField(allow_blank=True)


class TcoTornadoSerializer(serializers.Serializer):
    variable = serializers.ChoiceField(choices=["energy_price", "utilization", "pue", "gpu_hour_price", "capex"])
    low_input = _float()
    high_input = _float()
    low_usd = _float(help_text="On-prem NPV minus the reference option's, with the input low.")
    high_usd = _float()
    swing_usd = _float()


class TcoResponse(serializers.Serializer):
    model = serializers.CharField()
    quantity = serializers.IntegerField()
    fits_now = serializers.BooleanField()
    retrofit_capex_usd = _nfloat()
    it_kw = _float()
    gpu_count = serializers.IntegerField()
    gpu_family = serializers.CharField(allow_null=True)
    hours_per_year = _float()
    options = TcoOptionSerializer(many=True)
    cheapest = serializers.CharField(allow_null=True)
    sensitivity = TcoSensitivitySerializer(many=True)
    unamortized = UnamortizedSerializer(many=True)
    assumptions = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField())
    discount_rate = _float()
    idle_fraction = _nfloat(help_text="Null: unknown (§17.1), energy totals are ranges.")
    payback = TcoPaybackSerializer(many=True)
    break_even = TcoBreakEvenSerializer(many=True)
    tornado = TcoTornadoSerializer(many=True)
    tornado_reference = serializers.CharField(allow_null=True)
    tornado_base_usd = _nfloat()
    tornado_reason = serializers.CharField(allow_blank=True)


STATUS_CHOICES = ["ok", "warn", "fail"]


class FailureSummarySerializer(serializers.Serializer):
    racks_failing = serializers.IntegerField(help_text="Racks the failure touches that then fail a rule.")
    racks_warning = serializers.IntegerField(help_text="Racks the failure touches that then warn.")
    it_kw_affected = _float(help_text="Max-power load of the failing racks, kW.")
    gpus_affected = serializers.IntegerField(help_text="GPUs in the failing racks (a model with no GPU count: 0).")
    nodes_without_gpu_count = serializers.IntegerField(help_text="Nodes in failing racks whose model has no GPU count.")


class WhatIfRackSerializer(serializers.Serializer):
    rack = serializers.IntegerField()
    rack_name = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUS_CHOICES, help_text="Under the failure.")
    was = serializers.ChoiceField(choices=STATUS_CHOICES, help_text="As the rack stands now.")
    checks = RuleCheckSerializer(many=True, help_text="Only the checks that are not ok.")


class WhatIfResponse(serializers.Serializer):
    site = serializers.IntegerField()
    racks = WhatIfRackSerializer(many=True, help_text="Racks the failure touches that are not ok, failing first.")
    summary = FailureSummarySerializer()


class RackRefSerializer(serializers.Serializer):
    rack = serializers.IntegerField()
    rack_name = serializers.CharField()


class ResilienceElementSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["power_source", "pdu", "side", "cooling_loop", "cooling_unit"])
    id = serializers.IntegerField(help_text="Power source, PDU, rack (kind side) or cooling loop id.")
    name = serializers.CharField()
    side = serializers.CharField(allow_null=True, help_text="A or B for kind side and pdu; else null.")
    spof = serializers.BooleanField(help_text="Its loss makes a rack that passes now fail.")
    summary = FailureSummarySerializer()
    racks = RackRefSerializer(many=True, help_text="The racks that fail when it is lost.")
    newly_failing = RackRefSerializer(many=True, help_text="Of those, the racks that pass now.")


class ResilienceResponse(serializers.Serializer):
    site = serializers.IntegerField()
    elements = ResilienceElementSerializer(many=True, help_text="One per element, worst first.")
    single_points_of_failure = ResilienceElementSerializer(many=True, help_text="The elements with spof, worst first.")
