"""Pages of the AI-factory layer (issue 17): workloads (list, form, detail) and site selection."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from planner import ai_factory
from planner.models import Workload
from planner.site_selection import ExternalOption, select_sites
from planner.web import figures as figs
from planner.web.access import page, reader_required, writer_required
from planner.web.forms import SiteSelectionForm, WorkloadForm


@reader_required
def workload_list(request: HttpRequest) -> HttpResponse:
    workloads = list(Workload.objects.select_related("model").order_by("name"))
    return page(request, "planner/workload_list.html", {"workloads": workloads})


@reader_required
def workload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    workload = get_object_or_404(Workload.objects.select_related("model"), pk=pk)
    throughput = ai_factory.throughput_for(workload.model_id, workload.reference_workload, workload.scenario)
    return page(
        request,
        "planner/workload_detail.html",
        {"workload": workload, "throughput": throughput},
    )


@writer_required
def workload_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Workload, pk=pk) if pk is not None else None
    form = WorkloadForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        workload = form.save()
        messages.success(request, f"Saved workload {workload.name}.")
        return redirect("workload-detail", workload.pk)
    context = {
        "form": form,
        "title": f"Edit workload {instance.name}" if instance else "New workload",
        "cancel_url": f"/workloads/{instance.pk}/" if instance else "/workloads/",
    }
    return page(request, "planner/form.html", context, status=400 if form.errors else 200)


@reader_required
def site_selection(request: HttpRequest) -> HttpResponse:
    """Rank the sites against colocation and cloud for a workload (a question: GET, writes nothing)."""
    form = SiteSelectionForm(request.GET if "workload" in request.GET else None)
    context = {"form": form, "answer": None}
    status = 200
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        external = (ExternalOption(kind="colocation", name="Colocation (CBRE average)"),) if data["colocation"] else ()
        try:
            answer = select_sites(
                data["workload"],
                external=external,
                hardware_usd_per_system=data.get("hardware_usd_per_system"),
                hardware_lead_time_days=data.get("hardware_lead_time_days"),
            )
        except ValueError as exc:
            form.add_error("workload", str(exc))
            status = 400
        else:
            context.update({"answer": answer, "workload": data["workload"], "charts": _charts(answer)})
    elif form.is_bound:
        status = 400
    return page(request, "planner/site_selection.html", context, status=status)


def _charts(answer: dict) -> list[dict]:
    import plotly.graph_objects as go

    options = answer["options"]
    names = [f"{o['rank']}. {o['name']}" for o in options]
    kept = ["#2e7d32" if not _broken(o) else "#a61e4d" for o in options]
    cost = [(o["kpis"] or {}).get("usd_per_million_tokens") for o in options]
    latency = [o["slo"]["latency_ms"] for o in options]
    charts = []
    if any(c is not None for c in cost):
        fig = go.Figure(go.Bar(x=names, y=cost, marker_color=kept, name="USD per million tokens"))
        fig.update_layout(height=320, margin={"l": 64, "r": 16, "t": 16, "b": 96}, yaxis_title="USD per M tokens")
        charts.append({"id": "cost", "title": "Cost per million tokens", "json": figs.figure_json(fig)})
    else:
        charts.append(
            {
                "id": "cost",
                "title": "Cost per million tokens",
                "json": None,
                "empty": "No option has a cost: give the hardware price per system.",
            }
        )
    if any(v is not None for v in latency):
        fig = go.Figure(go.Bar(x=names, y=latency, marker_color=kept, name="p99 RTT (ms)"))
        budget = answer.get("latency_budget_ms")
        if budget is not None:
            fig.add_hline(y=budget, line_dash="dash", annotation_text=f"budget {budget:g} ms")
        fig.update_layout(height=320, margin={"l": 64, "r": 16, "t": 16, "b": 96}, yaxis_title="p99 round trip (ms)")
        charts.append({"id": "latency", "title": "p99 latency from the users", "json": figs.figure_json(fig)})
    else:
        charts.append(
            {
                "id": "latency",
                "title": "p99 latency from the users",
                "json": None,
                "empty": "No latency: the options have no coordinates or the workload no user regions.",
            }
        )
    return charts


def _broken(option: dict) -> bool:
    slo = option["slo"]
    return False in (slo["latency_ok"], slo["residency_ok"], slo["availability_ok"])
