"""Capacity roll-ups shared by every page, API answer and report: what "near a limit" means.

One threshold, ``used_share`` (settings.PLANNER_NEAR_LIMIT_SHARE, default 0.8): a dimension is near its
limit when its load uses at least that share of its capacity, i.e. its headroom is at most ``1 - used_share``
of the capacity. The dashboard, the floor plan and the nightly report all call ``is_near_limit``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from planner.engine.flow import air_headroom_kw, proportional_split
from planner.engine.inputs import RackContext
from planner.engine.rules.cooling import close_coupled_loops, liquid_loops, usable
from planner.engine.rules.state import build_state
from planner.engine.units import air_kw_per_rack_limit, pdu_usable_kw

DEFAULT_NEAR_LIMIT_SHARE = 0.8


def near_limit_headroom_share(used_share: float) -> float:
    """The headroom share at or below which a dimension is near its limit: ``1 - used_share`` (0.2 at 0.8)."""
    return round(1.0 - used_share, 12)


def is_near_limit(used_ratio: float | None, used_share: float = DEFAULT_NEAR_LIMIT_SHARE) -> bool:
    """True when ``used_ratio`` (load / capacity, or 1 - headroom / capacity) reaches ``used_share``.

    None (no capacity and no load) is never near a limit; an infinite ratio (load with no capacity) is.
    """
    return used_ratio is not None and used_ratio >= used_share - 1e-12


# --- Per-rack overview figures ------------------------------------------------------------------------------
# Overview pages and the report's near-limit list need a handful of ratios per rack, for thousands of racks:
# from the engine's build_state and formulas, without running the rules or building their messages. The site
# list, which has no contexts, feeds the same RackFigures from SQL sums.


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
    def liquid_ratio(self) -> float | None:
        """The most loaded liquid loop serving the rack (its whole load, other racks' included)."""
        ratios = [math.inf] if self.liquid_kw > 0 and not self.liquid_loops else []
        ratios += [_ratio(load, usable) for load, usable in self.liquid_loops]
        ratios = [r for r in ratios if r is not None]
        return max(ratios) if ratios else None

    @property
    def cooling_ratio(self) -> float | None:
        ratios = [r for r in (_ratio(self.air_kw, self.air_capacity_kw), self.liquid_ratio) if r is not None]
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

    def used_ratios(self) -> dict[str, float | None]:
        """load / capacity of each dimension "near a limit" looks at (None: neither load nor capacity)."""
        return {
            "power": self.power_ratio,
            "cooling_air": _ratio(self.air_kw, self.air_capacity_kw),
            "cooling_liquid": self.liquid_ratio,
            "rack_load": self.rack_load_ratio,
            "floor": self.floor_ratio,
        }

    def limit_ratios(self, used_share: float = DEFAULT_NEAR_LIMIT_SHARE) -> dict[str, float]:
        """The dimensions near their limit -> headroom / capacity (-1: load with no capacity; ``space``: 0
        when no U is free). Empty: the rack is near no limit. The one rule behind every "near a limit"."""
        hits: dict[str, float] = {}
        for dim, used in self.used_ratios().items():
            if is_near_limit(used, used_share):
                hits[dim] = -1.0 if math.isinf(used) else round(1.0 - used, 4)
        if self.free_u == 0:
            hits["space"] = 0.0
        return hits


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
