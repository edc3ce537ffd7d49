"""The TCO page for procurement: an order's on-prem vs colocation vs GPU-hour cost, with the comparison and the
tornado as Plotly charts (built server-side, drawn by the vendored plotly-basic.min.js). GET only; writes nothing."""

from __future__ import annotations

import plotly.graph_objects as go
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from planner.tco import TcoInputError, tco_for_order
from planner.web.access import page, reader_required
from planner.web.figures import FONT, figure_json
from planner.web.forms import TcoForm

OPTION_LABELS = {
    "on_prem": "On-premises",
    "colocation": "Colocation",
    "cloud": "Your cloud price",
    "neocloud_reserved": "Neocloud reserved",
    "hyperscaler_on_demand": "Hyperscaler on-demand",
}
TORNADO_LABELS = {
    "energy_price": "Energy price",
    "utilization": "Utilisation",
    "pue": "PUE",
    "gpu_hour_price": "GPU-hour price",
    "capex": "Capex",
}
_PARTS = (
    ("capex_usd", "Capex (retrofit + hardware)", "#0b5cad"),
    ("energy_usd", "Energy", "#c2571a"),
    ("rent_usd", "Colocation rent", "#2e7d32"),
    ("cloud_usd", "GPU-hours", "#7b3fa0"),
)


def _layout(fig: go.Figure, **extra) -> go.Figure:
    fig.update_layout(
        height=360,
        margin={"l": 140, "r": 24, "t": 16, "b": 56},
        font={"family": FONT, "size": 13, "color": "#1b1f24"},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        **extra,
    )
    return fig


def comparison_figure(answer: dict) -> go.Figure:
    """Each option's cost over the horizon by component (stacked); an unknown total is marked, never drawn as 0."""
    options = answer["options"]
    labels = [OPTION_LABELS[o["option"]] for o in options]
    fig = go.Figure()
    for key, name, colour in _PARTS:
        fig.add_bar(
            name=name,
            y=labels,
            x=[o[key] if o["total_usd"] is not None else None for o in options],
            orientation="h",
            marker_color=colour,
            hovertemplate="%{y}: %{x:,.0f} USD<extra>" + name + "</extra>",
        )
    for o, label in zip(options, labels, strict=True):
        if o["total_usd"] is None:
            fig.add_annotation(x=0, y=label, xanchor="left", showarrow=False, text="unknown: " + o["total_reason"][:70])
    return _layout(fig, barmode="stack", xaxis={"title": {"text": "USD over the horizon"}, "gridcolor": "#e3e7eb"})


def tornado_figure(answer: dict) -> go.Figure:
    """On-prem NPV minus the reference option's, each input at its low and high value (widest swing on top)."""
    bars = list(reversed(answer["tornado"]))
    base = answer["tornado_base_usd"] or 0.0
    labels = [TORNADO_LABELS[b["variable"]] for b in bars]
    fig = go.Figure()
    for side, colour in (("low", "#0b5cad"), ("high", "#c2571a")):
        fig.add_bar(
            name=f"input {side} (-/+ step)",
            y=labels,
            x=[b[f"{side}_usd"] - base for b in bars],
            base=[base] * len(bars),
            orientation="h",
            marker_color=colour,
            customdata=[[b[f"{side}_input"], b[f"{side}_usd"]] for b in bars],
            hovertemplate="%{y} at %{customdata[0]:.4g}: %{customdata[1]:,.0f} USD<extra></extra>",
        )
    fig.add_vline(x=base, line_dash="dot", line_color="#1b1f24")
    return _layout(
        fig,
        barmode="overlay",
        xaxis={
            "title": {"text": f"on-prem NPV minus {OPTION_LABELS.get(answer['tornado_reference'], '')} NPV (USD)"},
            "gridcolor": "#e3e7eb",
            "zerolinecolor": "#8a96a3",
        },
    )


@reader_required
@require_GET
def tco_page(request: HttpRequest) -> HttpResponse:
    bound = "site" in request.GET
    form = TcoForm(request.GET if bound else None)
    context: dict = {"form": form, "answer": None, "option_labels": OPTION_LABELS, "tornado_labels": TORNADO_LABELS}
    if bound and form.is_valid():
        try:
            answer = tco_for_order(**form.tco_inputs())
        except TcoInputError as exc:
            for name, messages in exc.errors.items():
                for message in messages:
                    form.add_error(name if name in form.fields else None, message)
        else:
            for o in answer["options"]:
                o["label"] = OPTION_LABELS[o["option"]]
            for key in ("payback", "break_even"):
                for row in answer[key]:
                    row["label"] = OPTION_LABELS[row["alternative"]]
            for row in answer["break_even"]:
                row["pct"] = None if row["utilization"] is None else row["utilization"] * 100.0
            answer["cheapest_label"] = OPTION_LABELS.get(answer["cheapest"], "")
            answer["tornado_reference_label"] = OPTION_LABELS.get(answer["tornado_reference"], "")
            answer["discount_pct"] = answer["discount_rate"] * 100.0
            for b in answer["tornado"]:
                b["label"] = TORNADO_LABELS[b["variable"]]
            context["answer"] = answer
            context["comparison_json"] = figure_json(comparison_figure(answer))
            context["tornado_json"] = figure_json(tornado_figure(answer)) if answer["tornado"] else None
            context["site"] = form.cleaned_data["site"]
            context["model"] = form.cleaned_data["model"]
    return page(request, "planner/tco.html", context, status=400 if form.errors else 200)
