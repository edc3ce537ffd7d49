"""POWER_RACK, POWER_REDUNDANCY, POWER_UPSTREAM, POWER_SITE, PSU_FEED_LOSS (reference §4.4-§4.7, §1.1)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from planner.engine.results import FAIL, OK, WARN, rule_result
from planner.engine.rules.state import EPS, REL, IdentityMemo, within
from planner.engine.units import fmt, pdu_usable_kw, source_usable_text

if TYPE_CHECKING:
    from planner.engine.inputs import NodeModelSpec, PduSpec, RackContext
    from planner.engine.results import RuleResult
    from planner.engine.rules.state import RackState

INF = math.inf
_TERMS: dict[tuple, tuple[float, str, str]] = {}


def _pdu_term(p: PduSpec, derating: float) -> tuple[float, str, str]:
    """(usable kW, arithmetic, "(arithmetic = kW)") of one PDU; memoised on its electrical figures."""
    key = (p.voltage_v, p.current_a, p.phases, derating, p.power_factor)
    hit = _TERMS.get(key)
    if hit is not None:
        return hit
    kw = pdu_usable_kw(p.voltage_v, p.current_a, p.phases, derating, p.power_factor)  # memoised: not a hot call
    root = " x sqrt(3)" if p.phases == 3 else ""
    text = f"{fmt(p.voltage_v)} V x {fmt(p.current_a)} A{root} x {fmt(derating)} x PF {fmt(p.power_factor)}"
    if len(_TERMS) > 4096:
        _TERMS.clear()
    _TERMS[key] = hit = (kw, text, f"({text} = {kw:.2f} kW)")
    return hit


def _side(p: PduSpec) -> str:
    side = p.side
    if side == "A" or side == "B":
        return side
    return side.upper() if isinstance(side, str) else str(side)


def pdu_sides(ctx: RackContext) -> tuple[float, list, float, list]:
    """(side A usable kW, its PDUs' terms, side B usable kW, its terms); a term is (kW, arithmetic, ...).

    PDUs on any other side label are ignored.
    """
    derating = ctx.site.power_derating
    get = _TERMS.get
    a_kw = b_kw = 0.0
    a: list = []
    b: list = []
    for p in ctx.pdus:
        term = get((p.voltage_v, p.current_a, p.phases, derating, p.power_factor)) or _pdu_term(p, derating)
        side = p.side
        if side != "A" and side != "B":
            side = _side(p)
        if side == "A":
            a.append(term)
            a_kw += term[0]
        elif side == "B":
            b.append(term)
            b_kw += term[0]
    return a_kw, a, b_kw, b


def rack_power_capacity_kw(ctx: RackContext) -> float:
    """Each side must carry the whole load alone (§4.7 2N): the smaller of A and B; one side: its total."""
    a_kw, a, b_kw, b = pdu_sides(ctx)
    if a and b:
        return a_kw if a_kw < b_kw else b_kw
    if a:
        return a_kw
    return b_kw if b else 0.0


def _side_text(name: str, load: float, total: float, terms: list, ok: bool) -> str:
    arith = " + ".join([t[2] for t in terms]) if len(terms) > 1 else terms[0][1]
    return f"side {name}: {load:.2f} kW load {'<=' if ok else '>'} {total:.2f} kW usable ({arith})"


def rule_power_rack(st: RackState) -> RuleResult:
    load = st.load_kw
    a_kw, a, b_kw, b = pdu_sides(st.ctx)
    if a and b:
        ok_a = load <= a_kw * REL + EPS
        ok_b = load <= b_kw * REL + EPS
        msg = (
            f"{_side_text('A', load, a_kw, a, ok_a)}; {_side_text('B', load, b_kw, b, ok_b)}; "
            "each side must carry the whole load alone"
        )
        cap = a_kw if a_kw < b_kw else b_kw
        return rule_result("POWER_RACK", OK if ok_a and ok_b else FAIL, msg, load, cap, "kW")
    if a or b:
        name, cap, terms = ("A", a_kw, a) if a else ("B", b_kw, b)
        ok = load <= cap * REL + EPS
        msg = f"{_side_text(name, load, cap, terms, ok)}; side {name} only"
        return rule_result("POWER_RACK", OK if ok else FAIL, msg, load, cap, "kW")
    ok = load <= EPS
    msg = f"no PDUs recorded: {load:.2f} kW load {'<=' if ok else '>'} 0 kW usable"
    return rule_result("POWER_RACK", OK if ok else FAIL, msg, load, 0.0, "kW")


_REDUNDANCY: dict[tuple, RuleResult] = {}


def side_chains(ctx: RackContext) -> tuple[set[int], set[int], list[str]]:
    """(sources above side A's PDUs, sources above side B's, names of PDUs with no source recorded)."""
    by_id = {s.source_id: s for s in ctx.sources}
    chains: dict[str, set[int]] = {"A": set(), "B": set()}
    unknown = []
    for p in ctx.pdus:
        side = _side(p)
        if side not in chains:
            continue
        sid = p.source_id
        if sid is None:
            unknown.append(p.name)
        seen = chains[side]
        while sid is not None and sid not in seen:
            s = by_id.get(sid)
            if s is None:
                break
            seen.add(sid)
            sid = s.parent_id
    return chains["A"], chains["B"], unknown


def rule_power_redundancy(st: RackState) -> RuleResult:
    """Warn on one side only, or when the A and B paths share a power source below the utility (DESIGN
    "The load flow and redundancy": a common UPS, panel or busway is a single point of failure)."""
    ctx = st.ctx
    a = b = 0
    for p in ctx.pdus:
        side = _side(p)
        if side == "A":
            a += 1
        elif side == "B":
            b += 1
    if a and b and ctx.sources:
        chain_a, chain_b, unknown = side_chains(ctx)
        by_id = {s.source_id: s for s in ctx.sources}
        shared = sorted(
            (by_id[i] for i in chain_a & chain_b if by_id[i].kind != "utility"), key=lambda s: (s.name, s.source_id)
        )
        if shared:
            names = ", ".join(f"{s.kind} {s.name}" for s in shared)
            msg = (
                f"A+B feeds ({a} PDU(s) on side A, {b} on side B) share {names}: a single point of failure "
                "below the utility; feed side B from an independent source"
            )
            return rule_result("POWER_REDUNDANCY", WARN, msg, None, None, "")
        key = (a, b, bool(unknown))
    else:
        key = (a, b, None)
    hit = _REDUNDANCY.get(key)
    if hit is not None:
        return hit
    if a and b:
        msg = f"A+B feeds: {a} PDU(s) on side A, {b} on side B"
        if key[2] is None:
            msg += "; not checked: no upstream power sources recorded (independence of the paths unknown)"
        elif key[2]:
            msg += "; not checked for every PDU: some have no upstream source recorded"
        else:
            msg += "; their paths share no power source below the utility"
        r = rule_result("POWER_REDUNDANCY", OK, msg, None, None, "")
    elif a or b:
        side, other = ("A", "B") if a else ("B", "A")
        msg = f"PDUs on side {side} only ({a or b}): losing that feed drops the rack; add side {other} for A+B"
        r = rule_result("POWER_REDUNDANCY", WARN, msg, None, None, "")
    else:
        msg = "no PDUs recorded: the rack has no power feed on side A or B"
        r = rule_result("POWER_REDUNDANCY", WARN, msg, None, None, "")
    if len(_REDUNDANCY) < 256:
        _REDUNDANCY[key] = r
    return r


def fed_source_ids(ctx: RackContext) -> set[int]:
    """Sources on the chain of at least one of the rack's PDUs (pdu.source_id, then parent_id upwards)."""
    by_id = {s.source_id: s for s in ctx.sources}
    fed: set[int] = set()
    for sid in {p.source_id for p in ctx.pdus}:
        while sid is not None and sid not in fed:
            s = by_id.get(sid)
            if s is None:
                break
            fed.add(sid)
            sid = s.parent_id
    return fed


_NO_SOURCES = rule_result("POWER_UPSTREAM", OK, "no upstream sources recorded", None, None, "kW")


def _source_line(s, rack: float, mine: bool) -> str:
    if mine:
        load = s.other_load_kw + rack
        arith = f"{s.other_load_kw:.2f} kW other + {rack:.2f} kW this rack = {load:.2f} kW"
    else:
        load = s.other_load_kw
        arith = f"{load:.2f} kW (does not feed this rack)"
    cap = s.usable_kw
    ok = load <= cap * REL + EPS
    rating = ""
    if s.capacity_kva is not None or s.derating != 1.0:
        rating = f" usable ({source_usable_text(s.capacity_kw, s.capacity_kva, s.power_factor, s.derating)})"
    return f"{s.name} ({s.kind}): {arith} {'<=' if ok else '>'} {cap:.2f} kW{rating}"


def rule_power_upstream(st: RackState) -> RuleResult:
    """Each source carries its other load plus this rack's when it feeds the rack. The message names every
    failing source, else the tightest one; value/limit are the tightest source's (highest load/capacity)."""
    ctx = st.ctx
    if not ctx.sources:
        return _NO_SOURCES
    fed = fed_source_ids(ctx)
    rack = st.load_kw
    worst = None
    worst_load = 0.0
    worst_ratio = -INF
    failing = []
    for s in ctx.sources:
        load = s.other_load_kw + rack if s.source_id in fed else s.other_load_kw
        cap = s.usable_kw
        r = load / cap if cap > 0 else (INF if load > 0 else 0.0)
        if r > worst_ratio:
            worst, worst_load, worst_ratio = s, load, r
        if not load <= cap * REL + EPS:
            failing.append(s)
    n = len(ctx.sources)
    if failing:
        msg = "over capacity: " + "; ".join([_source_line(s, rack, s.source_id in fed) for s in failing])
        if n > len(failing):
            msg += f"; {n - len(failing)} other source(s) within capacity"
        return rule_result("POWER_UPSTREAM", FAIL, msg, worst_load, worst.usable_kw, "kW")
    msg = f"tightest of {n} source(s): {_source_line(worst, rack, worst.source_id in fed)}"
    for p in ctx.pdus:
        if p.source_id is None:
            msg += f"; no source recorded for PDU(s) {', '.join([q.name for q in ctx.pdus if q.source_id is None])}"
            break
    return rule_result("POWER_UPSTREAM", OK, msg, worst_load, worst.usable_kw, "kW")


def rule_power_site(st: RackState) -> RuleResult:
    site = st.ctx.site
    load = st.load_kw
    total = site.other_load_kw + load
    cap = site.utility_capacity_kw
    if cap is None:
        msg = (
            f"site load {site.other_load_kw:.2f} kW other racks + {load:.2f} kW this rack = {total:.2f} kW; "
            "utility capacity unlimited (not recorded)"
        )
        return rule_result("POWER_SITE", OK, msg, total, None, "kW")
    ok = total <= cap * REL + EPS
    msg = (
        f"site load {site.other_load_kw:.2f} kW other racks + {load:.2f} kW this rack = {total:.2f} kW "
        f"{'<=' if ok else '>'} {cap:.2f} kW utility"
    )
    return rule_result("POWER_SITE", OK if ok else FAIL, msg, total, cap, "kW")


def feed_loss_mode(m: NodeModelSpec) -> str:
    """What a node does with one of its two feeds lost, its PSUs split evenly over A and B (reference §1.1
    "1-feed OK?", C from PSU count x rating): "full" (the powered half carries max power), "capped" (it runs
    at most at the powered PSUs' kW: NVIDIA's "reduced performance level", §1.1 P [S1], the GPU power brake
    of FTR configurations, T [S14]), "off" (no PSU left powered) or "unknown" (no PSU data: not checked).
    The nightly report and PSU_FEED_LOSS both answer from this."""
    if m.psu_count <= 0 or not m.psu_rating_kw > 0:
        return "unknown"
    powered = m.psu_count // 2
    if powered == 0:
        return "off"
    return "full" if within(m.max_power_kw, powered * m.psu_rating_kw) else "capped"


def _feed_loss(m: NodeModelSpec) -> tuple[bool, float, float, float, str]:
    """(ok, demand kW, powered kW, demand/powered, arithmetic) of one model with one feed lost."""
    mode = feed_loss_mode(m)
    if mode == "unknown":
        line = f"{m.slug}: not checked: no PSU data (PSU count / rating unsourced)"
        return True, m.max_power_kw, 0.0, 0.0, line
    powered = m.psu_count // 2
    kw = powered * m.psu_rating_kw
    ok = mode == "full"
    ratio = m.max_power_kw / kw if kw > 0 else (INF if m.max_power_kw > 0 else 0.0)
    line = (
        f"{m.slug}: {m.psu_count} PSUs, one feed lost -> {powered} x {fmt(m.psu_rating_kw)} kW = {fmt(kw)} kW "
        f"{'>=' if ok else '<'} {fmt(m.max_power_kw)} kW max"
    )
    if mode == "full":
        line += ": runs at full power"
    elif mode == "capped":
        need = f"; {m.psus_required} PSUs carry it in normal operation" if m.psus_required else ""
        line += f": capped at {fmt(kw)} kW ({kw / m.max_power_kw:.0%} of max, reduced performance{need})"
    else:
        line += ": no PSU left powered, the node goes off"
    return ok, m.max_power_kw, kw, ratio, line


_feed_loss_of = IdentityMemo(_feed_loss)
_NO_NODES = rule_result("PSU_FEED_LOSS", OK, "no nodes", None, None, "kW")


def rule_psu_feed_loss(st: RackState) -> RuleResult:
    """With one feed lost, half the PSUs (rounded down) stay powered; warn when they cannot carry max power.

    Value/limit: the worst model's max power and the kW its powered PSUs give. Never fails (vendor design).
    """
    if not st.models:
        return _NO_NODES
    worst = None
    short = []
    fine = []
    for m, _count in st.models.values():
        facts = _feed_loss_of(m)
        if worst is None or facts[3] > worst[3]:
            worst = facts
        (fine if facts[0] else short).append(facts[4])
    if short:
        msg = "; ".join(short)
        if fine:
            msg += "; " + "; ".join(fine)
        return rule_result("PSU_FEED_LOSS", WARN, msg, worst[1], worst[2], "kW")
    return rule_result("PSU_FEED_LOSS", OK, "; ".join(fine), worst[1], worst[2], "kW")
