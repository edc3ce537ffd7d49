"""``POST netbox/dry-run/``: a synchronous NetBox import dry run (small estates), facilities only.

Writes nothing. The real import runs from the command, the page, or a background job calling
``planner.netbox.service.netbox_import``. The API reads only NetBox base URLs listed in ``NETBOX_URLS`` (the
server must not fetch whatever address a caller names); with none listed it answers 400.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from planner.api.exceptions import error_response
from planner.netbox.client import FetchFailed
from planner.netbox.mapping import ROW_SOURCES, MappingError, RowConfig
from planner.netbox.service import ImportRefused, netbox_import


class FiguresSerializer(serializers.Serializer):
    u_height = serializers.IntegerField(min_value=1, max_value=60, required=False)
    weight_kg = serializers.FloatField(min_value=0, required=False)
    max_power_kw = serializers.FloatField(min_value=0, required=False)
    typical_power_kw = serializers.FloatField(min_value=0, required=False)
    psus_required = serializers.IntegerField(min_value=0, required=False)


class DryRunRequest(serializers.Serializer):
    url = serializers.URLField(max_length=300, help_text="NetBox base URL; one of NETBOX_URLS.")
    token = serializers.CharField(max_length=200, help_text="NetBox API token (read-only is enough).")
    sites = serializers.ListField(child=serializers.SlugField(max_length=100), required=False, max_length=100)
    row_from = serializers.ChoiceField(choices=ROW_SOURCES, default="location")
    row_pattern = serializers.CharField(max_length=300, required=False, allow_blank=True)
    figures = serializers.DictField(child=FiguresSerializer(), required=False)
    skip_incomplete = serializers.BooleanField(default=False)

    def validate_url(self, value: str) -> str:
        allowed = [u.rstrip("/") for u in getattr(settings, "NETBOX_URLS", [])]
        if value.rstrip("/") not in allowed:
            raise serializers.ValidationError("Not one of the NetBox URLs this planner may read (NETBOX_URLS).")
        return value


class CheckLine(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class FailingRack(serializers.Serializer):
    site = serializers.CharField()
    rack = serializers.CharField()
    rack_id = serializers.IntegerField()
    checks = CheckLine(many=True)


class SiteLine(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    headroom = serializers.DictField(help_text="power, cooling_air, cooling_liquid, space, rack_count, binding")
    missing = serializers.IntegerField(help_text="checklist items still to enter")


class SummarySerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    counts = serializers.DictField(child=serializers.IntegerField())
    created = serializers.DictField(child=serializers.IntegerField())
    updated = serializers.DictField(child=serializers.IntegerField())
    changes = serializers.ListField(child=serializers.DictField())
    kept = serializers.ListField(child=serializers.DictField())
    models = serializers.ListField(child=serializers.DictField())
    skipped = serializers.ListField(child=serializers.DictField())
    warnings = serializers.ListField(child=serializers.CharField())
    failing_racks = FailingRack(many=True)
    sites = SiteLine(many=True)


class NetboxDryRunView(APIView):
    """What an import from NetBox would create and change, and which racks would fail a rule. Writes nothing."""

    @extend_schema(
        request=DryRunRequest,
        responses={
            200: SummarySerializer,
            400: OpenApiResponse(
                description="Invalid input (field errors), NetBox unreadable, or the import refused "
                "({detail, errors}). Nothing was written."
            ),
            403: OpenApiResponse(description="Facilities only."),
        },
    )
    def post(self, request):
        body = DryRunRequest(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        try:
            rows = RowConfig(source=d["row_from"], pattern=d.get("row_pattern") or None)
            summary = netbox_import(
                client_or_url=d["url"],
                token=d["token"],
                site_slugs=d.get("sites", []),
                dry_run=True,
                rows=rows,
                figures=d.get("figures"),
                skip_incomplete=d["skip_incomplete"],
            )
        except ImportRefused as exc:
            # The one error shape: the reasons, one line each, under "netbox".
            return error_response(400, exc.detail, code="import_refused", errors={"netbox": exc.errors})
        except (FetchFailed, MappingError) as exc:
            return error_response(400, str(exc), code="netbox_unreadable")
        return Response(SummarySerializer(summary.to_dict()).data)
