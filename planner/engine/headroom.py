"""Rack headroom: what is left in each dimension, what binds, and how many more units of each model fit.

Dimensions are computed by direct arithmetic on the rack as it stands (the same formulas as the rules).
``fits`` is estimated from those headrooms and then confirmed with ``check_placement`` (a handful of checks per
model: the estimate, the next quantity, and a bisection only when the estimate is off), so it always agrees
with the checks: ``quantity=fits`` passes (when fits > 0) and ``quantity=fits+1`` fails.

Stranded capacity: ``stranded_kw.power`` is power headroom no cooling is left for (power headroom minus the
air + liquid cooling headroom, when positive); ``stranded_kw.cooling`` the reverse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from planner.engine.check import check_placement
from planner.engine.fabric import fabric_headroom
from planner.engine.flow import air_headroom_kw, liquid_headroom_kw
from planner.engine.inputs import NodeModelSpec, Placement, RackContext
from planner.engine.results import CheckResult, json_number
from planner.engine.rules.cooling import close_coupled_loops, liquid_loops, room_air_capacity_kw, usable
from planner.engine.rules.floor import floor_area_m2
from planner.engine.rules.power import fed_source_ids, rack_power_capacity_kw
from planner.engine.rules.space import auto_capacity, space_summary
from planner.engine.rules.state import build_state
from planner.engine.units import FEET_PER_RACK, FLUIDS, air_kw_per_rack_limit, flow_heat_kw, node_heat_split_kw


@dataclass(frozen=True, slots=True)
class KwHeadroom:
    capacity_kw: float
    load_kw: float
    headroom_kw: float
    limited_by: str | None = None  # what sets headroom_kw (rack PDUs, a source, the site utility, ...)

    def to_dict(self) -> dict:
        return {
            "capacity_kw": json_number(self.capacity_kw),
            "load_kw": json_number(self.load_kw),
            "headroom_kw": json_number(self.headroom_kw),
            "limited_by": self.limited_by,
        }


@dataclass(frozen=True, slots=True)
class SpaceHeadroom:
    free_u: int
    largest_free_block_u: int
    u_height: int

    def to_dict(self) -> dict:
        return {"free_u": self.free_u, "largest_free_block_u": self.largest_free_block_u, "u_height": self.u_height}


@dataclass(frozen=True, slots=True)
class KgHeadroom:
    capacity_kg: float
    load_kg: float
    headroom_kg: float

    def to_dict(self) -> dict:
        return {
            "capacity_kg": json_number(self.capacity_kg),
            "load_kg": json_number(self.load_kg),
            "headroom_kg": json_number(self.headroom_kg),
        }


@dataclass(frozen=True, slots=True)
class FloorHeadroom:
    capacity_kg_m2: float
    load_kg_m2: float
    headroom_kg_m2: float
    method: str
    tile_capacity_kg: float | None = None  # raised floors: per-foot (point) load vs tile rating
    tile_load_kg: float | None = None
    tile_headroom_kg: float | None = None

    def to_dict(self) -> dict:
        return {
            "capacity_kg_m2": json_number(self.capacity_kg_m2),
            "load_kg_m2": json_number(self.load_kg_m2),
            "headroom_kg_m2": json_number(self.headroom_kg_m2),
            "method": self.method,
            "tile_capacity_kg": json_number(self.tile_capacity_kg),
            "tile_load_kg": json_number(self.tile_load_kg),
            "tile_headroom_kg": json_number(self.tile_headroom_kg),
        }


@dataclass(frozen=True, slots=True)
class Stranded:
    power_kw: float  # power headroom no cooling is left for
    cooling_kw: float  # cooling headroom no power is left for

    def to_dict(self) -> dict:
        return {"power": json_number(self.power_kw), "cooling": json_number(self.cooling_kw)}


@dataclass(frozen=True, slots=True)
class RackHeadroom:
    power: KwHeadroom
    cooling_air: KwHeadroom
    cooling_liquid: KwHeadroom
    space: SpaceHeadroom
    rack_load: KgHeadroom
    floor: FloorHeadroom
    binding: str | None  # dimension with the least headroom relative to its capacity
    fits: tuple[tuple[str, int], ...]  # (model slug, how many more units pass check_placement)
    blocked_by: tuple[tuple[str, tuple[str, ...]], ...]  # (slug, rules failing for one unit more than fits)
    stranded_kw: Stranded
    fabric: dict | None = None  # planner.engine.fabric.fabric_headroom; None: the rack is in no fabric

    @property
    def fits_by_slug(self) -> dict[str, int]:
        return dict(self.fits)

    def to_dict(self) -> dict:
        return {
            "power": self.power.to_dict(),
            "cooling_air": self.cooling_air.to_dict(),
            "cooling_liquid": self.cooling_liquid.to_dict(),
            "space": self.space.to_dict(),
            "rack_load": self.rack_load.to_dict(),
            "floor": self.floor.to_dict(),
            "binding": self.binding,
            "fits": dict(self.fits),
            "blocked_by": {slug: list(codes) for slug, codes in self.blocked_by},
            "stranded_kw": self.stranded_kw.to_dict(),
            **({"fabric": self.fabric} if self.fabric is not None else {}),
        }


def _min(cands: list[tuple[float, str]]) -> tuple[float, str]:
    best = cands[0]
    for c in cands[1:]:
        if c[0] < best[0]:
            best = c
    return best


def _floor_div(num: float, den: float) -> int:
    if not den > 0:
        return 1 << 30
    x = num / den
    if x != x:
        return 0
    if x >= 1 << 30:
        return 1 << 30
    return math.floor(x) if x > 0 else 0


def rack_headroom(ctx: RackContext, models: Sequence[NodeModelSpec] = ()) -> RackHeadroom:
    """Headroom of the rack as it stands, and how many more units of each of ``models`` fit."""
    st = build_state(ctx, None)
    load = st.load_kw

    # Power: the rack's PDUs, every source feeding it, the site utility.
    rack_cap = rack_power_capacity_kw(ctx)
    power_cands = [(rack_cap - load, "rack PDUs")]
    fed = fed_source_ids(ctx)
    for s in ctx.sources:
        if s.source_id in fed:
            power_cands.append((s.usable_kw - s.other_load_kw - load, f"{s.kind} {s.name}"))
        elif s.other_load_kw > s.usable_kw:  # over capacity already: POWER_UPSTREAM fails whatever is added
            power_cands.append((s.usable_kw - s.other_load_kw, f"{s.kind} {s.name}"))
    if ctx.site.utility_capacity_kw is not None:
        power_cands.append((ctx.site.utility_capacity_kw - ctx.site.other_load_kw - load, "site utility"))
    power_head, power_by = _min(power_cands)
    power = KwHeadroom(rack_cap, load, power_head, power_by)

    # Air: the row's air kW per rack plus close-coupled capacity, bounded by the room's air loops.
    air = st.air_kw
    limit, basis = air_kw_per_rack_limit(ctx.row.air_kw_per_rack_limit, ctx.row.containment)
    close = close_coupled_loops(ctx)
    air_cap, rack_head, room_head = air_headroom_kw(
        air_kw=air,
        row_limit_kw=limit,
        loops=close,
        room_other_kw=ctx.room.other_air_heat_kw,
        room_capacity_kw=room_air_capacity_kw(ctx),
    )
    air_cands = [(rack_head, "rack air limit" + (" + close-coupled" if close else f" ({basis})"))]
    air_cands.append((room_head, "room air loops"))
    air_head, air_by = _min(air_cands)
    cooling_air = KwHeadroom(air_cap, air, air_head, air_by)

    # Liquid: new liquid heat is shared over the loops in proportion to capacity (engine.flow); each must
    # carry it by capacity and by flow.
    loops = liquid_loops(ctx)
    liq = st.liquid_kw
    if loops:
        liq_cap = sum(usable(lp) for lp in loops)
        limits, names = [], []
        for lp in loops:
            limits.append(usable(lp))
            names.append(f"{lp.name} capacity")
        flow_loops = []
        flow_limits = []
        for lp in loops:
            if lp.max_flow_lpm is not None and lp.fluid in FLUIDS and lp.delta_t_c > 0:
                flow_loops.append(lp)
                flow_limits.append(flow_heat_kw(lp.max_flow_lpm, lp.delta_t_c, lp.fluid))
        liq_cands = [
            (h, name) for h, name in zip(liquid_headroom_kw(liq, loops, limits), names, strict=True) if h != math.inf
        ]
        if flow_loops:
            # The flow candidate of a loop is computed with the shares of all loops (a loop's share depends
            # on every loop's capacity), so the candidates are taken loop by loop over the full list.
            for lp, fl in zip(flow_loops, flow_limits, strict=True):
                per = liquid_headroom_kw(liq, loops, [fl if o is lp else math.inf for o in loops])
                liq_cands.extend((h, f"{lp.name} flow") for h in per if h != math.inf)
        liq_head, liq_by = _min(liq_cands) if liq_cands else (liq_cap - liq, "liquid loops")
        cooling_liquid = KwHeadroom(liq_cap, liq, liq_head, liq_by)
    else:
        cooling_liquid = KwHeadroom(0.0, liq, -liq if liq > 0 else 0.0, "no liquid loop")

    # Space, frame, floor.
    u_height = ctx.rack.u_height
    free_u, largest, blocks = space_summary(u_height, st.nodes)
    space = SpaceHeadroom(free_u, largest, u_height)
    rack_load = KgHeadroom(ctx.rack.max_load_kg, st.equipment_kg, ctx.rack.max_load_kg - st.equipment_kg)
    area, _ = floor_area_m2(ctx)
    rated = ctx.room.floor_rated_load_kg_m2
    floor_load = st.weight_kg / area if area > 0 else math.inf
    tile = ctx.room.tile_rated_load_kg if ctx.room.floor_type == "raised" else None
    per_foot = st.weight_kg / FEET_PER_RACK
    floor = FloorHeadroom(
        rated,
        floor_load,
        rated - floor_load,
        ctx.room.floor_load_method,
        tile,
        per_foot if ctx.room.floor_type == "raised" else None,
        (tile - per_foot) if tile is not None else None,
    )

    binding = _binding(power, cooling_air, cooling_liquid, space, rack_load, floor)

    cool_free = max(cooling_liquid.headroom_kw, 0.0) + (0.0 if st.immersion else max(air_head, 0.0))
    power_free = max(power_head, 0.0)
    stranded = Stranded(max(power_free - cool_free, 0.0), max(cool_free - power_free, 0.0))

    fits = []
    blocked = []
    seen = set()
    for m in models:
        if m.slug in seen:
            continue
        seen.add(m.slug)
        est = _estimate(ctx, st, m, blocks, power_head, air_head, cooling_liquid.headroom_kw, area, tile)
        count, nxt = _confirm(ctx, m, est, blocks)
        fits.append((m.slug, count))
        blocked.append((m.slug, nxt.failing))
    return RackHeadroom(
        power,
        cooling_air,
        cooling_liquid,
        space,
        rack_load,
        floor,
        binding,
        tuple(fits),
        tuple(blocked),
        stranded,
        fabric_headroom(ctx.fabrics, st.nodes),
    )


def _binding(power, air, liquid, space, rack_load, floor) -> str | None:
    """The dimension with the least headroom relative to its capacity (over capacity first)."""
    best, best_ratio = None, math.inf
    dims = [
        ("power", power.capacity_kw, power.load_kw, power.headroom_kw),
        ("cooling_air", air.capacity_kw, air.load_kw, air.headroom_kw),
        ("cooling_liquid", liquid.capacity_kw, liquid.load_kw, liquid.headroom_kw),
        ("space", float(space.u_height), float(space.u_height - space.free_u), float(space.largest_free_block_u)),
        ("rack_load", rack_load.capacity_kg, rack_load.load_kg, rack_load.headroom_kg),
        ("floor", floor.capacity_kg_m2, floor.load_kg_m2, floor.headroom_kg_m2),
    ]
    for name, cap, load, head in dims:
        if cap > 0:
            ratio = head / cap
        elif load > 0 or head < 0:
            ratio = -math.inf
        else:
            continue
        if ratio < best_ratio:
            best, best_ratio = name, ratio
    return best


def _estimate(ctx, st, m: NodeModelSpec, blocks, power_head, air_head, liq_head, area, tile) -> int:
    """Units of ``m`` the headrooms allow (the checks confirm it)."""
    if m.rack_scale:
        return 1
    bound = auto_capacity(blocks, m.u_height)
    w = m.weight_kg
    if w > 0:
        bound = min(bound, _floor_div(ctx.rack.max_load_kg - st.equipment_kg, w))
        if area > 0:
            bound = min(bound, _floor_div(ctx.room.floor_rated_load_kg_m2 * area - st.weight_kg, w))
        if tile is not None:
            bound = min(bound, _floor_div(tile * FEET_PER_RACK - st.weight_kg, w))
    p = m.max_power_kw
    if p > 0:
        bound = min(bound, _floor_div(power_head, p))
        air, liquid = node_heat_split_kw(m, st.immersion)
        if air > 0:
            bound = min(bound, _floor_div(air_head, air))
        if liquid > 0:
            bound = min(bound, _floor_div(liq_head, liquid))
    return max(bound, 0)


def _confirm(ctx: RackContext, m: NodeModelSpec, est: int, blocks) -> tuple[int, CheckResult]:
    """The largest quantity that passes check_placement (0 if none) and the check of one unit more.

    Every rule is monotone in the quantity (more units never turn a fail into a pass), so a bisection around
    the estimate is exact.
    """
    cache: dict[int, CheckResult] = {}

    def run(q: int) -> CheckResult:
        r = cache.get(q)
        if r is None:
            r = cache[q] = check_placement(ctx, Placement(model=m, quantity=q))
        return r

    top = 1 if m.rack_scale else auto_capacity(blocks, m.u_height)  # beyond this SPACE fails
    q = min(est, top)
    if q >= 1 and not run(q).ok:
        lo, hi = 0, q - 1  # largest passing in [lo, hi]; lo passes by definition (0 = nothing)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if run(mid).ok:
                lo = mid
            else:
                hi = mid - 1
        q = lo
    elif q < top and run(q + 1).ok:
        lo, hi = q + 1, top
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if run(mid).ok:
                lo = mid
            else:
                hi = mid - 1
        q = lo
    return q, run(q + 1)
