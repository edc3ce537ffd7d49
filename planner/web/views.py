"""Server-rendered pages for facilities engineers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count, FloatField, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from racks.models import Site


@login_required
def site_list(request: HttpRequest) -> HttpResponse:
    """Every site with its headline figures, in two queries whatever the number of racks."""
    sites = Site.objects.annotate(
        rack_count=Count("rooms__rows__racks", distinct=True),
        it_load_kw=Coalesce(Sum("rooms__rows__racks__nodes__model__max_power_kw"), 0.0, output_field=FloatField()),
    ).order_by("name")
    return render(request, "planner/site_list.html", {"sites": sites})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for load balancers and docker compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
