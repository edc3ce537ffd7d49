"""COOLING_AIR_RACK, COOLING_AIR_ROOM, COOLING_LIQUID, COOLING_FLOW, COOLING_TEMPERATURE (reference §2-§4).

Heat: all electrical power becomes heat. A node's liquid_fraction goes to liquid, the rest to air; when any
loop serving the rack is an immersion tank, all the rack's heat goes to liquid. The rack's liquid heat is
split evenly over the liquid loops serving it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from planner.engine.results import FAIL, OK, RuleResult, rule_result
from planner.engine.rules import EPS, REL, within
from planner.engine.units import (
    AIR_SIDE_KINDS,
    CLOSE_COUPLED_KINDS,
    FLUIDS,
    LIQUID_KINDS,
    air_kw_per_rack_limit,
    fmt,
    loop_usable_kw,
)

if TYPE_CHECKING:
    from planner.engine.inputs import CoolingLoopSpec, RackContext
    from planner.engine.rules import RackState


def usable(lp: CoolingLoopSpec) -> float:
    return loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units)


_LOOP_TEXT: dict[tuple, tuple[float, str]] = {}


def loop_facts(lp: CoolingLoopSpec) -> tuple[float, str]:
    """(usable kW, its arithmetic) of a loop; memoised on its capacity figures."""
    key = (lp.unit_capacity_kw, lp.units, lp.redundant_units)
    hit = _LOOP_TEXT.get(key)
    if hit is not None:
        return hit
    u = usable(lp)
    if lp.redundant_units:
        text = f"{fmt(lp.unit_capacity_kw)} kW x ({lp.units} - {lp.redundant_units}) = {fmt(u)} kW"
    else:
        text = f"{fmt(lp.unit_capacity_kw)} kW x {lp.units} = {fmt(u)} kW"
    if len(_LOOP_TEXT) > 4096:
        _LOOP_TEXT.clear()
    _LOOP_TEXT[key] = hit = (u, text)
    return hit


def liquid_loops(ctx: RackContext) -> list[CoolingLoopSpec]:
    return [lp for lp in ctx.loops if lp.kind in LIQUID_KINDS]


_KIND_LABEL = {"rear_door": "rear door", "in_row": "in-row"}


def close_coupled(ctx: RackContext) -> tuple[float, list[str]]:
    """Rear-door / in-row capacity serving this rack: each loop's usable kW / max(racks served, 1)."""
    total = 0.0
    terms = []
    for lp in ctx.loops:
        if lp.kind in CLOSE_COUPLED_KINDS:
            n = lp.racks_served if lp.racks_served > 1 else 1
            u = loop_facts(lp)[0]
            total += u / n
            per = f" / {n} racks" if n > 1 else ""
            terms.append(f"{lp.name} {_KIND_LABEL[lp.kind]} {u:.2f} kW{per}")
    return total, terms


def rule_air_rack(st: RackState) -> RuleResult:
    ctx = st.ctx
    row = ctx.row
    limit, basis = air_kw_per_rack_limit(row.air_kw_per_rack_limit, row.containment)
    air = st.air_kw
    close, terms = close_coupled(ctx)
    net = air - close
    if net < 0:
        net = 0.0
    ok = net <= limit * REL + EPS
    head = f"air heat {air:.2f} kW"
    if st.immersion:
        head += " (immersion: all heat to liquid)"
    if terms:
        head += f" - {close:.2f} kW close-coupled ({'; '.join(terms)}) = {net:.2f} kW"
    msg = f"{head} {'<=' if ok else '>'} {limit:.2f} kW per rack ({basis})"
    return rule_result("COOLING_AIR_RACK", OK if ok else FAIL, msg, net, limit, "kW")


def room_air_capacity_kw(ctx: RackContext) -> float:
    return sum(loop_facts(lp)[0] for lp in ctx.room.air_loops)


def rule_air_room(st: RackState) -> RuleResult:
    room = st.ctx.room
    air = st.air_kw
    load = room.other_air_heat_kw + air
    arith = f"{room.other_air_heat_kw:.2f} kW other racks + {air:.2f} kW this rack = {load:.2f} kW"
    if not room.air_loops:
        if within(load, 0.0):
            msg = f"no air heat ({arith}); no air cooling recorded"
            return rule_result("COOLING_AIR_ROOM", OK, msg, load, 0.0, "kW")
        msg = f"no air cooling recorded for the room: room air heat {arith}"
        return rule_result("COOLING_AIR_ROOM", FAIL, msg, load, 0.0, "kW")
    cap = 0.0
    terms = []
    for lp in room.air_loops:
        u, text = loop_facts(lp)
        cap += u
        if len(terms) < 4:
            terms.append(f"{lp.name} {text}")
    if len(room.air_loops) > 4:
        terms.append(f"{len(room.air_loops) - 4} more")
    ok = within(load, cap)
    return rule_result(
        "COOLING_AIR_ROOM",
        OK if ok else FAIL,
        f"room air heat {arith} {'<=' if ok else '>'} {cap:.2f} kW usable ({'; '.join(terms)})",
        load,
        cap,
        "kW",
    )


_NO_LIQUID = rule_result("COOLING_LIQUID", OK, "no liquid load", 0.0, 0.0, "kW")
_NO_FLOW = rule_result("COOLING_FLOW", OK, "not applicable: no liquid loop serves this rack", None, None, "L/min")
_NO_TEMP = rule_result("COOLING_TEMPERATURE", OK, "no nodes", None, None, "C")


def rule_liquid(st: RackState) -> RuleResult:
    loops = liquid_loops(st.ctx)
    heat = st.liquid_kw
    if not loops:
        needs = [m.slug for m, _ in st.models.values() if m.liquid_fraction > 0 or m.cooling == "liquid"]
        if heat > 0 or needs:
            return rule_result(
                "COOLING_LIQUID",
                FAIL,
                f"{', '.join(needs)} needs liquid cooling: no direct-liquid loop serves this rack "
                f"({heat:.2f} kW liquid heat)",
                heat,
                0.0,
                "kW",
            )
        return _NO_LIQUID
    share = heat / len(loops)
    split = f" ({heat:.2f} kW / {len(loops)} loops)" if len(loops) > 1 else ""
    worst = None
    worst_ratio = -math.inf
    status = OK
    parts = []
    for lp in loops:
        cap, text = loop_facts(lp)
        load = lp.other_heat_kw + share
        ok = within(load, cap)
        if not ok:
            status = FAIL
        r = load / cap if cap > 0 else (math.inf if load > 0 else 0.0)
        if r > worst_ratio:
            worst, worst_ratio = (load, cap), r
        parts.append(
            f"{lp.name}: {lp.other_heat_kw:.2f} kW other + {share:.2f} kW this rack{split} = {load:.2f} kW "
            f"{'<=' if ok else '>'} {cap:.2f} kW usable ({text})"
        )
    return rule_result("COOLING_LIQUID", status, "; ".join(parts), worst[0], worst[1], "kW")


def rule_flow(st: RackState) -> RuleResult:
    """Flow = heat x 60 / (rho x cp x dT) (§4.3) on each liquid loop, with its whole heat (other + this rack)."""
    loops = liquid_loops(st.ctx)
    if not loops:
        return _NO_FLOW
    share = st.liquid_kw / len(loops)
    status = OK
    parts = []
    worst = None
    worst_ratio = -math.inf
    biggest = None
    for lp in loops:
        heat = lp.other_heat_kw + share
        props = FLUIDS.get(lp.fluid)
        if props is None:
            parts.append(f"{lp.name}: not applicable to fluid '{lp.fluid}' (no property data)")
            continue
        if not lp.delta_t_c > 0:
            if heat > 0:
                status = FAIL
                parts.append(f"{lp.name}: cannot carry {heat:.2f} kW at a delta T of {lp.delta_t_c:.2f} K")
                worst, worst_ratio = (math.inf, lp.max_flow_lpm), math.inf
            continue
        flow = heat * 60.0 / (props.rho_kg_per_l * props.cp_kj_per_kg_k * lp.delta_t_c)
        arith = (
            f"{heat:.2f} kW x 60 / ({props.rho_kg_per_l} kg/L x {props.cp_kj_per_kg_k} kJ/kgK x "
            f"{lp.delta_t_c:.2f} K) = {flow:.2f} L/min ({lp.fluid})"
        )
        if biggest is None or flow > biggest:
            biggest = flow
        limit = lp.max_flow_lpm
        if limit is None:
            parts.append(f"{lp.name}: {arith}; no flow limit recorded")
            continue
        ok = within(flow, limit)
        if not ok:
            status = FAIL
        r = flow / limit if limit > 0 else (math.inf if flow > 0 else 0.0)
        if r > worst_ratio:
            worst, worst_ratio = (flow, limit), r
        parts.append(f"{lp.name}: {arith} {'<=' if ok else '>'} {limit:.2f} L/min max")
    if worst is None:
        return rule_result("COOLING_FLOW", status, "; ".join(parts), biggest, None, "L/min")
    return rule_result("COOLING_FLOW", status, "; ".join(parts), worst[0], worst[1], "L/min")


def air_side_loops(ctx: RackContext) -> list[CoolingLoopSpec]:
    """Air-side loops cooling the rack's air: those serving it and the room's, each once."""
    out = []
    seen_ids = set()
    for lp in (*ctx.loops, *ctx.room.air_loops):
        if lp.kind not in AIR_SIDE_KINDS:
            continue
        if lp.loop_id is not None:
            if lp.loop_id in seen_ids:
                continue
            seen_ids.add(lp.loop_id)
        elif any(lp is o for o in out):
            continue
        out.append(lp)
    return out


def rule_temperature(st: RackState) -> RuleResult:
    """Loop supply temperature <= node limit: liquid loops vs max_supply_temp_c, air side vs max_inlet_temp_c.

    The message names every failing pair, else the smallest margin; value/limit are the worst margin's.
    """
    if not st.models:
        return _NO_TEMP
    ctx = st.ctx
    liquid = None
    air = None
    worst = None  # (margin, slug, loop, supply, limit, what)
    fails = []
    notes = []
    checked = 0
    immersion = st.immersion
    for m, _ in st.models.values():
        if immersion or m.liquid_fraction > 0 or m.cooling == "liquid":
            if liquid is None:
                liquid = liquid_loops(ctx)
            if liquid:
                limit = m.max_supply_temp_c
                if limit is None:
                    notes.append(f"{m.slug}: vendor liquid supply limit unsourced")
                else:
                    for lp in liquid:
                        margin = limit - lp.supply_temp_c
                        checked += 1
                        entry = (margin, m.slug, lp.name, lp.supply_temp_c, limit, "max liquid supply")
                        if not within(lp.supply_temp_c, limit):
                            fails.append(entry)
                        if worst is None or margin < worst[0]:
                            worst = entry
        if not immersion and m.liquid_fraction < 1:
            if air is None:
                air = air_side_loops(ctx)
            if air:
                limit = m.max_inlet_temp_c
                if limit is None:
                    notes.append(f"{m.slug}: vendor inlet limit unsourced")
                else:
                    for lp in air:
                        margin = limit - lp.supply_temp_c
                        checked += 1
                        entry = (margin, m.slug, lp.name, lp.supply_temp_c, limit, "max inlet")
                        if not within(lp.supply_temp_c, limit):
                            fails.append(entry)
                        if worst is None or margin < worst[0]:
                            worst = entry

    def line(e) -> str:
        margin, slug, name, supply, limit, what = e
        op = "<=" if margin >= 0 else ">"
        return f"{slug}: {name} supply {supply:.1f} C {op} {limit:.1f} C {what} (margin {margin:.1f} K)"

    if fails:
        msg = "; ".join([line(e) for e in fails[:6]] + notes)
        return rule_result("COOLING_TEMPERATURE", FAIL, msg, worst[3], worst[4], "C")
    if worst is None:
        msg = "; ".join(notes) if notes else "no loop temperature to compare"
        return rule_result("COOLING_TEMPERATURE", OK, f"not checked: {msg}", None, None, "C")
    msg = f"smallest margin of {checked} comparison(s): {line(worst)}"
    if notes:
        msg += "; " + "; ".join(notes)
    return rule_result("COOLING_TEMPERATURE", OK, msg, worst[3], worst[4], "C")
