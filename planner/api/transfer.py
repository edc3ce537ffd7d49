"""``GET sites/{id}/export/`` and ``POST sites/import/``: a whole site as one JSON document, and back.

The document is the one :func:`planner.transfer.export_site` writes; importing it creates a new site (give
``?name=&slug=`` to import next to the original). Reading roles may export; importing needs facilities.
``?as_is=true`` places the nodes without the placement rules and is for superusers only.
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from planner import transfer
from planner.api.fields import CleanCharField
from racks.models import Site

# A site document is larger than an ordinary request: allow 20 MB (the parsers answer 413 past it).
IMPORT_MAX_BYTES = int(getattr(settings, "SITE_IMPORT_MAX_BYTES", 20 * 1024 * 1024))


class SiteExportView(APIView):
    """The whole site as one JSON document: rooms, rows, racks, PDUs, power chain, cooling loops, nodes and
    the node models they use, every reference by name."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        site = get_object_or_404(Site, pk=pk)
        response = Response(transfer.export_site(site))
        response["Content-Disposition"] = f'inline; filename="site-{site.slug}.json"'
        return response


class ImportQuery(serializers.Serializer):
    name = CleanCharField(max_length=100, required=False, help_text="Name of the new site (default: the document's).")
    slug = serializers.SlugField(max_length=100, required=False, help_text="Slug of the new site.")
    as_is = serializers.BooleanField(
        default=False, help_text="Superusers only: place the nodes as they are, without the placement rules."
    )


class SiteImportView(APIView):
    """Create a site from an export document, all or nothing. Every record is validated like the CRUD API and
    every node is placed through the placement rules; a bad record answers 400 with its ``path``."""

    max_body_bytes = IMPORT_MAX_BYTES

    @extend_schema(
        parameters=[
            OpenApiParameter("name", str, description="Name of the new site (default: the document's)."),
            OpenApiParameter("slug", str, description="Slug of the new site (default: the document's)."),
            OpenApiParameter("as_is", bool, description="Superusers only: skip the placement rules for nodes."),
        ],
        request=OpenApiTypes.OBJECT,
        responses={
            201: OpenApiTypes.OBJECT,
            400: OpenApiResponse(description="An invalid record: detail, path, errors. Nothing was written."),
        },
    )
    def post(self, request):
        query = ImportQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = query.validated_data
        if options["as_is"] and not request.user.is_superuser:
            raise PermissionDenied("Only superusers may import nodes as they are (as_is).")
        try:
            result = transfer.import_site(
                request.data, name=options.get("name"), slug=options.get("slug"), as_is=options["as_is"]
            )
        except transfer.ImportFailed as exc:
            return Response(exc.payload, status=status.HTTP_400_BAD_REQUEST)
        site = result.site
        return Response(
            {
                "site": {"id": site.pk, "name": site.name, "slug": site.slug},
                "counts": result.counts,
                "created_node_models": result.created_models,
                "as_is": options["as_is"],
            },
            status=status.HTTP_201_CREATED,
        )
