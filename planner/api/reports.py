"""``GET reports/`` and ``GET reports/{id}/``: the nightly capacity reports, read-only.

The list leaves out the full ``data`` snapshot (it can be megabytes for a large site) and gives the small
``summary`` instead; the detail gives both. Both answer in a constant number of queries.
"""

from __future__ import annotations

from django_filters import rest_framework as filters
from rest_framework import serializers, viewsets

from planner.models import CapacityReport


class ReportSerializer(serializers.ModelSerializer):
    site_slug = serializers.CharField(source="site.slug", read_only=True)
    site_name = serializers.CharField(source="site.name", read_only=True)

    class Meta:
        model = CapacityReport
        fields = [
            "id",
            "site",
            "site_slug",
            "site_name",
            "day",
            "created_at",
            "updated_at",
            "it_load_kw",
            "power_capacity_kw",
            "air_heat_kw",
            "liquid_heat_kw",
            "rack_count",
            "node_count",
            "summary",
        ]
        read_only_fields = fields


class ReportDetailSerializer(ReportSerializer):
    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "data"]
        read_only_fields = fields


class ReportFilter(filters.FilterSet):
    site = filters.NumberFilter(field_name="site_id", help_text="Site id.")
    site_slug = filters.CharFilter(field_name="site__slug", help_text="Site slug.")
    day = filters.DateFilter(field_name="day", help_text="Exactly this day (YYYY-MM-DD).")
    day_from = filters.DateFilter(field_name="day", lookup_expr="gte", help_text="From this day on (inclusive).")
    day_to = filters.DateFilter(field_name="day", lookup_expr="lte", help_text="Up to this day (inclusive).")

    class Meta:
        model = CapacityReport
        fields = ["site", "site_slug", "day", "day_from", "day_to"]


class ReportViewSet(viewsets.ReadOnlyModelViewSet):
    """Nightly capacity reports, newest first. Filter with ``?site=&day_from=&day_to=``."""

    queryset = CapacityReport.objects.select_related("site").order_by("-day", "site_id")
    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    ordering_fields = ["day", "id", "site"]

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "list":
            qs = qs.defer("data")
        return qs

    def get_serializer_class(self):
        return ReportDetailSerializer if self.action == "retrieve" else ReportSerializer
