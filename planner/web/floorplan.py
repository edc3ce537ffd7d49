"""The room floor plan: racks drawn by row and position as a CSS grid, coloured by one metric.

Rendered in Python rather than with a template loop: a hall of 2,000 racks is 2,000 links, and string
joins keep that to a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from planner.web.metrics import METRICS, NO_DATA, Metric, RackFigures, format_value, metric_value

DENSE_COLUMNS = 20


@dataclass
class FloorPlan:
    html: SafeString
    metric: Metric
    legend: list[dict]
    rack_count: int
    dense: bool  # many racks per row: smaller tiles showing the value only (the name stays in the label)


def render_floorplan(rows, racks, figures: dict[int, RackFigures], metric_key: str) -> FloorPlan:
    """``rows`` and ``racks`` of one room (ordered by position), ``figures`` by rack id."""
    metric = METRICS[metric_key]
    racks_by_row: dict[int, list] = {row.id: [] for row in rows}
    for rack in racks:
        racks_by_row[rack.row_id].append(rack)
    rack_url = reverse("rack-detail", args=[0])[:-2]  # "/racks/"; rack ids are appended below
    counts: dict[str, int] = {}
    widest = 0
    parts: list[str] = []
    for row in rows:
        row_racks = racks_by_row[row.id]
        columns = max((r.position for r in row_racks), default=1)
        widest = max(widest, columns)
        name = escape(row.name)
        parts.append(
            f'<section class="fp-row" aria-label="Row {name}"><h3 class="fp-row-name">{name}</h3>'
            f'<div class="fp-racks" style="grid-template-columns:repeat({columns},var(--tile))">'
        )
        if not row_racks:
            parts.append('<span class="fp-empty">no racks</span>')
        for rack in row_racks:
            value = metric_value(figures[rack.id], metric_key)
            band = metric.band(value) or NO_DATA
            counts[band.label] = counts.get(band.label, 0) + 1
            text = format_value(value, metric.unit)
            rname = escape(rack.name)
            parts.append(
                f'<a class="fp-rack" href="{rack_url}{rack.id}/" style="grid-column:{rack.position};'
                f'background:{band.colour}" title="{rname}: {text}" aria-label="Rack {rname}, {metric.label} {text}">'
                f'<span class="fp-name">{rname}</span><span class="fp-val">{escape(text)}</span></a>'
            )
        parts.append("</div></section>")
    legend = [
        {"colour": b.colour, "label": b.label, "count": counts.get(b.label, 0)}
        for b in (*metric.bands, NO_DATA)
        if b is not NO_DATA or counts.get(NO_DATA.label)
    ]
    return FloorPlan(
        html=mark_safe("".join(parts)),
        metric=metric,
        legend=legend,
        rack_count=len(racks),
        dense=widest > DENSE_COLUMNS,
    )
