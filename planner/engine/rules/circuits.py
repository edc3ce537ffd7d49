"""POWER_OUTLETS and POWER_PHASE: the rack's circuits (receptacles, phases, branch breakers).

Cords. A node model's cords (count, and the PDU receptacle each plugs into) come from the reference (§1.2);
with PDUs on both sides a node's cords are split over A and B (A takes the odd one: ceil(n / 2) on A, floor
on B; the split PSU_FEED_LOSS assumes), with one side all its cords are on it. Each side must carry the whole
rack alone (DESIGN "Power", §4.7 2N), so on each side a node's max power is shared by its cords on that side.

Assignment (deterministic): nodes in the rack's order (lowest U first), then the proposed units; a unit's
cords on a side go to one PDU, the next round-robin among the side's PDUs that have that receptacle type
(skipping one without room for them), and on that PDU each cord to the next branch breaker round-robin
(branch b on phase b mod phases), or the next phase when its branches are unknown. A node whose cords are
unknown has its power spread over the side's PDUs in proportion to their usable kW and evenly over their
phases and branches (the balanced case: said in the message). A side whose whole load exceeds its usable kW
is POWER_RACK's failure (a rule exists once): POWER_PHASE says "not checked" for it until POWER_RACK passes.

Currents (§4.4): a phase's current I = kW x 1000 / (V_phase x PF), V_phase = V_LL / sqrt(3) for 3-phase
(the balanced line current P / (sqrt(3) x V_LL x PF) per third of the load); a branch's at the outlet
voltage (line-to-neutral, or line-to-line on 208 V delta, units.pdu_outlet_voltage_v). Each phase and branch
may carry its breaker x the site's power_derating (units.pdu_phase_limit_a, the factor pdu_usable_kw uses).
Imbalance: max |I - mean| / mean of a 3-phase PDU's phase currents, warned above the site spec's
``phase_imbalance_share`` (configuration; the reference gives no figure).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.engine.results import FAIL, OK, WARN, rule_result
from planner.engine.rules.state import EPS, REL, IdentityMemo, build_state
from planner.engine.units import (
    current_a,
    fmt,
    pdu_outlet_voltage_v,
    pdu_phase_limit_a,
    pdu_phase_voltage_v,
    pdu_usable_kw,
)

if TYPE_CHECKING:
    from planner.engine.inputs import NodeModelSpec, PduSpec, RackContext
    from planner.engine.results import RuleResult
    from planner.engine.rules.state import RackState

INF = float("inf")
RECEPTACLE_TYPES = ("C13", "C19", "IEC60309")
_FIELD = {"C13": "receptacles_c13", "C19": "receptacles_c19", "IEC60309": "receptacles_iec60309"}
PHASE_NAMES = ("L1", "L2", "L3")
SIDES = ("A", "B")


def receptacles(p: PduSpec, kind: str) -> int | None:
    """How many receptacles of ``kind`` the PDU has; None: unknown."""
    return getattr(p, _FIELD[kind])


def cords_on_side(m: NodeModelSpec, side: str, both: bool) -> int | None:
    """The node's cords on ``side``: split over A and B (A takes the odd one) when the rack has both; None: unknown."""
    n = m.cord_count
    if n is None:
        return None
    if both:
        return (n + 1) // 2 if side == "A" else n // 2
    return n


class _PduLoad:
    __slots__ = ("branch_kw", "caps", "cords", "phase_kw", "spec", "used")

    def copy(self) -> _PduLoad:
        c = _PduLoad()
        c.spec = self.spec
        c.caps = self.caps
        c.used = dict(self.used)
        c.cords = self.cords
        c.phase_kw = list(self.phase_kw)
        c.branch_kw = None if self.branch_kw is None else list(self.branch_kw)
        return c


class _Side:
    """One side's cords and loads: per PDU, per phase and branch; and what cords of each type it needs."""

    __slots__ = (
        "both",
        "branched",
        "corded",
        "demand",
        "elig",
        "even_kw",
        "limits",
        "name",
        "new",
        "pdus",
        "ptr",
        "unknown",
        "usable_kw",
    )

    def copy(self, deep: bool = True) -> _Side:
        """A copy to add units to; ``deep=False`` shares the PDUs' loads (enough to add units whose cords are
        unknown: they only change even_kw and unknown)."""
        c = _Side()
        c.name = self.name
        c.both = self.both
        c.elig = self.elig
        c.limits = self.limits
        c.corded = self.corded
        c.branched = self.branched
        c.usable_kw = self.usable_kw
        if deep:
            c.pdus = [p.copy() for p in self.pdus]
            c.ptr = dict(self.ptr)
            c.demand = dict(self.demand)
            c.new = dict(self.new)
        else:
            c.pdus = self.pdus
            c.ptr = self.ptr
            c.demand = self.demand
            c.new = self.new
        c.unknown = dict(self.unknown)
        c.even_kw = self.even_kw
        return c

    def add(self, m: NodeModelSpec, count: int, new: bool) -> None:
        k = cords_on_side(m, self.name, self.both)
        if k is None:
            self.even_kw += count * m.max_power_kw
            self.unknown[m.slug] = self.unknown.get(m.slug, 0) + count
            return
        if k <= 0:
            return
        self.corded = True
        kind = m.cord_receptacle
        if kind is None:
            self.unknown[m.slug] = self.unknown.get(m.slug, 0) + count
        else:
            self.demand[kind] = self.demand.get(kind, 0) + count * k
            if new:
                self.new[kind] = self.new.get(kind, 0) + count * k
        kw = m.max_power_kw / k
        pdus = self.pdus
        elig = self.elig.get(kind) or range(len(pdus))
        n = len(elig)
        ptr = self.ptr.get(kind, 0)
        for _ in range(count):
            # The unit's cords on this side go to one PDU: the next (round-robin) with room for all of them,
            # else the next with any room, else the next.
            chosen = None
            for need in (k, 1):
                for i in range(n):
                    e = pdus[elig[(ptr + i) % n]]
                    cap = e.caps.get(kind)
                    if cap is None or cap - e.used.get(kind, 0) >= need:
                        chosen = e
                        ptr += i + 1
                        break
                if chosen is not None:
                    break
            if chosen is None:
                chosen = pdus[elig[ptr % n]]
                ptr += 1
            if kind is not None:
                chosen.used[kind] = chosen.used.get(kind, 0) + k
            phases = len(chosen.phase_kw)
            branch_kw = chosen.branch_kw
            slot = chosen.cords
            chosen.cords = slot + k
            for j in range(slot, slot + k):
                if branch_kw is not None:
                    b = j % len(branch_kw)
                    branch_kw[b] += kw
                    chosen.phase_kw[b % phases] += kw
                else:
                    chosen.phase_kw[j % phases] += kw
        self.ptr[kind] = ptr


def _new_side(name: str, both: bool, pdus: list[PduSpec], derating: float) -> _Side:
    s = _Side()
    s.name = name
    s.both = both
    s.pdus = []
    for p in pdus:
        e = _PduLoad()
        e.spec = p
        e.caps = {k: receptacles(p, k) for k in RECEPTACLE_TYPES}
        e.used = {}
        e.cords = 0
        e.phase_kw = [0.0] * (3 if p.phases == 3 else 1)
        nb = p.branch_count
        e.branch_kw = [0.0] * nb if nb and p.branch_breaker_a else None
        s.pdus.append(e)
    # Round-robin pools: the PDUs with at least one receptacle of the type (all PDUs when none says so).
    s.elig = {k: [i for i, e in enumerate(s.pdus) if (e.caps[k] or 0) > 0] for k in RECEPTACLE_TYPES}
    # The side's usable kW (as POWER_RACK sums it), its PDUs' derated phase limits, whether any has branches.
    s.usable_kw = sum(pdu_usable_kw(p.voltage_v, p.current_a, p.phases, derating, p.power_factor) for p in pdus)
    limits = [(p.name, pdu_phase_limit_a(p.current_a, derating)) for p in pdus]
    s.limits = (", ".join(f"{n} {x:.2f} A" for n, x in limits), max(x for _, x in limits))
    s.branched = any(e.branch_kw is not None for e in s.pdus)
    s.corded = False
    s.ptr = {}
    s.demand = {}
    s.new = {}
    s.unknown = {}
    s.even_kw = 0.0
    return s


def _build(ctx: RackContext, nodes) -> tuple[_Side, ...]:
    by_side: dict[str, list] = {"A": [], "B": []}
    for p in ctx.pdus:
        side = p.side.upper() if isinstance(p.side, str) else p.side
        if side in by_side:
            by_side[side].append(p)
    both = bool(by_side["A"]) and bool(by_side["B"])
    derating = ctx.site.power_derating
    sides = tuple(_new_side(name, both, by_side[name], derating) for name in SIDES if by_side[name])
    for n in nodes:
        for s in sides:
            s.add(n.model, 1, False)
    return sides


# Per rack context (a site snapshot holds up to ~5,000; the engine benchmark 10,000): built once, then each
# check copies it and adds the proposed units.
_base_of = IdentityMemo(lambda ctx: _build(ctx, ctx.nodes), size=16384)


def side_loads(st: RackState) -> tuple[_Side, ...]:
    """The rack's sides after the placement (cached per rack context; computed once per check)."""
    hit = st.circuits
    if hit is not None:
        return hit
    ctx = st.ctx
    base = _base_of(ctx) if st.nodes is ctx.nodes else _build(ctx, st.nodes)
    if st.added and st.model is not None:
        deep = st.model.cord_count is not None
        sides = tuple(s.copy(deep) for s in base)
        for s in sides:
            s.add(st.model, st.added, True)
    else:
        sides = base
    st.circuits = sides
    return sides


# --- POWER_OUTLETS -------------------------------------------------------------------------------------------


def _units(counts: dict[str, int]) -> str:
    return ", ".join(f"{slug} x {n}" for slug, n in sorted(counts.items()))


def rule_power_outlets(st: RackState) -> RuleResult:
    """Each side has a receptacle of the right type for every cord it takes (existing ones count as used)."""
    sides = side_loads(st)
    if not sides:
        return rule_result("POWER_OUTLETS", OK, "no PDUs recorded: no receptacles to check", None, None, "")
    parts = []
    failed = False
    worst = None  # (ratio, demand, capacity)
    checked = False
    for s in sides:
        for kind in RECEPTACLE_TYPES:
            need = s.demand.get(kind, 0)
            if not need:
                continue
            caps = [(e.spec.name, e.caps[kind]) for e in s.pdus]
            unknown = [name for name, c in caps if c is None]
            new = s.new.get(kind, 0)
            cords = f"{need} {kind} cord(s) ({need - new} existing + {new} new)"
            if unknown:
                parts.append(f"side {s.name}: {cords}: not checked: {kind} receptacles unknown on {', '.join(unknown)}")
                continue
            checked = True
            cap = sum(c for _, c in caps)
            ok = need <= cap
            listing = " + ".join(f"{name} {c}" for name, c in caps)
            text = f"side {s.name}: {cords} {'<=' if ok else '>'} {cap} {kind} receptacle(s) ({listing})"
            if ok:
                text += f", {cap - need} free after"
            else:
                failed = True
                text += f": {need - cap} short"
            if ok:
                parts.append(text)
            else:
                parts.insert(0, text)
            ratio = need / cap if cap else float("inf")
            if worst is None or ratio > worst[0]:
                worst = (ratio, need, cap)
        if s.unknown:
            parts.append(f"side {s.name}: not checked for {_units_text(s.unknown)}: power cords unsourced")
    if not parts:
        return rule_result("POWER_OUTLETS", OK, "no cords to plug in", None, None, "")
    msg = "; ".join(parts)
    if not checked:
        msg = "not checked: " + msg
    value, limit = (worst[1], worst[2]) if worst else (None, None)
    return rule_result("POWER_OUTLETS", FAIL if failed else OK, msg, value, limit, "receptacles")


# --- POWER_PHASE ---------------------------------------------------------------------------------------------


def _pdu_kw(s: _Side, e: _PduLoad, derating: float, side_kw: float) -> tuple[list[float], list[float] | None]:
    """(kW per phase, kW per branch or None) of one PDU: its cords' load plus its share of the side's load of
    nodes with unknown cords (in proportion to usable kW, evenly over phases and branches)."""
    phase_kw = list(e.phase_kw)
    branch_kw = None if e.branch_kw is None else list(e.branch_kw)
    if s.even_kw:
        p = e.spec
        usable = pdu_usable_kw(p.voltage_v, p.current_a, p.phases, derating, p.power_factor)
        part = s.even_kw * (usable / side_kw if side_kw > 0 else 1.0 / len(s.pdus))
        for i in range(len(phase_kw)):
            phase_kw[i] += part / len(phase_kw)
        if branch_kw is not None:
            for i in range(len(branch_kw)):
                branch_kw[i] += part / len(branch_kw)
    return phase_kw, branch_kw


def phase_currents(ctx: RackContext) -> dict:
    """Per PDU (by pdu_id): each phase's kW and current with the rack's whole load on its side (as POWER_PHASE
    computes them), and the derated limit per phase. For the rack page."""
    st = build_state(ctx, None)
    derating = ctx.site.power_derating
    out = {}
    for s in side_loads(st):
        side_kw = s.usable_kw
        for e in s.pdus:
            p = e.spec
            phase_kw, _ = _pdu_kw(s, e, derating, side_kw)
            vph = pdu_phase_voltage_v(p.voltage_v, p.phases)
            out[p.pdu_id] = {
                "limit_a": pdu_phase_limit_a(p.current_a, derating),
                "phases": [
                    {"phase": PHASE_NAMES[i], "kw": kw, "current_a": current_a(kw, vph, p.power_factor)}
                    for i, kw in enumerate(phase_kw)
                ],
                "estimated": bool(s.even_kw),
            }
    return out


_PDU_TEXT: dict[tuple, tuple] = {}
_UNITS_TEXT: dict[tuple, str] = {}


def _pdu_text(side: str, p: PduSpec, derating: float) -> tuple:
    """(head text, phase limit A, V per phase, branch limit A or None, outlet V, branch text); memoised."""
    key = (side, p.name, p.voltage_v, p.current_a, p.phases, p.power_factor, derating, p.branch_breaker_a)
    key += (p.branch_count,)
    hit = _PDU_TEXT.get(key)
    if hit is not None:
        return hit
    limit = pdu_phase_limit_a(p.current_a, derating)
    vph = pdu_phase_voltage_v(p.voltage_v, p.phases)
    head = (
        f"side {side} {p.name} ({fmt(p.voltage_v)} V {p.phases}-phase, {fmt(p.current_a)} A x "
        f"{fmt(derating)} = {limit:.2f} A per phase; I = kW x 1000 / ({vph:.2f} V x PF {fmt(p.power_factor)}))"
    )
    blimit = vout = None
    btext = ""
    if p.branch_breaker_a and p.branch_count:
        blimit = pdu_phase_limit_a(p.branch_breaker_a, derating)
        vout = pdu_outlet_voltage_v(p.voltage_v, p.phases)
        btext = (
            f"; {p.branch_count} branch breakers {fmt(p.branch_breaker_a)} A x {fmt(derating)} = "
            f"{blimit:.2f} A at {vout:.2f} V"
        )
    if len(_PDU_TEXT) > 4096:
        _PDU_TEXT.clear()
    _PDU_TEXT[key] = hit = (head, limit, vph, blimit, vout, btext)
    return hit


def _units_text(counts: dict[str, int]) -> str:
    key = tuple(counts.items())
    hit = _UNITS_TEXT.get(key)
    if hit is None:
        if len(_UNITS_TEXT) > 4096:
            _UNITS_TEXT.clear()
        _UNITS_TEXT[key] = hit = _units(counts)
    return hit


def rule_power_phase(st: RackState) -> RuleResult:
    """Every phase and branch breaker within its derated rating on each side; warn on phase imbalance."""
    sides = side_loads(st)
    if not sides:
        return rule_result("POWER_PHASE", OK, "no PDUs recorded: no circuits to check", None, None, "A")
    site = st.ctx.site
    derating = site.power_derating
    share = site.phase_imbalance_share
    over = []
    fine = []
    notes = []
    warn = False
    worst_ratio = -1.0
    worst_amp = worst_limit = None
    load = st.load_kw
    for s in sides:
        side_kw = s.usable_kw
        if not load <= side_kw * REL + EPS:
            # The side's total is over its usable kW: POWER_RACK's finding (a rule exists once), not repeated here.
            notes.append(
                f"side {s.name}: not checked: {load:.2f} kW > {side_kw:.2f} kW usable (POWER_RACK fails); "
                "phases and branches are checked once the side carries the load"
            )
            continue
        if s.even_kw and not s.corded and not s.branched:
            # No cord of the side is known: every phase carries its PDU's share, even_kw / side_kw of its limit
            # (share = usable / side_kw; I = share / phases x 1000 / (V_phase x PF) = even_kw / side_kw x I x d).
            lim = s.limits
            r = s.even_kw / side_kw if side_kw > 0 else 0.0
            fine.append(
                f"side {s.name}: {s.even_kw:.2f} kW of {_units_text(s.unknown)} (power cords unsourced) spread evenly "
                f"over the phases in proportion to usable kW: every phase at {s.even_kw:.2f} / {side_kw:.2f} kW = "
                f"{r:.0%} of its derated limit ({lim[0]}); branches not checked (branch breakers unknown)"
            )
            if r > worst_ratio:
                worst_ratio, worst_amp, worst_limit = r, r * lim[1], lim[1]
            continue
        if s.even_kw:
            notes.append(
                f"side {s.name}: {s.even_kw:.2f} kW of {_units_text(s.unknown)} (power cords unsourced) spread "
                "evenly over the phases in proportion to usable kW"
            )
        for e in s.pdus:
            p = e.spec
            pf = p.power_factor
            phase_kw, branch_kw = _pdu_kw(s, e, derating, side_kw) if s.even_kw else (e.phase_kw, e.branch_kw)
            head, limit, vph, blimit, vout, btext = _pdu_text(s.name, p, derating)
            cap = limit * REL + EPS
            amps = [kw * 1000.0 / (vph * pf) for kw in phase_kw]
            bad = False
            parts = []
            for i, amp in enumerate(amps):
                if amp <= cap:
                    parts.append(f"{PHASE_NAMES[i]} {phase_kw[i]:.2f} kW = {amp:.2f} A")
                else:
                    bad = True
                    parts.append(f"{PHASE_NAMES[i]} {phase_kw[i]:.2f} kW = {amp:.2f} A > {limit:.2f} A")
                ratio = amp / limit if limit > 0 else INF
                if ratio > worst_ratio:
                    worst_ratio, worst_amp, worst_limit = ratio, amp, limit
            text = f"{head}: {', '.join(parts)}{': over' if bad else f' (each <= {limit:.2f} A)'}"
            if branch_kw is not None and blimit is not None:
                bcap = blimit * REL + EPS
                blines = []
                peak = 0.0
                n = len(phase_kw)
                for i, kw in enumerate(branch_kw):
                    amp = kw * 1000.0 / (vout * pf)
                    if amp > peak:
                        peak = amp
                    if not amp <= bcap:
                        bad = True
                        blines.append(f"branch {i + 1} ({PHASE_NAMES[i % n]}) {kw:.2f} kW = {amp:.2f} A")
                ratio = peak / blimit if blimit > 0 else INF
                if ratio > worst_ratio:
                    worst_ratio, worst_amp, worst_limit = ratio, peak, blimit
                text += btext + (f": over: {', '.join(blines)}" if blines else f": highest {peak:.2f} A")
            elif branch_kw is None:
                text += "; branches not checked (branch breakers unknown)"
            if len(amps) == 3:
                mean = (amps[0] + amps[1] + amps[2]) / 3.0
                if mean > 0:
                    dev = max(abs(amps[0] - mean), abs(amps[1] - mean), abs(amps[2] - mean)) / mean
                    if dev > share + 1e-9:
                        warn = True
                        text += (
                            f"; imbalance max |I - mean| / mean = {dev:.0%} > {share:.0%} "
                            "(PLANNER_PHASE_IMBALANCE_SHARE)"
                        )
            (over if bad else fine).append(text)
    status = FAIL if over else (WARN if warn else OK)
    msg = "; ".join(over + fine + notes)
    return rule_result("POWER_PHASE", status, msg, worst_amp, worst_limit, "A")
