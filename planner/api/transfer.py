"""``GET sites/{id}/export/`` and ``POST sites/import/``: a whole site as one JSON document, and back.

The document is the one :func:`planner.transfer.export_site` writes; importing it creates a new site (give
``?name=&slug=`` to import next to the original). Reading roles may export; importing needs facilities.
``?as_is=true`` places the nodes without the placement rules and is for superusers only.

An import is a background job (a 2,500-rack site takes longer than a request may): ``POST sites/import/``
answers 202 with the job and its URL, ``GET import-jobs/{id}/`` reports its progress and then the result or
the errors (the same ``detail``/``path``/``errors`` the import always gave). What can be refused before
queueing is refused at once: a body that is not JSON or not an object (400), or too large (413).
"""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from planner import import_jobs, transfer
from planner.api.fields import CleanCharField
from planner.api.netbox import SummarySerializer
from planner.api.permissions import can_read, can_write
from planner.models import ImportJob
from racks.models import Site

# A site document is larger than an ordinary request (the parsers answer 413 past it).
IMPORT_MAX_BYTES = import_jobs.MAX_DOCUMENT_BYTES


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


class ImportOptionsSerializer(serializers.Serializer):
    """A site job's options are name, slug and as_is; a NetBox job's the others (never its token)."""

    name = serializers.CharField(
        allow_null=True, required=False, help_text="Site: name of the new site (null: the document's)."
    )
    slug = serializers.CharField(
        allow_null=True, required=False, help_text="Site: slug of the new site (null: the document's)."
    )
    as_is = serializers.BooleanField(required=False, help_text="Site: nodes placed without the placement rules.")
    url = serializers.CharField(required=False, help_text="NetBox: the NetBox base URL read (one of NETBOX_URLS).")
    sites = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="NetBox: site slugs; empty = all."
    )
    dry_run = serializers.BooleanField(required=False, help_text="NetBox: write nothing, report what would change.")
    row_from = serializers.CharField(required=False, help_text="NetBox: where rows come from.")
    row_pattern = serializers.CharField(allow_null=True, required=False, help_text="NetBox: regex with (?P<row>...).")
    figures = serializers.DictField(required=False, help_text="NetBox: figures given for device types NetBox lacks.")
    skip_incomplete = serializers.BooleanField(required=False, help_text="NetBox: devices lacking figures skipped.")


class ImportProgressSerializer(serializers.Serializer):
    phase = serializers.CharField(help_text="checking, racks, nodes or saving (empty while queued).")
    done = serializers.IntegerField(help_text="Work units done: racks, then nodes, then the final write.")
    total = serializers.IntegerField(help_text="Work units in all (0 until the job has started).")
    percent = serializers.FloatField(help_text="done / total x 100, one decimal; 0 while total is 0.")


class ImportedSiteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    url = serializers.CharField(help_text="The site in the API.")
    page = serializers.CharField(help_text="The site's page in the browser.")


class ImportResultSerializer(serializers.Serializer):
    site = ImportedSiteSerializer(allow_null=True, help_text="As imported; null if the site has been deleted since.")
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Objects created, by kind.")
    created_node_models = serializers.ListField(child=serializers.CharField(), help_text="Slugs of new models.")
    as_is = serializers.BooleanField()


class ImportErrorsSerializer(serializers.Serializer):
    detail = serializers.CharField()
    path = serializers.CharField(help_text='The bad record, e.g. "rooms[0].rows[1].racks[2].pdus[0]"; "$": the whole.')
    errors = serializers.JSONField(help_text="Field -> messages, as the CRUD API gives them.")


class ImportJobSerializer(serializers.ModelSerializer):
    """A site import job: its state, progress, and its result (succeeded) or errors (failed)."""

    url = serializers.HyperlinkedIdentityField(view_name="importjob-detail")
    created_by = serializers.SerializerMethodField()
    options = ImportOptionsSerializer(read_only=True)
    progress = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "url",
            "kind",
            "status",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "attempts",
            "options",
            "document_bytes",
            "progress",
            "result",
            "errors",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_created_by(self, job) -> str | None:
        return job.created_by.get_username() if job.created_by else None

    @extend_schema_field(ImportProgressSerializer)
    def get_progress(self, job) -> dict:
        progress = import_jobs.job_progress(job)
        total = progress["total"]
        return {**progress, "percent": round(100 * progress["done"] / total, 1) if total else 0.0}

    @extend_schema_field(
        PolymorphicProxySerializer(
            component_name="ImportJobResult",
            serializers=[ImportResultSerializer, SummarySerializer],
            resource_type_field_name=None,
            allow_null=True,
            help_text="null until succeeded; a site job's ImportResult, a NetBox job's import Summary.",
        )
    )
    def get_result(self, job) -> dict | None:
        if job.status != ImportJob.Status.SUCCEEDED:
            return None
        if job.kind == ImportJob.Kind.NETBOX:
            return job.result
        site = (job.result or {}).get("site") if job.site_id is not None else None
        request = self.context.get("request")
        return {
            **job.result,
            "site": None
            if site is None
            else {
                **site,
                "url": reverse("site-detail", kwargs={"pk": job.site_id}, request=request),
                "page": reverse("site-dashboard", kwargs={"pk": job.site_id}, request=request),
            },
        }

    @extend_schema_field(ImportErrorsSerializer(allow_null=True))
    def get_errors(self, job) -> dict | None:
        return job.errors if job.status == ImportJob.Status.FAILED else None


class ImportQueuedSerializer(serializers.Serializer):
    job = ImportJobSerializer()


class CanImport(BasePermission):
    """Import jobs are read and written by those who may import: facilities and superusers."""

    message = "Only facilities users may import sites or see import jobs."

    def has_permission(self, request, view) -> bool:
        if request.method == "OPTIONS":  # the endpoint's description, as for every API view: a reader's
            return can_read(request.user)
        return can_write(request.user)


ERRORS_401_403 = {
    401: OpenApiResponse(description="Not authenticated."),
    403: OpenApiResponse(description="Your role may not import (facilities, or a superuser for as_is)."),
}


# Not inside the request's transaction (ATOMIC_REQUESTS): the only write here is the job row, in its own
# transaction, and its on_commit queueing must happen before the answer, so that without a broker the job has
# run (in-process) when the 202 is built.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class SiteImportView(APIView):
    """Queue a site import from an export document: 202 with the job, whose URL reports progress and then the
    result or the errors. The import itself is all or nothing, every record validated like the CRUD API and
    every node placed through the placement rules. Without a broker the job runs before this answers."""

    max_body_bytes = IMPORT_MAX_BYTES
    permission_classes = [CanImport]

    @extend_schema(
        parameters=[
            OpenApiParameter("name", str, description="Name of the new site (default: the document's)."),
            OpenApiParameter("slug", str, description="Slug of the new site (default: the document's)."),
            OpenApiParameter("as_is", bool, description="Superusers only: skip the placement rules for nodes."),
        ],
        request=OpenApiTypes.OBJECT,
        responses={
            202: OpenApiResponse(ImportQueuedSerializer, description="Queued; Location: the job's URL."),
            400: OpenApiResponse(description="Not JSON, not a JSON object, or bad query parameters."),
            **ERRORS_401_403,
            413: OpenApiResponse(description="The document is larger than SITE_IMPORT_MAX_BYTES."),
        },
    )
    def post(self, request):
        query = ImportQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = query.validated_data
        if options["as_is"] and not request.user.is_superuser:
            raise PermissionDenied("Only superusers may import nodes as they are (as_is).")
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["The body must be a site export document (a JSON object)."]})
        job = import_jobs.import_job_create(
            document=request.data,
            user=request.user,
            name=options.get("name"),
            slug=options.get("slug"),
            as_is=options["as_is"],
        )
        job = import_jobs.import_jobs_for(request.user).get(pk=job.pk)  # finished already when run in-process
        data = ImportJobSerializer(job, context={"request": request}).data
        return Response({"job": data}, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


class ImportJobViewSet(viewsets.ReadOnlyModelViewSet):
    """Site import jobs, newest first: yours (a superuser sees everyone's). Filter with ``?status=``."""

    serializer_class = ImportJobSerializer
    permission_classes = [CanImport]
    queryset = ImportJob.objects.none()
    filterset_fields = ["status", "kind"]
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return import_jobs.import_jobs_for(self.request.user).order_by("-created_at", "-id")

    @extend_schema(responses={200: ImportJobSerializer(many=True), **ERRORS_401_403})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        responses={
            200: ImportJobSerializer,
            **ERRORS_401_403,
            404: OpenApiResponse(description="No such job, or not yours."),
        }
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)
