"""Plotly figures of the site dashboard, built server-side and drawn by the vendored plotly-basic.min.js

Each builder returns a ``plotly.graph_objects.Figure``; ``figure_json`` turns it into JSON that is safe to
embed in a ``<script type="application/json">`` element (the page script calls ``Plotly.newPlot``).
"""

from __future__ import annotations

import plotly.graph_objects as go

from planner.web.labels import DIMENSIONS, UNIT_TEXT
from planner.web.metrics import METRICS

FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
ROOM_COLOURS = ("#0b5cad", "#c2571a", "#2e7d32", "#7b3fa0", "#a61e4d", "#00838f", "#5d4037", "#546e7a")
_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def figure_json(fig: go.Figure) -> str:
    return fig.to_json().translate(_JSON_ESCAPES)


def _layout(fig: go.Figure, *, yaxis_title: str, xaxis_title: str = "", height: int = 340, **extra) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 64, "r": 16, "t": 16, "b": 56},
        font={"family": FONT, "size": 13, "color": "#1b1f24"},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        yaxis={"title": {"text": yaxis_title}, "gridcolor": "#e3e7eb", "zerolinecolor": "#8a96a3"},
        xaxis={"title": {"text": xaxis_title}},
        **{"showlegend": True, **extra},
    )
    return fig


def _compact(value: float, unit: str) -> str:
    """A short bar label: 1.19 MW, 18.0 t, 834 kg/m²."""
    if unit == "kw":
        return f"{value / 1000:.2f} MW" if value >= 1000 else f"{value:.0f} kW"
    if unit == "kg":
        return f"{value / 1000:.1f} t" if value >= 1000 else f"{value:.0f} kg"
    return f"{value:.0f} {UNIT_TEXT[unit]}"


def headroom_by_room(site_headroom: dict) -> go.Figure:
    """Headroom left in each dimension, as a share of its capacity, one bar group per room."""
    fig = go.Figure()
    labels = [label for label, _ in DIMENSIONS.values()]
    for i, room in enumerate(site_headroom["rooms"]):
        pct, text, hover = [], [], []
        for key, (label, unit) in DIMENSIONS.items():
            dim = room[key]
            load, head = dim[f"load_{unit}"], max(dim[f"headroom_{unit}"], 0.0)
            # Effective capacity: what is used plus what is left (the room's air loops may bind before the
            # racks' own air limits do); floor load is per rack, against the room's rating.
            cap = dim[f"capacity_{unit}"] if key == "floor" else load + head
            u = UNIT_TEXT[unit]
            pct.append(head / cap * 100 if cap > 0 else None)
            text.append(_compact(head, unit) if cap > 0 else "none")
            hover.append(
                f"{room['name']} · {label}<br>load {load:,.1f} {u}<br>headroom {head:,.1f} {u}"
                if cap > 0
                else f"{room['name']} · {label}<br>no capacity defined"
            )
        fig.add_bar(
            name=room["name"],
            x=labels,
            y=pct,
            text=text,
            textposition="outside",
            textfont={"size": 11},
            textangle=0,
            cliponaxis=False,
            hovertext=hover,
            hoverinfo="text",
            marker_color=ROOM_COLOURS[i % len(ROOM_COLOURS)],
        )
    fig.add_hline(y=20, line_dash="dot", line_color="#b3261e")
    return _layout(fig, yaxis_title="headroom, % of capacity", barmode="group", yaxis_range=[0, 112])


def rack_density(kw_by_rack: list[float]) -> go.Figure:
    """How many racks fall in each load band (the retrofit bands of DESIGN.md)."""
    bands = METRICS["kw"].bands
    counts = [0] * len(bands)
    for kw in kw_by_rack:
        for i, band in enumerate(bands):
            if band.upper is None or kw <= band.upper:
                counts[i] += 1
                break
    fig = go.Figure(
        go.Bar(
            x=[b.label for b in bands],
            y=counts,
            text=counts,
            textposition="outside",
            cliponaxis=False,
            marker={"color": [b.colour for b in bands], "line": {"color": "#4a5560", "width": 1}},
            hovertemplate="%{x}: %{y} racks<extra></extra>",
        )
    )
    _layout(fig, yaxis_title="racks", xaxis_title="rack IT load at max power", xaxis_tickangle=-20, showlegend=False)
    fig.update_yaxes(tickformat=",d", dtick=1 if max(counts, default=0) <= 8 else None, rangemode="tozero")
    return fig


def heat_by_room(rooms: list[dict]) -> go.Figure:
    """Air and liquid heat per room, each beside the usable capacity of the loops that take it (kW)."""
    names = [r["name"] for r in rooms]
    fig = go.Figure()
    bars = (
        ("Air heat", "air_kw", "#5b9bd5", None),
        ("Air capacity", "air_capacity_kw", "#ffffff", "#5b9bd5"),
        ("Liquid heat", "liquid_kw", "#1f4e79", None),
        ("Liquid capacity", "liquid_capacity_kw", "#ffffff", "#1f4e79"),
    )
    for name, key, fill, outline in bars:
        fig.add_bar(
            name=name,
            x=names,
            y=[r[key] for r in rooms],
            marker={"color": fill, "line": {"color": outline or fill, "width": 2}},
            hovertemplate=f"%{{x}}: {name.lower()} %{{y:,.1f}} kW<extra></extra>",
        )
    return _layout(fig, yaxis_title="kW", barmode="group")


def capacity_history(reports: list) -> go.Figure:
    """Nightly capacity reports: IT load and capacity, air and liquid heat, per day."""
    days = [r.day.isoformat() for r in reports]
    fig = go.Figure()
    series = (
        ("IT load", [r.it_load_kw for r in reports], "#0b5cad", "solid"),
        ("Power capacity", [r.power_capacity_kw for r in reports], "#b3261e", "dash"),
        ("Air heat", [r.air_heat_kw for r in reports], "#5b9bd5", "solid"),
        ("Liquid heat", [r.liquid_heat_kw for r in reports], "#1f4e79", "dot"),
    )
    for name, values, colour, dash in series:
        fig.add_scatter(
            name=name,
            x=days,
            y=values,
            mode="lines+markers",
            line={"color": colour, "dash": dash},
            hovertemplate=f"%{{x}}: {name} %{{y:,.1f}} kW<extra></extra>",
        )
    _layout(fig, yaxis_title="kW", hovermode="x unified")
    short = len(reports) < 2 or (reports[-1].day - reports[0].day).days <= 14
    fig.update_xaxes(type="date", tickformat="%d %b %Y", dtick=86_400_000 if short else None)
    return fig
