"""COOLING_AIR_RACK, COOLING_AIR_ROOM, COOLING_AIRFLOW, COOLING_LIQUID, COOLING_FLOW, COOLING_TEMPERATURE
(reference §2-§4).

Heat: all electrical power becomes heat; a node's heat is its published heat output when the vendor gives a
larger one (``units.node_heat_kw``; power stays at max_power_kw). A node's liquid_fraction of it goes to liquid,
the rest to air; when any loop serving the rack is an immersion tank, all the rack's heat goes to liquid. Where
the heat goes (liquid loops in proportion to capacity, close-coupled units only for their racks, the rest to
the room's CRAH pool) is ``planner.engine.flow``'s.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from planner.engine.flow import (
    air_delta_t_c,
    close_coupled_cfm_split,
    close_coupled_credit_kw,
    close_unit_excess_cfm,
    proportional_split,
    rack_airflow_cfm,
    room_air_left_kw,
)
from planner.engine.results import FAIL, OK, WARN, RuleResult, rule_result
from planner.engine.rules.state import EPS, REL, within
from planner.engine.units import (
    AIR_SIDE_KINDS,
    CFM_PER_W_PER_K,
    CLOSE_COUPLED_KINDS,
    FLUIDS,
    LIQUID_KINDS,
    air_kw_per_rack_limit,
    fmt,
    loop_airflow_cfm,
    loop_usable_kw,
    node_heat_split_kw,
)

if TYPE_CHECKING:
    from planner.engine.inputs import CoolingLoopSpec, RackContext
    from planner.engine.rules.state import RackState


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


def close_coupled_loops(ctx: RackContext) -> list[CoolingLoopSpec]:
    return [lp for lp in ctx.loops if lp.kind in CLOSE_COUPLED_KINDS]


def close_coupled(ctx: RackContext, air_kw: float) -> tuple[float, list[str]]:
    """Air heat (kW) the rear-door / in-row units serving this rack remove from it, and the arithmetic."""
    loops = close_coupled_loops(ctx)
    if not loops:
        return 0.0, []
    credit, parts = close_coupled_credit_kw(air_kw, loops)
    terms = []
    for lp, offer, total, left in parts:
        u = loop_facts(lp)[0]
        text = f"{lp.name} {_KIND_LABEL[lp.kind]} {u:.2f} kW"
        if lp.other_heat_kw > EPS:
            text += f" shared: {offer:.2f} of {total:.2f} kW offered"
            if left > 0:
                text += f", removes {offer:.2f} x {u:.2f} / {total:.2f} = {offer * (1 - left):.2f} kW"
        terms.append(text)
    return credit, terms


def rule_air_rack(st: RackState) -> RuleResult:
    ctx = st.ctx
    row = ctx.row
    limit, basis = air_kw_per_rack_limit(row.air_kw_per_rack_limit, row.containment)
    air = st.air_kw
    close, terms = close_coupled(ctx, air)
    net = air - close
    if net < 0:
        net = 0.0
    ok = net <= limit * REL + EPS
    head = f"air heat {air:.2f} kW{heat_basis(st)}"
    if st.immersion:
        head += " (immersion: all heat to liquid)"
    if terms:
        head += f" - {close:.2f} kW close-coupled ({'; '.join(terms)}) = {net:.2f} kW"
    msg = f"{head} {'<=' if ok else '>'} {limit:.2f} kW per rack ({basis})"
    return rule_result("COOLING_AIR_RACK", OK if ok else FAIL, msg, net, limit, "kW")


def heat_basis(st: RackState) -> str:
    """A note for the air rules when the rack's heat (published heat outputs) exceeds its max power."""
    if st.heat_kw <= st.load_kw * REL + EPS:
        return ""
    return f" (heat at the vendors' published heat output: {st.heat_kw:.2f} kW vs {st.load_kw:.2f} kW max power)"


def room_air_capacity_kw(ctx: RackContext) -> float:
    return sum(loop_facts(lp)[0] for lp in ctx.room.air_loops)


def rule_air_room(st: RackState) -> RuleResult:
    room = st.ctx.room
    air = st.air_kw
    load = room_air_left_kw(room.other_air_heat_kw, air, close_coupled_loops(st.ctx))
    mine = load - room.other_air_heat_kw
    arith = f"{room.other_air_heat_kw:.2f} kW other racks + {mine:.2f} kW this rack{heat_basis(st)} = {load:.2f} kW"
    if mine < air - EPS:
        arith += f" (of its {air:.2f} kW air heat, close-coupled units remove {air - mine:.2f} kW)"
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


_NO_AIRFLOW_NODES = rule_result("COOLING_AIRFLOW", OK, "no nodes", None, None, "CFM")
_AIRFLOW_IMMERSION = rule_result(
    "COOLING_AIRFLOW", OK, "not applicable: immersion (all heat to liquid, no node air)", 0.0, None, "CFM"
)


def _airflow_text(lp: CoolingLoopSpec) -> str:
    cfm = loop_airflow_cfm(lp.unit_airflow_cfm, lp.units, lp.redundant_units)
    if lp.redundant_units:
        return f"{fmt(lp.unit_airflow_cfm)} CFM x ({lp.units} - {lp.redundant_units}) = {cfm:.1f} CFM"
    return f"{fmt(lp.unit_airflow_cfm)} CFM x {lp.units} = {cfm:.1f} CFM"


def rack_node_airflow(st: RackState) -> tuple[float | None, str]:
    """(CFM the rack's nodes move, or None when unknown; its arithmetic). Catalogue airflow_cfm where given,
    else 1.755 x air W / dT (§4.2) on the air share of the node's heat at the serving air units' delta T."""
    dt = air_delta_t_c(air_side_loops(st.ctx))
    rated = 0.0
    unrated = 0.0
    terms = []
    missing = []
    for m, count in st.models.values():
        if m.airflow_cfm is not None:
            rated += count * m.airflow_cfm
            terms.append(f"{count} x {m.slug} {fmt(m.airflow_cfm)} CFM (catalogue)")
            continue
        air_kw = count * node_heat_split_kw(m)[0]  # air share of its heat (published heat when larger)
        if air_kw <= 0:
            continue
        unrated += air_kw
        if dt is None:
            missing.append(m.slug)
        else:
            watts = air_kw * 1000.0
            cfm = CFM_PER_W_PER_K * watts / dt
            formula = f"{CFM_PER_W_PER_K} x {watts:.0f} W air / {fmt(dt)} K"
            terms.append(f"{count} x {m.slug} {formula} = {cfm:.1f} CFM (§4.2)")
    cfm = rack_airflow_cfm(rated, unrated, dt)
    if cfm is None:
        return None, (
            f"node airflow unknown: {', '.join(missing)} has no catalogue CFM and no air-side loop (fluid air) "
            "gives a delta T"
        )
    if len(terms) > 1:
        return cfm, f"nodes move {' + '.join(terms)} = {cfm:.1f} CFM"
    return cfm, f"nodes move {terms[0] if terms else '0 CFM'}"


def rack_room_airflow_parts(st: RackState, *, unknown_cfm: float | None = None) -> tuple[float, dict] | None:
    """Node air (CFM) the room's CRAH pool must deliver on this rack's account: (its own node air when no
    close-coupled unit serves it, else 0; per close-coupled unit serving it (by loop id), the air that unit
    cannot move, its other racks' air included). None: the rack's node air is unknown. The selector sums the
    same parts over the room's other racks and units (``room.other_airflow_cfm`` leaves these out).
    ``unknown_cfm``: the figure to take for an unknown node air instead of answering None."""
    cfm = 0.0
    if st.models and not st.immersion:
        cfm, _text = rack_node_airflow(st)
        if cfm is None:
            if unknown_cfm is None:
                return None
            cfm = unknown_cfm
    close = close_coupled_loops(st.ctx)
    if not close:
        return cfm, {}
    own = close_coupled_cfm_split(cfm, [usable(lp) for lp in close])
    return 0.0, {
        lp.loop_id: close_unit_excess_cfm(
            lp.other_airflow_cfm + mine, loop_airflow_cfm(lp.unit_airflow_cfm, lp.units, lp.redundant_units)
        )
        for lp, mine in zip(close, own, strict=True)
    }


def rack_room_airflow_cfm(st: RackState) -> float | None:
    """Node air the room's CRAH pool must deliver on this rack's account (``rack_room_airflow_parts`` summed);
    None: the rack's node air is unknown."""
    parts = rack_room_airflow_parts(st)
    return None if parts is None else parts[0] + sum(parts[1].values())


def room_airflow_cfm(st: RackState, mine: float | None = None) -> tuple[float, float, str | None]:
    """The room side of COOLING_AIRFLOW: (node air the CRAH/CRAC pool must deliver, the air it delivers, None)
    in CFM, or (0, 0, why) when it cannot be checked. ``mine``: ``rack_room_airflow_cfm(st)`` when known
    (unknown node air of this rack counts as none here: the rule says "not checked" for it first). The total
    is the room's, whichever of its racks ``st`` is: the N-1 sweep reads the room's verdict from any one."""
    room = st.ctx.room
    pool = room.air_loops
    unknown = [lp.name for lp in pool if lp.unit_airflow_cfm is None]
    if not pool:
        return 0.0, 0.0, "room: no CRAH/CRAC units recorded"
    if unknown:
        return 0.0, 0.0, f"room: airflow of {', '.join(unknown[:4])}{' and more' if len(unknown) > 4 else ''} unknown"
    if room.other_airflow_unknown:
        return 0.0, 0.0, f"room: node airflow of {room.other_airflow_unknown} other rack(s) unknown"
    if mine is None:
        parts = rack_room_airflow_parts(st, unknown_cfm=0.0)
        mine = parts[0] + sum(parts[1].values())
    cap = sum(loop_airflow_cfm(lp.unit_airflow_cfm, lp.units, lp.redundant_units) for lp in pool)
    return room.other_airflow_cfm + mine, cap, None


def rule_airflow(st: RackState) -> RuleResult:
    """Air the rack's nodes move (CFM) <= air the serving units deliver, where both are known.

    Rack: each close-coupled unit serving it carries the node air of all its racks (each rack's air split over
    its units by usable kW) <= its airflow (units - redundant). Room: the node air of racks no close-coupled
    unit serves, plus what each unit cannot move, <= the CRAH/CRAC pool's airflow. Neither side depends on the
    order in which racks were filled. Value/limit: the worse checked side.
    """
    if not st.models:
        return _NO_AIRFLOW_NODES
    if st.immersion:
        return _AIRFLOW_IMMERSION
    ctx = st.ctx
    cfm, node_text = rack_node_airflow(st)
    if cfm is None:
        return rule_result("COOLING_AIRFLOW", OK, f"not checked: {node_text}", None, None, "CFM")
    parts = []
    unchecked = []
    checked = []  # (value, limit, ok)
    close = close_coupled_loops(ctx)
    if close:
        # Each unit carries the node air of every rack it serves (the rack's air split over its units as its
        # heat is): the unit's whole demand against its airflow, so no rack's verdict depends on the order in
        # which its neighbours were filled.
        unknown = [lp.name for lp in close if lp.unit_airflow_cfm is None]
        others_unknown = [lp.name for lp in close if lp.other_airflow_unknown > 0]
        if unknown:
            unchecked.append(f"rack: airflow of {', '.join(unknown)} unknown")
        elif others_unknown:
            unchecked.append(f"rack: node airflow of other racks on {', '.join(others_unknown)} unknown")
        else:
            own = close_coupled_cfm_split(cfm, [usable(lp) for lp in close])
            for lp, mine in zip(close, own, strict=True):
                cap = loop_airflow_cfm(lp.unit_airflow_cfm, lp.units, lp.redundant_units)
                demand = lp.other_airflow_cfm + mine
                ok = within(demand, cap)
                checked.append((demand, cap, ok))
                sum_text = f"{demand:.1f} CFM"
                if lp.other_airflow_cfm > EPS or len(close) > 1:
                    sum_text = (
                        f"{lp.other_airflow_cfm:.1f} CFM other racks + {mine:.1f} CFM this rack"
                        + (f" (its {cfm:.1f} CFM split by usable kW)" if len(close) > 1 else "")
                        + f" = {demand:.1f} CFM"
                    )
                parts.append(
                    f"rack: {sum_text} {'<=' if ok else '>'} {cap:.1f} CFM delivered "
                    f"({lp.name} {_KIND_LABEL[lp.kind]} {_airflow_text(lp)})"
                )
    room = ctx.room
    mine = rack_room_airflow_cfm(st)
    total, cap, why = room_airflow_cfm(st, mine)
    if why is not None:
        unchecked.append(why)
    else:
        pool = room.air_loops
        terms = [f"{lp.name} {_airflow_text(lp)}" for lp in pool[:4]]
        if len(pool) > 4:
            terms.append(f"{len(pool) - 4} more")
        after = ""
        if close:
            shared = any(lp.other_airflow_cfm > EPS for lp in close)
            after = " and its units' other racks, beyond the units' airflow" if shared else " after close-coupled units"
        ok = within(total, cap)
        checked.append((total, cap, ok))
        parts.append(
            f"room: {room.other_airflow_cfm:.1f} CFM other racks + {mine:.1f} CFM this rack{after} = {total:.1f} CFM "
            f"{'<=' if ok else '>'} {cap:.1f} CFM delivered ({'; '.join(terms)})"
        )
    if not checked:
        msg = f"not checked: {'; '.join(unchecked)}; {node_text}"
        return rule_result("COOLING_AIRFLOW", OK, msg, cfm, None, "CFM")
    worst = max(checked, key=lambda c: c[0] / c[1] if c[1] > 0 else (math.inf if c[0] > 0 else 0.0))
    status = OK if all(c[2] for c in checked) else FAIL
    msg = "; ".join([node_text, *parts, *(f"{u} (not checked)" for u in unchecked)])
    return rule_result("COOLING_AIRFLOW", status, msg, worst[0], worst[1], "CFM")


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
    caps = [loop_facts(lp)[0] for lp in loops]
    shares = proportional_split(heat, caps)
    total_cap = sum(caps)
    worst = None
    worst_ratio = -math.inf
    status = OK
    parts = []
    for lp, share in zip(loops, shares, strict=True):
        cap, text = loop_facts(lp)
        split = f" ({heat:.2f} kW x {cap:.2f} / {total_cap:.2f} kW usable)" if len(loops) > 1 else ""
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


_NO_LIQUID_HEAT = rule_result("COOLING_LIQUID_REDUNDANCY", OK, "no liquid heat", None, None, "kW")


def rule_liquid_redundancy(st: RackState) -> RuleResult:
    """Warn when one liquid failure leaves the rack's liquid heat uncovered (DESIGN "Liquid").

    One loop: losing one unit must leave enough (a loop with a redundant unit has it out already). Several
    loops: losing any one, the others must carry everything the rack's loops carry now (conservative: the
    lost loop's other racks are assumed to move onto these survivors too). Value/limit: the worst case's
    load and the capacity left.
    """
    heat = st.liquid_kw
    if not heat > 0:
        return _NO_LIQUID_HEAT
    loops = liquid_loops(st.ctx)
    if not loops:
        msg = "not applicable: no liquid loop serves this rack (COOLING_LIQUID fails)"
        return rule_result("COOLING_LIQUID_REDUNDANCY", OK, msg, heat, 0.0, "kW")
    caps = [loop_facts(lp)[0] for lp in loops]
    shares = proportional_split(heat, caps)
    loads = [lp.other_heat_kw + share for lp, share in zip(loops, shares, strict=True)]
    if len(loops) == 1:
        lp, load = loops[0], loads[0]
        if lp.redundant_units > 0:
            msg = (
                f"{lp.name}: {lp.redundant_units} redundant unit(s) out of {caps[0]:.2f} kW usable already: "
                f"losing one unit leaves {load:.2f} kW <= {caps[0]:.2f} kW"
            )
            return rule_result("COOLING_LIQUID_REDUNDANCY", OK, msg, load, caps[0], "kW")
        left = lp.unit_capacity_kw * (lp.units - 1) if lp.units > 1 else 0.0
        ok = within(load, left)
        msg = (
            f"{lp.name} has no redundant unit: losing one of its {lp.units} unit(s) leaves "
            f"{fmt(lp.unit_capacity_kw)} kW x {max(lp.units - 1, 0)} = {left:.2f} kW "
            f"{'>=' if ok else '<'} {load:.2f} kW load"
        )
        if not ok:
            msg += "; add a redundant unit or a second loop"
        return rule_result("COOLING_LIQUID_REDUNDANCY", OK if ok else WARN, msg, load, left, "kW")
    total = sum(loads)
    worst = None
    parts = []
    short = []
    for i, lp in enumerate(loops):
        left = sum(c for j, c in enumerate(caps) if j != i)
        ok = within(total, left)
        line = f"without {lp.name}: {total:.2f} kW on {left:.2f} kW left"
        parts.append(line)
        if not ok:
            short.append(line)
        if worst is None or left - total < worst[1] - worst[0]:
            worst = (total, left)
    if short:
        msg = "losing one liquid loop leaves the heat uncovered: " + "; ".join(short)
        return rule_result("COOLING_LIQUID_REDUNDANCY", WARN, msg, worst[0], worst[1], "kW")
    return rule_result("COOLING_LIQUID_REDUNDANCY", OK, "; ".join(parts), worst[0], worst[1], "kW")


def rule_flow(st: RackState) -> RuleResult:
    """Flow = heat x 60 / (rho x cp x dT) (§4.3) on each liquid loop, with its whole heat (other + this rack)."""
    loops = liquid_loops(st.ctx)
    if not loops:
        return _NO_FLOW
    shares = proportional_split(st.liquid_kw, [loop_facts(lp)[0] for lp in loops])
    status = OK
    parts = []
    worst = None
    worst_ratio = -math.inf
    biggest = None
    for lp, share in zip(loops, shares, strict=True):
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


# Reference §2.2 (S [S22][S63]): the CDU's approach sits between facility (FWS) and technology (TCS) supply, so
# TCS supply >= FWS supply + approach. No default approach is sourced: a loop without one is checked at the
# facility supply only, and the message says so.
APPROACH_SOURCE = "§2.2 S [S22][S63]"


def node_supply_temp_c(lp: CoolingLoopSpec) -> float:
    """Liquid supply temperature at the node: facility supply + the CDU approach when given (§2.2)."""
    return lp.supply_temp_c + lp.approach_c if lp.approach_c is not None else lp.supply_temp_c


def rule_temperature(st: RackState) -> RuleResult:
    """Supply temperature at the node <= node limit: liquid loops (facility supply + CDU approach) vs
    max_supply_temp_c, air side vs max_inlet_temp_c.

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
                        at_node = node_supply_temp_c(lp)
                        margin = limit - at_node
                        checked += 1
                        entry = (margin, m.slug, lp.name, at_node, limit, "max liquid supply", lp)
                        if not within(at_node, limit):
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
                        entry = (margin, m.slug, lp.name, lp.supply_temp_c, limit, "max inlet", None)
                        if not within(lp.supply_temp_c, limit):
                            fails.append(entry)
                        if worst is None or margin < worst[0]:
                            worst = entry

    def line(e) -> str:
        margin, slug, name, supply, limit, what, lp = e
        op = "<=" if margin >= 0 else ">"
        if lp is None:
            where = f"supply {supply:.1f} C"
        elif lp.approach_c is None:
            where = f"supply {supply:.1f} C (CDU approach not given: checked at the facility supply only)"
        else:
            where = (
                f"facility supply {lp.supply_temp_c:.1f} C + {fmt(lp.approach_c)} K CDU approach = {supply:.1f} C "
                f"at the node ({APPROACH_SOURCE})"
            )
        return f"{slug}: {name} {where} {op} {limit:.1f} C {what} (margin {margin:.1f} K)"

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
