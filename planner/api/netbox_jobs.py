"""``POST netbox/import/``: a NetBox import as a background job (the site import's job mechanism), facilities only.

Answers 202 with the job and its URL (``GET import-jobs/{id}/`` reports progress, then the import summary or
the errors). Like the dry run it reads only NetBox base URLs listed in ``NETBOX_URLS``; a body it refuses
(400) queues no job. The token is sealed on the job while it runs and wiped when it finishes
(``planner.import_jobs``); it is never in the job's options or in any answer.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.decorators import method_decorator
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from planner import import_jobs
from planner.api.netbox import DryRunRequest
from planner.api.transfer import ERRORS_401_403, CanImport, ImportJobSerializer, ImportQueuedSerializer
from planner.netbox.mapping import MappingError, RowConfig


class NetboxImportRequest(DryRunRequest):
    dry_run = serializers.BooleanField(default=False, help_text="Write nothing; the job's result says what would.")

    def validate(self, attrs):
        try:
            RowConfig(source=attrs["row_from"], pattern=attrs.get("row_pattern") or None)
        except MappingError as exc:
            raise serializers.ValidationError({"row_pattern": [str(exc)]}) from None
        return attrs


# Outside the request transaction, like the site import: the job row is the only write, and without a broker
# its in-process run must happen before the 202 is built.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class NetboxImportView(APIView):
    """Queue an import from NetBox: 202 with the job; its URL reports progress, then the summary (counts,
    failing racks, headroom per site) or the errors. Without a broker the job runs before this answers."""

    permission_classes = [CanImport]

    @extend_schema(
        request=NetboxImportRequest,
        responses={
            202: OpenApiResponse(ImportQueuedSerializer, description="Queued; Location: the job's URL."),
            400: OpenApiResponse(description="Invalid input (field errors; url not in NETBOX_URLS). No job queued."),
            **ERRORS_401_403,
        },
    )
    def post(self, request):
        body = NetboxImportRequest(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        job = import_jobs.netbox_job_create(
            url=d["url"],
            token=d["token"],
            user=request.user,
            site_slugs=d.get("sites", []),
            dry_run=d["dry_run"],
            row_from=d["row_from"],
            row_pattern=d.get("row_pattern") or None,
            figures=d.get("figures"),
            skip_incomplete=d["skip_incomplete"],
        )
        job = import_jobs.import_jobs_for(request.user).get(pk=job.pk)  # finished already when run in-process
        data = ImportJobSerializer(job, context={"request": request}).data
        return Response({"job": data}, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})
