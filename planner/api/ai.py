"""The AI-factory layer's resources (issue 17): ``throughput-bases/`` and ``workloads/``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from planner.api.brief import BriefMixin, with_brief
from planner.api.bulk import BulkMixin
from planner.api.fields import CleanCharField, FiniteFloatField, SlugOrPkRelatedField, StrictBooleanField
from planner.api.filtering import reject_unknown_params
from planner.api.schema import KpisSerializer
from planner.api.serializers import PlannerModelSerializer, StrictFieldsMixin, model_clean
from planner.models import ThroughputBasis, Workload
from planner.site_selection import ExternalOption, select_sites
from planner.validation import COUNTRY_CODE_PATTERN
from racks.models import NodeModel, Site

THROUGHPUT_FIELDS = [
    "id",
    "model",
    "model_slug",
    "reference_workload",
    "scenario",
    "kind",
    "tokens_per_s_per_system",
    "mlperf_round",
    "round_date",
    "submitter",
    "system",
    "system_gpus",
    "system_tokens_per_s",
    "source",
    "created_at",
]
WORKLOAD_FIELDS = [
    "id",
    "name",
    "kind",
    "model",
    "model_slug",
    "quantity",
    "target_tokens_per_s",
    "reference_workload",
    "scenario",
    "availability_target_pct",
    "latency_p99_ms",
    "user_regions",
    "residency",
    "growth_pct_per_quarter",
    "created_at",
    "updated_at",
]


class ThroughputBasisSerializer(PlannerModelSerializer):
    model = SlugOrPkRelatedField(queryset=NodeModel.objects.all(), help_text="Node model id or slug.")
    model_slug = serializers.CharField(source="model.slug", read_only=True)

    class Meta:
        model = ThroughputBasis
        fields = THROUGHPUT_FIELDS
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        kind = attrs.get("kind", getattr(self.instance, "kind", ThroughputBasis.Kind.MEASURED))
        if kind == ThroughputBasis.Kind.MLPERF and not attrs.get(
            "mlperf_round", getattr(self.instance, "mlperf_round", "")
        ):
            raise serializers.ValidationError({"mlperf_round": ["An MLPerf result names its round (e.g. v5.1)."]})
        return attrs


class WorkloadSerializer(PlannerModelSerializer):
    model = SlugOrPkRelatedField(queryset=NodeModel.objects.all(), help_text="Node model id or slug.")
    model_slug = serializers.CharField(source="model.slug", read_only=True)
    user_regions = serializers.JSONField(
        required=False, help_text='[{"name", "latitude", "longitude", "share"}], shares summing to 1.'
    )
    residency = serializers.JSONField(
        required=False, help_text="Allowed jurisdictions (ISO 3166-1 alpha-2); empty = anywhere."
    )

    class Meta:
        model = Workload
        fields = WORKLOAD_FIELDS
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model_clean(self, attrs)  # one size (systems or tokens/s), regions and residency well formed
        return attrs


@with_brief
class ThroughputBasisViewSet(BriefMixin, BulkMixin, viewsets.ModelViewSet):
    """Tokens/s per system of a node model on a reference workload: MLPerf results (seeded from reference §12.2)
    or the user's measurements (a measurement is preferred over MLPerf for the KPIs)."""

    queryset = ThroughputBasis.objects.select_related("model")
    serializer_class = ThroughputBasisSerializer
    filterset_fields = {
        "model": ["exact"],
        "reference_workload": ["exact"],
        "scenario": ["exact"],
        "kind": ["exact"],
        "mlperf_round": ["exact"],
    }
    search_fields = ["system", "submitter", "source"]
    ordering_fields = ["id", "round_date", "tokens_per_s_per_system"]


@with_brief
class WorkloadViewSet(BriefMixin, BulkMixin, viewsets.ModelViewSet):
    """Training, fine-tuning and inference workloads: a size and SLOs (availability, latency, residency, growth)."""

    queryset = Workload.objects.select_related("model")
    serializer_class = WorkloadSerializer
    filterset_fields = {"kind": ["exact"], "model": ["exact"], "name": ["exact", "icontains"]}
    search_fields = ["name"]
    ordering_fields = ["name", "id", "created_at"]


# --- site selection ---------------------------------------------------------------------------------------


class _OfferSerializer(StrictFieldsMixin, serializers.Serializer):
    name = CleanCharField(max_length=100)
    latitude = FiniteFloatField(min_value=-90, max_value=90, required=False, allow_null=True)
    longitude = FiniteFloatField(min_value=-180, max_value=180, required=False, allow_null=True)
    jurisdiction = serializers.RegexField(COUNTRY_CODE_PATTERN, required=False, allow_blank=True, default="")
    availability_pct = FiniteFloatField(min_value=0, max_value=100, required=False, allow_null=True)
    pue = FiniteFloatField(min_value=1, max_value=10, required=False, allow_null=True)
    carbon_kg_per_kwh = FiniteFloatField(min_value=0, max_value=10, required=False, allow_null=True)
    lead_time_days = FiniteFloatField(min_value=0, max_value=3650, required=False, allow_null=True)

    def validate(self, attrs):
        if (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            raise serializers.ValidationError({"latitude": ["Give latitude and longitude together (or neither)."]})
        return attrs


class ColocationOfferSerializer(_OfferSerializer):
    usd_per_kw_month = FiniteFloatField(
        min_value=0, required=False, allow_null=True, help_text="Default: CBRE H2 2024, $184.06/kW/month (§7.3)."
    )
    includes_power = StrictBooleanField(default=True)
    energy_price_per_kwh = FiniteFloatField(
        min_value=0, required=False, allow_null=True, help_text="When power is billed apart."
    )


class CloudOfferSerializer(_OfferSerializer):
    usd_per_gpu_hour = FiniteFloatField(min_value=0, help_text="Volatile: store with its date (§17.2).")


class SiteSelectionRequest(StrictFieldsMixin, serializers.Serializer):
    workload = serializers.PrimaryKeyRelatedField(queryset=Workload.objects.select_related("model"))
    sites = serializers.PrimaryKeyRelatedField(
        queryset=Site.objects.all(), many=True, required=False, help_text="Default: every site."
    )
    colocation = ColocationOfferSerializer(many=True, required=False, max_length=50)
    cloud = CloudOfferSerializer(many=True, required=False, max_length=50)
    latency_table = serializers.DictField(
        child=serializers.DictField(child=FiniteFloatField(min_value=0, max_value=10000)),
        required=False,
        help_text="{site slug or offer name: {user region name: measured p99 RTT ms}}; replaces the distance estimate.",
    )
    hardware_usd_per_system = FiniteFloatField(min_value=0, required=False, allow_null=True)
    hardware_lead_time_days = FiniteFloatField(min_value=0, max_value=3650, required=False, allow_null=True)
    utilization = FiniteFloatField(min_value=0.01, max_value=1.0, default=1.0)


class SiteSelectionOptionSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["site", "colocation", "cloud"])
    name = serializers.CharField()
    site = serializers.IntegerField(allow_null=True)
    fits = serializers.BooleanField(
        allow_null=True, help_text="null: not fully checked (the headroom bound allows it)."
    )
    placed = serializers.IntegerField(allow_null=True)
    checked = serializers.CharField(help_text="feasibility | bound | offer | not evaluated: breaks an SLO")
    slo = serializers.DictField(help_text="latency_ms, latency_ok, residency_ok, availability_ok (null = unknown).")
    retrofits = serializers.ListField(child=serializers.DictField())
    kpis = KpisSerializer(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())


class SiteSelectionResponse(serializers.Serializer):
    workload = serializers.IntegerField()
    model = serializers.CharField()
    systems = serializers.IntegerField()
    throughput = serializers.DictField()
    route_factor = serializers.FloatField()
    fibre_us_per_km = serializers.FloatField()
    full_checks = serializers.IntegerField()
    latency_budget_ms = serializers.FloatField(allow_null=True)
    options = SiteSelectionOptionSerializer(many=True)


class SiteSelectionView(APIView):
    """Rank the sites (with their retrofits) against colocation and cloud offers for a workload: fit, SLOs
    (latency, residency, availability), KPIs and the reasons; an option breaking an SLO after every one keeping
    them."""

    question = True

    @extend_schema(request=SiteSelectionRequest, responses={200: SiteSelectionResponse})
    def post(self, request):
        reject_unknown_params(request, ())
        req = SiteSelectionRequest(data=request.data)
        req.is_valid(raise_exception=True)
        data = req.validated_data
        external = tuple(
            ExternalOption(kind=kind, **offer) for kind in ("colocation", "cloud") for offer in data.get(kind, [])
        )
        names = [o.name for o in external]
        if len(set(names)) != len(names):
            raise serializers.ValidationError({"colocation": ["Offer names must be unique."]})
        try:
            body = select_sites(
                data["workload"],
                site_ids=[s.pk for s in data["sites"]] if "sites" in data else None,
                external=external,
                latency_table=data.get("latency_table"),
                hardware_usd_per_system=data.get("hardware_usd_per_system"),
                hardware_lead_time_days=data.get("hardware_lead_time_days"),
                utilization=data["utilization"],
            )
        except ValueError as exc:
            raise serializers.ValidationError({"workload": [str(exc)]}) from None
        return Response(body)


class ReadinessComponentSerializer(serializers.Serializer):
    name = serializers.CharField()
    weight = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True, help_text="0-1; null: not modelled.")
    points = serializers.FloatField(allow_null=True)
    modelled = serializers.BooleanField()
    evidence = serializers.CharField()


class RecommendationSerializer(serializers.Serializer):
    component = serializers.CharField()
    action = serializers.CharField()
    capex_usd = serializers.FloatField(allow_null=True)
    cost_basis = serializers.CharField()


class ReadinessResponse(serializers.Serializer):
    site = serializers.IntegerField()
    score = serializers.FloatField(help_text="0-100 over the modelled components.")
    points = serializers.FloatField()
    weight_modelled = serializers.IntegerField()
    basis = serializers.CharField()
    components = ReadinessComponentSerializer(many=True)
    critical_gaps = serializers.ListField(child=serializers.CharField())
    recommendations = RecommendationSerializer(many=True)


class SiteReadinessView(APIView):
    """The site's AI readiness, 0-100: weighted components with their evidence, critical gaps, recommendations."""

    question = True

    @extend_schema(responses={200: ReadinessResponse})
    def get(self, request, pk: int):
        from rest_framework.exceptions import NotFound

        from planner.readiness import site_readiness

        reject_unknown_params(request, ())
        try:
            return Response(site_readiness(pk))
        except Site.DoesNotExist:
            raise NotFound(f"Site {pk} does not exist.") from None
