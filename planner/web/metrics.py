"""Cheap per-rack figures for overview pages (floor plan, dashboards, site list).

The engine evaluates every rule with its arithmetic; overview pages only need a handful of ratios per
rack (load against capacity), for thousands of racks. From a rack context they come from the engine's
``build_state`` (loads, heat split and weights in one pass over the nodes) and its formulas (PDU usable kW,
loop usable kW, the row's air limit), without running the rules or building their messages; the site list,
which has no contexts, feeds the same ``RackFigures`` from SQL sums. ``tests/web/test_metrics.py`` holds
them equal to ``engine.rack_headroom``. The rack page shows each rule's verdict.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings

from planner.engine.capacity import is_near_limit
from planner.engine.flow import air_headroom_kw, proportional_split
from planner.engine.inputs import RackContext
from planner.engine.rules.cooling import close_coupled_loops, liquid_loops, usable
from planner.engine.rules.state import build_state
from planner.engine.units import air_kw_per_rack_limit, pdu_usable_kw


def air_limit_kw(containment: str, limit_kw: float | None) -> float:
    return air_kw_per_rack_limit(limit_kw, containment)[0]


def power_capacity_kw(pdus: Iterable[tuple[str, float]]) -> float:
    """POWER_RACK capacity: the smaller side's usable kW with both sides fed, else the one side's; 0: no PDU."""
    sides: dict[str, float] = defaultdict(float)
    for side, kw in pdus:
        sides[side] += kw
    return min(sides.values()) if sides else 0.0


def floor_area_m2(width_mm: float, depth_mm: float, aisle_width_mm: float, method: str) -> float:
    """Footprint, or footprint widened by half the aisle front and back (``half_aisle``), in m²."""
    depth = depth_mm + (aisle_width_mm if method == "half_aisle" else 0.0)
    return width_mm * depth / 1e6


def _ratio(load: float, capacity: float | None) -> float | None:
    """load / capacity; None when there is neither; infinite when load has no capacity at all."""
    if capacity is None or capacity <= 0:
        return math.inf if load > 0 else None
    return load / capacity


@dataclass(slots=True)
class RackFigures:
    """One rack's loads and limits (kW, kg, kg/m², U) and the ratios derived from them."""

    kw: float
    air_kw: float
    liquid_kw: float
    power_capacity_kw: float  # 0: no PDU
    air_capacity_kw: float  # row air limit + close-coupled (rear door / in-row) capacity serving the rack
    liquid_loops: list[tuple[float, float]] = field(default_factory=list)  # (loop heat incl. others, usable)
    equipment_kg: float = 0.0
    max_load_kg: float = 0.0
    total_kg: float = 0.0
    area_m2: float = 1.0
    floor_rating_kg_m2: float = 0.0
    u_height: int = 42
    used_u: int = 0

    @property
    def power_ratio(self) -> float | None:
        return _ratio(self.kw, self.power_capacity_kw)

    @property
    def cooling_ratio(self) -> float | None:
        ratios = [_ratio(self.air_kw, self.air_capacity_kw)]
        if self.liquid_kw > 0 and not self.liquid_loops:
            ratios.append(math.inf)
        ratios += [_ratio(load, usable) for load, usable in self.liquid_loops]
        ratios = [r for r in ratios if r is not None]
        return max(ratios) if ratios else None

    @property
    def rack_load_ratio(self) -> float | None:
        return _ratio(self.equipment_kg, self.max_load_kg)

    @property
    def floor_kg_m2(self) -> float:
        return self.total_kg / self.area_m2 if self.area_m2 > 0 else 0.0

    @property
    def floor_ratio(self) -> float | None:
        return _ratio(self.floor_kg_m2, self.floor_rating_kg_m2)

    @property
    def free_u(self) -> int:
        return max(self.u_height - self.used_u, 0)

    @property
    def worst_ratio(self) -> float | None:
        """The highest ratio of power, cooling, rack load and floor load (space excluded)."""
        ratios = [
            r for r in (self.power_ratio, self.cooling_ratio, self.rack_load_ratio, self.floor_ratio) if r is not None
        ]
        return max(ratios) if ratios else None

    @property
    def near_limit(self) -> bool:
        return is_near_limit(self.worst_ratio, settings.PLANNER_NEAR_LIMIT_SHARE)


def figures_from_context(ctx: RackContext) -> RackFigures:
    """Figures of one rack from its engine context (loads of the other racks included for shared loops)."""
    st = build_state(ctx, None)
    loops = liquid_loops(ctx)
    shares = proportional_split(st.liquid_kw, [usable(lp) for lp in loops])
    used_u = ctx.rack.u_height if st.rack_scale is not None else sum(n.model.u_height for n in st.nodes)
    derating = ctx.site.power_derating
    # The engine's power.rack_power_capacity_kw, cooling.close_coupled and floor.floor_area_m2, without the
    # message text they build (thousands of racks per page): same formulas, no strings.
    pdus = ((p.side, pdu_usable_kw(p.voltage_v, p.current_a, p.phases, derating, p.power_factor)) for p in ctx.pdus)
    rack, row = ctx.rack, ctx.row
    close = close_coupled_loops(ctx)
    air_cap = air_limit_kw(row.containment, row.air_kw_per_rack_limit)
    if close:
        # The engine's rack headroom figure (engine.flow): air heat the rack can carry past its units.
        air_cap = air_headroom_kw(
            air_kw=st.air_kw, row_limit_kw=air_cap, loops=close, room_other_kw=0.0, room_capacity_kw=math.inf
        )[0]
    return RackFigures(
        kw=st.load_kw,
        air_kw=st.air_kw,
        liquid_kw=st.liquid_kw,
        power_capacity_kw=power_capacity_kw(pdus),
        air_capacity_kw=air_cap,
        liquid_loops=[(lp.other_heat_kw + share, usable(lp)) for lp, share in zip(loops, shares, strict=True)],
        equipment_kg=st.equipment_kg,
        max_load_kg=rack.max_load_kg,
        total_kg=st.weight_kg,
        area_m2=floor_area_m2(rack.width_mm, rack.depth_mm, row.aisle_width_mm, ctx.room.floor_load_method),
        floor_rating_kg_m2=ctx.room.floor_rated_load_kg_m2,
        u_height=ctx.rack.u_height,
        used_u=used_u,
    )


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
            "Rack IT load at max power; bands follow the retrofit defaults of DESIGN.md.",
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
