"""THE load flow: where every kW of heat goes, per element, once (DESIGN "The load flow and redundancy").

Every other module (the rules, headroom, the budgets cache, the pages, the report, the planner) calls these
functions; none splits heat or credits a cooling unit itself.

- A rack's liquid heat goes to the liquid loops serving it, shared in proportion to their usable capacity
  (redundant units out). Loops with no usable capacity share evenly (they cannot carry it anyway).
- A rack's air heat is offered to the close-coupled units (rear door, in-row) serving it, in proportion to
  their usable capacity. A unit removes at most the heat offered to it and at most its usable capacity:
  when the heat offered to a unit ``A`` exceeds its usable ``u``, each offer is credited ``u / A`` of itself.
  What a unit does not remove, and the air heat of racks no close-coupled unit serves, is left for the
  room's CRAH/CRAC pool. A close-coupled unit's capacity is never added to the room's pool.

Units: kW throughout. An empty list of loops means nothing serves the rack (all air heat to the room).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from planner.engine.units import (
    AIR_SIDE_KINDS,
    CLOSE_COUPLED_KINDS,
    LIQUID_KINDS,
    airflow_cfm,
    loop_usable_kw,
    node_heat_kw,
)

ROOM_POOL_KINDS = AIR_SIDE_KINDS - CLOSE_COUPLED_KINDS
loop_usable = loop_usable_kw

__all__ = [
    "CLOSE_COUPLED_KINDS",
    "LIQUID_KINDS",
    "ROOM_POOL_KINDS",
    "RackHeat",
    "SiteHeatFlow",
    "close_coupled_credit_kw",
    "pass_through",
    "proportional_split",
    "rack_heat_kw",
    "room_air_left_kw",
    "site_heat_flow",
    "source_headroom_kw",
]


def proportional_split(total_kw: float, usable_kw: Sequence[float]) -> list[float]:
    """``total_kw`` shared over elements in proportion to their usable kW; evenly when none has any.

    Empty ``usable_kw``: empty list (nothing to share over).
    """
    n = len(usable_kw)
    if n == 0:
        return []
    if n == 1:
        return [total_kw]
    cap = sum(u for u in usable_kw if u > 0)
    if cap <= 0:
        return [total_kw / n] * n
    return [total_kw * (u if u > 0 else 0.0) / cap for u in usable_kw]


def pass_through(offered_kw: float, usable_kw: float) -> float:
    """Share of the heat offered to a close-coupled unit that it does not remove (0..1)."""
    if offered_kw <= 0:
        return 0.0
    if usable_kw <= 0:
        return 1.0
    left = 1.0 - usable_kw / offered_kw
    return left if left > 0 else 0.0


def source_headroom_kw(sources) -> float | None:
    """Power (kW) a new load can add through every one of ``sources`` (each with ``usable_kw`` and
    ``other_load_kw``, the load of every other rack the budgets put on it): min(usable - other load), may be
    negative (already over). None when no source is given (headroom unknown, not checked)."""
    heads = [s.usable_kw - s.other_load_kw for s in sources]
    return min(heads) if heads else None


def close_coupled_credit_kw(air_kw: float, loops) -> tuple[float, list[tuple[object, float, float, float]]]:
    """Air heat of one rack removed by the close-coupled loops serving it.

    ``loops``: CoolingLoopSpec of kind rear_door / in_row, each with ``other_heat_kw`` = air heat other racks
    offer it. Returns (kW removed from this rack, per loop (spec, this rack's offer kW, heat offered in
    all kW, pass-through share)). The removed kW never exceeds ``air_kw``.
    """
    if not loops:
        return 0.0, []
    usable = [loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units) for lp in loops]
    offers = proportional_split(air_kw, usable)
    credit = 0.0
    terms = []
    for lp, u, offer in zip(loops, usable, offers, strict=True):
        total = lp.other_heat_kw + offer
        left = pass_through(total, u)
        credit += offer * (1.0 - left)
        terms.append((lp, offer, total, left))
    return min(credit, air_kw), terms


def room_air_left_kw(room_other_kw: float, air_kw: float, loops) -> float:
    """Air heat left for the room's CRAH pool with this rack's air ``air_kw``.

    ``room_other_kw``: the room's air left from everything the rack's close-coupled loops do not touch (the
    selector's RoomSpec.other_air_heat_kw); each loop's ``other_room_heat_kw`` is the heat other racks of
    this room offer it, which passes through in the same share as the rack's own.
    """
    if not loops:
        return room_other_kw + air_kw
    _credit, terms = close_coupled_credit_kw(air_kw, loops)
    left = room_other_kw
    for lp, offer, _total, share in terms:
        left += (lp.other_room_heat_kw + offer) * share
    return left


# --- airflow (COOLING_AIRFLOW) ----------------------------------------------------------------------------
#
# The air a rack's nodes move: the catalogue's airflow_cfm where the vendor gives one, else 1.755 x air W / dT
# (reference §4.2, C) for the air share of the node's heat, at the air delta T of the air-side units cooling
# the rack. Close-coupled units deliver their air to the racks they serve, shared in proportion to the air
# heat each rack offers them (the offers of ``close_coupled_credit_kw``); the room's CRAH pool delivers the
# rest of the room's node air.


def air_delta_t_c(loops) -> float | None:
    """The air delta T (K) node airflow is computed at: the smallest positive ``delta_t_c`` of the air-side
    loops (fluid air) cooling the rack (the smallest gives the most air: conservative); None: none known."""
    best = None
    for lp in loops:
        dt = lp.delta_t_c
        if lp.kind in AIR_SIDE_KINDS and lp.fluid == "air" and dt > 0 and (best is None or dt < best):
            best = dt
    return best


def rack_airflow_cfm(rated_cfm: float, unrated_air_kw: float, delta_t_c: float | None) -> float | None:
    """Node air of a rack: ``rated_cfm`` (catalogue figures) + 1.755 x ``unrated_air_kw`` x 1000 / dT for the
    nodes without one (§4.2). None when some node has air heat, no catalogue figure and no dT is known."""
    if unrated_air_kw <= 1e-12:
        return rated_cfm
    if delta_t_c is None or not delta_t_c > 0:
        return None
    return rated_cfm + airflow_cfm(unrated_air_kw, delta_t_c)


def close_coupled_cfm_split(rack_cfm: float, usable_kw) -> list[float]:
    """A rack's node air (CFM) over the close-coupled units serving it, in proportion to their usable kW: the
    split its air heat takes (``proportional_split``), so each unit moves the air of the heat it is offered."""
    return proportional_split(rack_cfm, usable_kw)


def close_unit_excess_cfm(offered_cfm: float, unit_cfm: float | None) -> float:
    """Node air (CFM) a close-coupled unit cannot move: what its racks offer it beyond its airflow (units -
    redundant); all of it when its airflow is unknown. That air reaches the room's CRAH/CRAC pool."""
    if unit_cfm is None:
        return offered_cfm
    return offered_cfm - unit_cfm if offered_cfm > unit_cfm else 0.0


# --- a rack's heat: air and liquid ------------------------------------------------------------------


def immersed(loops) -> bool:
    """A rack sits in an immersion tank when a loop serving it (``kind``) is one: all its heat goes to liquid."""
    return any(lp.kind == "immersion" for lp in loops)


def heat_split_kw(heat_kw: float, liquid_kw: float, *, immersion: bool) -> tuple[float, float]:
    """(air kW, liquid kW) of a rack's heat ``heat_kw`` (the sum of ``units.node_heat_kw``) whose nodes put
    ``liquid_kw`` into liquid (the sum of heat x liquid fraction): in an immersion tank all of it goes to
    liquid; air is the rest, never below 0. The one copy of the split: the rack state (every rule), rack
    headroom and the site flow call it."""
    liquid = heat_kw if immersion else liquid_kw
    return (heat_kw - liquid if heat_kw > liquid else 0.0), liquid


# --- the whole site -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RackHeat:
    """One rack's input to the site flow: its power and liquid heat (kW) and the loops serving it.

    ``liquid``/``close``: (loop id, usable kW) of the liquid loops and close-coupled units serving it;
    ``immersion``: a serving loop is a tank (all heat to liquid). ``heat_kw``: the rack's whole heat, the sum of
    ``units.node_heat_kw`` over its nodes (``rack_heat_kw``); None = its power (no published heat output).
    """

    rack_id: int
    room_id: int
    power_kw: float
    liquid_kw: float
    liquid: tuple[tuple[int, float], ...] = ()
    close: tuple[tuple[int, float], ...] = ()
    immersion: bool = False
    heat_kw: float | None = None


@dataclass(frozen=True, slots=True)
class RackShareFlow:
    air_kw: float
    liquid_by_loop: dict[int, float]
    offer_by_loop: dict[int, float]
    air_left_kw: float  # of this rack's air, what reaches the room's CRAH pool


@dataclass(frozen=True)
class SiteHeatFlow:
    """Heat per element over a site: liquid heat per loop, heat offered to / removed by each close-coupled
    unit, air heat left for each room's CRAH pool; each rack's own share of each."""

    shares: dict[int, RackShareFlow]
    loop_liquid_kw: dict[int, float]
    close_offered_kw: dict[int, float]  # loop id -> air heat offered by every rack it serves
    close_offered_room_kw: dict[tuple[int, int], float]  # (loop id, room id) -> offered by that room's racks
    close_removed_kw: dict[int, float]
    close_pass: dict[int, float]  # loop id -> pass-through share
    room_air_kw: dict[int, float]  # all air heat of the room's racks
    room_air_left_kw: dict[int, float]  # what the CRAH pool carries


def rack_heat_kw(models_counts) -> tuple[float, float, float]:
    """(power kW, heat kW, liquid-fraction heat kW) of a rack's nodes: ``models_counts`` is (model, count)
    pairs, a model being anything ``units.node_heat_kw`` reads (with ``liquid_fraction``). Power at
    max_power_kw, heat at ``node_heat_kw``; the liquid share is liquid_fraction x heat (a tank takes all)."""
    power = heat = liquid = 0.0
    for m, n in models_counts:
        h = node_heat_kw(m)
        power += n * m.max_power_kw
        heat += n * h
        liquid += n * h * m.liquid_fraction
    return power, heat, liquid


def site_heat_flow(racks: Iterable[RackHeat]) -> SiteHeatFlow:
    """Two passes: offers per unit, then what each unit passes on to its room."""
    racks = list(racks)
    loop_liquid: dict[int, float] = defaultdict(float)
    offered: dict[int, float] = defaultdict(float)
    offered_room: dict[tuple[int, int], float] = defaultdict(float)
    usable_of: dict[int, float] = {}
    pre = []
    for r in racks:
        heat = r.power_kw if r.heat_kw is None else r.heat_kw
        air, liquid = heat_split_kw(heat, r.liquid_kw, immersion=r.immersion)
        if not r.liquid:
            liquid_by = {}
        else:
            liquid_by = dict(
                zip((i for i, _ in r.liquid), proportional_split(liquid, [u for _, u in r.liquid]), strict=True)
            )
        offer_by = {}
        if r.close and air > 0:
            offer_by = dict(zip((i for i, _ in r.close), proportional_split(air, [u for _, u in r.close]), strict=True))
        for i, u in r.close:
            usable_of[i] = u
        for i, kw in liquid_by.items():
            loop_liquid[i] += kw
        for i, kw in offer_by.items():
            offered[i] += kw
            offered_room[(i, r.room_id)] += kw
        pre.append((r, air, liquid_by, offer_by))
    share_of = {i: pass_through(offered[i], usable_of.get(i, 0.0)) for i in offered}
    removed = {i: offered[i] * (1.0 - share_of[i]) for i in offered}
    room_air: dict[int, float] = defaultdict(float)
    room_left: dict[int, float] = defaultdict(float)
    shares: dict[int, RackShareFlow] = {}
    for r, air, liquid_by, offer_by in pre:
        left = sum(kw * share_of[i] for i, kw in offer_by.items()) if r.close and air > 0 else air
        room_air[r.room_id] += air
        room_left[r.room_id] += left
        shares[r.rack_id] = RackShareFlow(air, liquid_by, offer_by, left)
    return SiteHeatFlow(
        shares=shares,
        loop_liquid_kw=dict(loop_liquid),
        close_offered_kw=dict(offered),
        close_offered_room_kw=dict(offered_room),
        close_removed_kw=removed,
        close_pass=share_of,
        room_air_kw=dict(room_air),
        room_air_left_kw=dict(room_left),
    )


# --- headroom: how much more heat an element takes ---------------------------------------------------


def _largest(fits, hi: float) -> float:
    """Largest x in [0, hi] with fits(x) (fits is monotone: true then false), to float precision."""
    if fits(hi):
        return hi
    lo = 0.0
    for _ in range(64):
        mid = (lo + hi) / 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _one_unit_total(lp, other_here_kw: float, limit_kw: float) -> float:
    """Largest air heat y of a rack served by one close-coupled unit such that what passes the unit from
    this rack and ``other_here_kw`` of its neighbours, (other_here + y) x (1 - u / (o + y)), stays <= limit.

    Closed form: with o the heat others offer and u the unit's usable kW, the pass-through is 0 up to
    y = u - o, then the positive root of (other_here + y)(o + y - u) = limit (o + y).
    """
    u = loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units)
    o = lp.other_heat_kw
    h = other_here_kw
    b = h + o - u - limit_kw
    c = h * (o - u) - limit_kw * o
    disc = b * b - 4 * c
    root = (-b + math.sqrt(disc)) / 2 if disc > 0 else -b / 2
    return max(root, u - o, 0.0)


def air_headroom_kw(
    *, air_kw: float, row_limit_kw: float, loops, room_other_kw: float, room_capacity_kw: float
) -> tuple[float, float, float]:
    """(rack air capacity kW, rack-level headroom kW, room-level headroom kW) for more air heat in the rack.

    Rack level: air heat left after the close-coupled units serving it (``loops``) <= ``row_limit_kw``; the
    capacity is the current air heat plus that headroom (the row limit when no unit serves it). Room level:
    the CRAH pool's air heat <= ``room_capacity_kw``. A negative headroom is the overshoot now.
    """
    tol = 1e-9

    def net(y: float) -> float:
        return y - close_coupled_credit_kw(y, loops)[0]

    now = net(air_kw)
    room_now = room_air_left_kw(room_other_kw, air_kw, loops)
    if not loops or now > row_limit_kw + tol:
        rack_head = row_limit_kw - now
    elif len(loops) == 1:
        rack_head = _one_unit_total(loops[0], 0.0, row_limit_kw) - air_kw
    else:
        spare = sum(loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units) for lp in loops)
        rack_head = _largest(lambda x: net(air_kw + x) <= row_limit_kw + tol, row_limit_kw + max(spare, 0.0) + 1.0)
    if not loops or room_now > room_capacity_kw + tol:
        room_head = room_capacity_kw - room_now
    elif len(loops) == 1:
        lp = loops[0]
        room_head = _one_unit_total(lp, lp.other_room_heat_kw, room_capacity_kw - room_other_kw) - air_kw
    else:
        hi = max(room_capacity_kw - room_now, 0.0) + max(rack_head, 0.0) + 1.0
        room_head = _largest(lambda x: room_air_left_kw(room_other_kw, air_kw + x, loops) <= room_capacity_kw + tol, hi)
    capacity = air_kw + rack_head
    return (capacity if capacity > 0 else 0.0), rack_head, room_head


def liquid_headroom_kw(liquid_kw: float, loops, limits_kw: Sequence[float]) -> list[float]:
    """More liquid heat the rack can take per loop constraint: loop i carries ``other_heat_kw`` plus its
    proportional share of the rack's heat and must stay <= ``limits_kw[i]`` (its usable kW, or the heat its
    flow limit carries). One candidate per loop (math.inf: that loop does not bind); negative when over now."""
    usable = [loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units) for lp in loops]
    total = sum(u for u in usable if u > 0)
    n = len(loops)
    out = []
    for lp, u, limit in zip(loops, usable, limits_kw, strict=True):
        if total <= 0:
            out.append(n * (limit - lp.other_heat_kw) - liquid_kw)
        elif u <= 0:
            # No share of the rack's heat reaches it: it binds only when already over.
            out.append(limit - lp.other_heat_kw if lp.other_heat_kw > limit else math.inf)
        else:
            out.append(total * (limit - lp.other_heat_kw) / u - liquid_kw)
    return out


def air_capacity_kw(loops: Iterable[tuple[str, float]]) -> float:
    """Air-side capacity of a group: the usable kW of its CRAH/CRAC units and close-coupled units, each
    counted once. ``loops``: (kind, usable kW) of each loop of the group, once each."""
    return sum(kw for kind, kw in loops if kind in AIR_SIDE_KINDS)


def liquid_capacity_kw(loops: Iterable[tuple[str, float]]) -> float:
    """Liquid capacity of a group: its liquid loops' usable kW, each counted once."""
    return sum(kw for kind, kw in loops if kind in LIQUID_KINDS)
