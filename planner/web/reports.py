"""Report pages: index of sites, a site's reports, one report with Plotly charts, CSV and JSON downloads.

Any user with a role may read them. Charts are built with the plotly package (``fig.to_json()``) and drawn
by ``static/vendor/plotly-basic.min.js``: never a CDN.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe

from planner import reports
from planner.models import CapacityReport
from planner.roles import can_read
from racks.models import Site

CHART_HISTORY = 90  # reports shown in the history charts
TABLE_ROWS = 200  # rows of the long tables on the page; the CSV has them all


def reader_required(view):
    """Logged in (else to the login page) and holding a role (else 403)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not can_read(request.user):
            raise PermissionDenied("Your role does not allow this.")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def script_json(text: str) -> str:
    """JSON text safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` left raw."""
    for raw, escaped in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return mark_safe(text)  # escaped above


def chart_figures(report: CapacityReport, history: list[dict]) -> list[dict]:
    """One Plotly figure per forecast dimension: installed and committed load, the limit, the forecast line."""
    import plotly.graph_objects as go

    forecast = (report.data or {}).get("forecast") or {}
    charts = []
    for dim in reports.FORECAST_DIMENSIONS:
        unit = reports.UNITS[dim]
        points = [(h["day"], ((h.get("summary") or {}).get("totals") or {}).get(dim)) for h in history]
        points = [(d, t) for d, t in points if t]
        days = [d.isoformat() for d, _ in points]
        fig = go.Figure()
        fig.add_scatter(x=days, y=[t.get("installed") for _, t in points], name="Installed load", mode="lines+markers")
        fig.add_scatter(
            x=days,
            y=[t.get("load") for _, t in points],
            name="Load incl. planned",
            mode="lines+markers",
            line={"dash": "dot"},
        )
        f = forecast.get(dim) or {}
        line = f.get("line") or []
        limit_x, limit_y = list(days), [t.get("limit") for _, t in points]
        if len(line) == 2 and limit_y:
            # Carry today's limit across the forecast horizon: the line the forecast runs into.
            limit_x.append(line[1][0])
            limit_y.append(limit_y[-1])
        fig.add_scatter(x=limit_x, y=limit_y, name="Limit (load + headroom)", mode="lines", line={"shape": "hv"})
        if len(line) == 2:
            fig.add_scatter(
                x=[p[0] for p in line], y=[p[1] for p in line], name="Forecast", mode="lines", line={"dash": "dash"}
            )
        if f.get("run_out_day") and f.get("capacity") is not None:
            fig.add_scatter(
                x=[f["run_out_day"]],
                y=[f["capacity"]],
                name=f"Runs out {f['run_out_day']}",
                mode="markers",
                marker={"symbol": "x", "size": 12},
            )
        fig.update_layout(
            title={"text": f"{reports.LABELS[dim]} ({unit})"},
            height=320,
            margin={"l": 50, "r": 20, "t": 40, "b": 40},
            legend={"orientation": "h", "y": -0.2},
            yaxis={"title": {"text": unit}, "rangemode": "tozero"},
            xaxis={"type": "date"},
            template="plotly_white",
        )
        charts.append({"dim": dim, "label": reports.LABELS[dim], "json": script_json(fig.to_json())})
    return charts


@reader_required
def report_index(request: HttpRequest) -> HttpResponse:
    """Every site with its latest report, one query."""
    latest = CapacityReport.objects.filter(site_id=OuterRef("pk")).order_by("-day")
    sites = Site.objects.annotate(
        report_count=Count("capacity_reports"),
        latest_day=Max("capacity_reports__day"),
        latest_id=Subquery(latest.values("id")[:1]),
    ).order_by("name")
    return render(request, "reports/index.html", {"sites": sites})


@reader_required
def site_reports(request: HttpRequest, slug: str) -> HttpResponse:
    """A site's reports, newest first, paginated (the summaries only)."""
    site = get_object_or_404(Site, slug=slug)
    qs = CapacityReport.objects.filter(site=site).defer("data").order_by("-day")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = []
    for r in page.object_list:
        s = r.summary or {}
        rows.append({"report": r, "earliest": s.get("earliest_run_out"), "near": s.get("near_limit_count", 0)})
    return render(request, "reports/site_reports.html", {"site": site, "page": page, "rows": rows})


def _totals_rows(data: dict) -> list[dict]:
    totals, forecast = data.get("totals") or {}, data.get("forecast") or {}
    changes = (data.get("changes") or {}).get("totals") or {}
    rows = []
    for dim in reports.FORECAST_DIMENSIONS:
        t, f = totals.get(dim) or {}, forecast.get(dim) or {}
        util = t.get("utilisation")
        rows.append(
            {
                "dim": dim,
                "label": reports.LABELS[dim],
                "unit": reports.UNITS[dim],
                **{k: t.get(k) for k in ("capacity", "load", "planned", "installed", "headroom", "limit")},
                "utilisation_pct": None if util is None else util * 100,
                "load_delta": (changes.get(dim) or {}).get("load"),
                "headroom_delta": (changes.get(dim) or {}).get("headroom"),
                "status": (f.get("status") or "").replace("_", " "),
                "run_out_day": f.get("run_out_day"),
                "days_to_run_out": f.get("days_to_run_out"),
                "slope": f.get("slope_per_day"),
            }
        )
    return rows


@reader_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One report: totals and run-out dates, charts, changes, risks, rooms and rows, racks near a limit."""
    report = get_object_or_404(CapacityReport.objects.select_related("site"), pk=pk)
    history = list(
        CapacityReport.objects.filter(site_id=report.site_id, day__lte=report.day)
        .order_by("-day")
        .values("day", "summary")[:CHART_HISTORY]
    )[::-1]
    data = report.data or {}
    risks = data.get("risks") or {}
    near = data.get("near_limit") or []
    single = (risks.get("single_feed") or {}).get("racks") or []
    context = {
        "report": report,
        "site": report.site,
        "data": data,
        "totals": _totals_rows(data),
        "charts": chart_figures(report, history),
        "changes": data.get("changes") or {},
        "risks": risks,
        "top_risks": risks.get("top") or [],
        "n1": data.get("resilience"),
        "readiness": data.get("readiness"),
        "near": near[:TABLE_ROWS],
        "near_more": max(len(near) - TABLE_ROWS, 0),
        "single": single[:TABLE_ROWS],
        "single_more": max(len(single) - TABLE_ROWS, 0),
        "psu_models": (risks.get("psu_feed_loss") or {}).get("by_model") or [],
        "loops": (risks.get("liquid_no_redundancy") or {}).get("loops") or [],
        "near_pct": reports.report_near_limit_pct(report),
        "rooms": (data.get("headroom") or {}).get("rooms") or [],
        "previous": CapacityReport.objects.filter(site_id=report.site_id, day__lt=report.day)
        .order_by("-day")
        .values("id", "day")
        .first(),
        "next": CapacityReport.objects.filter(site_id=report.site_id, day__gt=report.day)
        .order_by("day")
        .values("id", "day")
        .first(),
    }
    return render(request, "reports/report_detail.html", context)


@reader_required
def report_csv(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(CapacityReport.objects.select_related("site"), pk=pk)
    response = HttpResponse(reports.report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{reports.report_filename(report, "csv")}"'
    return response


@reader_required
def report_json(request: HttpRequest, pk: int) -> JsonResponse:
    report = get_object_or_404(CapacityReport.objects.select_related("site"), pk=pk)
    body = {
        "id": report.pk,
        "site": report.site_id,
        "site_slug": report.site.slug,
        "site_name": report.site.name,
        "day": report.day,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "it_load_kw": report.it_load_kw,
        "power_capacity_kw": report.power_capacity_kw,
        "air_heat_kw": report.air_heat_kw,
        "liquid_heat_kw": report.liquid_heat_kw,
        "rack_count": report.rack_count,
        "node_count": report.node_count,
        "summary": report.summary,
        "data": report.data,
    }
    response = JsonResponse(body)
    response["Content-Disposition"] = f'attachment; filename="{reports.report_filename(report, "json")}"'
    return response
