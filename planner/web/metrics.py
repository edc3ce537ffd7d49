"""Floor-plan colouring of the per-rack overview figures, and the "near a limit" test for pages.

The figures themselves (``RackFigures``, ``figures_from_context``) live in ``planner.engine.capacity`` with the
one "near a limit" rule, so the nightly report, the dashboard, the floor plan and the site list count the same
racks. ``tests/web/test_metrics.py`` holds the figures equal to ``engine.rack_headroom``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings

from planner.engine.capacity import (  # noqa: F401  (re-exported for the pages)
    RackFigures,
    air_limit_kw,
    figures_from_context,
    floor_area_m2,
    power_capacity_kw,
)


def near_limit(fig: RackFigures) -> bool:
    """True when any of the rack's dimensions is near its limit (``settings.PLANNER_NEAR_LIMIT_SHARE``)."""
    return bool(fig.limit_ratios(settings.PLANNER_NEAR_LIMIT_SHARE))


# --- Floor-plan colouring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    upper: float | None  # inclusive upper edge; None = open-ended
    colour: str
    label: str


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    bands: tuple[Band, ...]
    help: str

    def band(self, value: float | None) -> Band | None:
        if value is None:
            return None
        for band in self.bands:
            if band.upper is None or value <= band.upper:
                return band
        return self.bands[-1]


# Light fills so dark text keeps a contrast ratio above 4.5:1; red/amber/green are backed by the label text.
# The amber band starts where a rack is near a limit (the one setting, read when the module loads).
_NEAR_PCT = min(max(round(settings.PLANNER_NEAR_LIMIT_SHARE * 100, 6), 50.0), 100.0)
_PCT_BANDS = (
    Band(50, "#cfe8d5", "≤ 50 %"),
    Band(_NEAR_PCT, "#f6e7a6", f"50-{_NEAR_PCT:g} %"),
    Band(100, "#f7b787", f"{_NEAR_PCT:g}-100 %"),
    Band(None, "#e98b8b", "> 100 % (over the limit)"),
)
METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric(
            "kw",
            "IT load",
            "kW",
            (
                Band(0, "#eef1f4", "empty (0 kW)"),
                Band(10, "#d6e6f5", "≤ 10 kW (open-aisle air)"),
                Band(20, "#b5d3ef", "10-20 kW (containment)"),
                Band(35, "#f6e7a6", "20-35 kW (in-row / passive door)"),
                Band(60, "#f7c98b", "35-60 kW (active door / DLC)"),
                Band(150, "#f0a07a", "60-150 kW (direct liquid)"),
                Band(None, "#e98b8b", "> 150 kW (high-capacity liquid)"),
            ),
            "Rack IT load at max power; bands follow the retrofit advisor's default density bands.",
        ),
        Metric("power_pct", "Power used", "%", _PCT_BANDS, "Load against POWER_RACK capacity (smaller PDU side)."),
        Metric(
            "cooling_pct",
            "Cooling used",
            "%",
            _PCT_BANDS,
            "Worst of air heat against the row's air kW per rack (+ rear doors / in-row serving it) "
            "and each liquid loop's load.",
        ),
        Metric(
            "floor_pct", "Floor load", "%", _PCT_BANDS, "Rack weight per area against the room's uniform floor rating."
        ),
        Metric(
            "free_u",
            "Free space",
            "U",
            (
                Band(0, "#e98b8b", "full (0 U)"),
                Band(5, "#f7b787", "1-5 U"),
                Band(15, "#f6e7a6", "6-15 U"),
                Band(30, "#d6e6f5", "16-30 U"),
                Band(None, "#cfe8d5", "> 30 U"),
            ),
            "Rack units not taken by a node.",
        ),
    )
}
NO_DATA = Band(None, "#ffffff", "no capacity defined")


def metric_value(fig: RackFigures, key: str) -> float | None:
    if key == "kw":
        return fig.kw
    if key == "free_u":
        return fig.free_u
    ratio = {"power_pct": fig.power_ratio, "cooling_pct": fig.cooling_ratio, "floor_pct": fig.floor_ratio}[key]
    return None if ratio is None else ratio * 100


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if math.isinf(value):
        return "no capacity"
    if unit == "U":
        return f"{value:.0f} U"
    if unit == "%":
        return f"{value:.0f} %"
    if value == 0:
        return "0 kW"
    return f"{value:.1f} kW" if value < 100 else f"{value:.0f} kW"
