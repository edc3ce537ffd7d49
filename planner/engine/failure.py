"""What-if and the N-1 sweep (DESIGN "The load flow and redundancy", "N-1"): remove elements, move their
load to what survives, re-run every rule.

Input: a site's rack contexts as the selector builds them (``planner.selectors.site_snapshot(...).contexts``)
and the GPUs per system of each model slug (None: unknown). ``build_index`` reads the site's elements out of
the contexts once; ``what_if`` and ``n1_sweep`` then re-run only the racks an element touches:

- Power. Each side of a rack must carry the whole rack alone and each source up the chain already carries
  the full load of every rack fed through it on any side (DESIGN "Power"), so a failure never adds load to a
  surviving power element: it only removes paths. A failed source takes down every source below it and every
  PDU fed through any of them; a failed PDU or side removes those PDUs. A rack with PDUs left runs on them
  (POWER_RACK against what is left, i.e. the surviving side carries the whole load); a rack with none left
  loses power (POWER_RACK fails "loses power"). The load of a rack that lost power leaves the sources above
  it and the site; the racks re-run are those that lost a PDU (a rack that only sees a source's load drop
  can only gain headroom, so it is not re-run).
- Cooling. A failed loop is removed from every rack it serves and from every room pool it belongs to; a
  failed unit leaves ``units - 1`` with ``max(redundant_units - 1, 0)`` redundant (a loop with a redundant
  unit keeps its usable capacity). Heat moves by ``planner.engine.flow``: the racks a changed loop serves get
  new shares (``site_heat_flow``), the loops' totals are the baseline totals minus the old shares plus the new
  ones, a close-coupled unit passes on ``flow.pass_through`` of what is offered to it, and each room's CRAH
  pool carries what is left. Re-run: every rack a changed loop serves, every rack of a loop whose total
  changed, and every rack of a room whose CRAH pool load or capacity changed (the sweep re-runs only
  COOLING_AIR_ROOM for the racks the room's total alone touches; its verdict is the room's).

Conservative simplifications (each can only report more trouble than there is, never less):

- A rack whose liquid loops are all lost is not moved to a less specific (room- or site-wide) loop: the
  contexts list the loops a rack is piped to, so the rack fails COOLING_LIQUID.
- A rack that loses power keeps its heat on its loops and its room (its power load leaves the sources).
- The sweep does not re-run COOLING_TEMPERATURE for racks that only lose a CRAH of their room's pool (a lost
  loop removes comparisons, so that rule can only pass more); ``what_if`` re-runs every rule there too.

Under a failure the site runs on its redundancy by definition: POWER_REDUNDANCY, COOLING_LIQUID_REDUNDANCY
and PSU_FEED_LOSS never fail (a fail would be downgraded to warn).

A single point of failure (SPOF) is an element whose loss makes a rack that passes now (ok or warn) fail.
"""

from __future__ import annotations

from collections import ChainMap, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from planner.engine.check import RULES, check_rack
from planner.engine.flow import (
    RackHeat,
    close_coupled_cfm_split,
    close_unit_excess_cfm,
    immersed,
    pass_through,
    rack_heat_kw,
    site_heat_flow,
)
from planner.engine.inputs import CoolingLoopSpec, PduSpec, PowerSourceSpec, RackContext
from planner.engine.results import FAIL, OK, RULE_CODES, WARN, RuleResult, rule_result
from planner.engine.rules.cooling import rack_node_airflow, room_airflow_cfm, rule_air_room
from planner.engine.rules.power import fed_source_ids, pdu_sides
from planner.engine.rules.state import EPS, build_state, within
from planner.engine.units import CLOSE_COUPLED_KINDS, LIQUID_KINDS, loop_airflow_cfm, loop_usable_kw

KINDS = ("power_source", "pdu", "side", "cooling_loop", "cooling_unit")
SIDES = ("A", "B")
# Rules about redundancy: under a failure the site runs on it, so they warn at most (DESIGN "N-1").
REDUNDANCY_CODES = frozenset({"POWER_REDUNDANCY", "COOLING_LIQUID_REDUNDANCY", "PSU_FEED_LOSS"})
_RANK = {OK: 0, WARN: 1, FAIL: 2}
# The rules whose inputs a power failure changes (PDUs left, sources' and the site's loads); check.RULES order.
POWER_CODES = frozenset({"POWER_RACK", "POWER_REDUNDANCY", "POWER_UPSTREAM", "POWER_SITE", "PSU_FEED_LOSS"})
POWER_RULES = tuple(rule for code, rule in RULES if code in POWER_CODES)
# Receptacles and phases are read on the rack as built under a power failure (see _under_failure).
CIRCUIT_CODES = frozenset({"POWER_OUTLETS", "POWER_PHASE"})
CIRCUIT_RULES = {code: rule for code, rule in RULES if code in CIRCUIT_CODES}

__all__ = [
    "KINDS",
    "Element",
    "Failure",
    "FailureIndex",
    "FailureSummary",
    "RackOutcome",
    "SweepEntry",
    "WhatIfResult",
    "build_index",
    "n1_sweep",
    "validate_failures",
    "what_if",
]


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed element: kind in KINDS; id the source, PDU, rack (kind "side", with side A|B) or loop id."""

    kind: str
    id: int
    side: str | None = None


@dataclass(frozen=True, slots=True)
class Element:
    """An element of the site the sweep can fail, with the racks it touches directly."""

    kind: str
    id: int
    name: str
    side: str | None
    racks: frozenset[int]

    @property
    def failure(self) -> Failure:
        return Failure(self.kind, self.id, self.side)


@dataclass(frozen=True, slots=True)
class RackOutcome:
    """A rack under the failure: its status and its checks that are not ok; ``was``: its status now."""

    rack_id: int
    rack_name: str
    status: str
    checks: tuple[RuleResult, ...]
    was: str = OK
    load_kw: float = 0.0
    gpus: int = 0


@dataclass(frozen=True, slots=True)
class FailureSummary:
    """Of the racks the failure touches: how many fail and warn; the max-power load (kW) and the GPUs of the
    failing ones; nodes in failing racks whose model has no GPU count (counted as 0 GPUs)."""

    racks_failing: int
    racks_warning: int
    it_kw_affected: float
    gpus_affected: int
    nodes_without_gpu_count: int = 0


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    """Racks the failure touches that are not ok (failing first), and the summary."""

    racks: tuple[RackOutcome, ...]
    summary: FailureSummary


@dataclass(frozen=True, slots=True)
class SweepEntry:
    """One element of the N-1 sweep: the summary of its loss and the racks that then fail (id, name).

    spof: its loss makes at least one rack that passes now fail (``newly_failing`` lists them).
    """

    element: Element
    summary: FailureSummary
    failing: tuple[tuple[int, str], ...]
    newly_failing: tuple[tuple[int, str], ...]

    @property
    def spof(self) -> bool:
        return bool(self.newly_failing)


# --- the index ---------------------------------------------------------------------------------------


class FailureIndex:
    """A site's elements and baseline, read from its rack contexts once (treat as read-only)."""

    def __init__(self) -> None:
        self.contexts: dict[int, RackContext] = {}
        self.load_kw: dict[int, float] = {}
        self.gpus: dict[int, int] = {}
        self.unknown_gpu_nodes: dict[int, int] = {}
        self.heat: dict[int, RackHeat] = {}
        self.baseline: dict[int, str] = {}  # rack id -> status as it stands
        self.baseline_wo_room: dict[int, str] = {}  # status of every rule but COOLING_AIR_ROOM
        self.baseline_power_ok: dict[int, bool] = {}  # POWER_RACK passes as it stands
        self.baseline_wo_power: dict[int, str] = {}  # status of every rule but POWER_CODES
        self.airflow_checked: set[int] = set()  # racks whose COOLING_AIRFLOW reads the room's node air
        self.room_of: dict[int, int] = {}
        self.room_racks: dict[int, list[int]] = defaultdict(list)
        self.sources: dict[int, PowerSourceSpec] = {}
        self.children: dict[int, list[int]] = defaultdict(list)
        self.source_racks: dict[int, set[int]] = defaultdict(set)
        self.pdus: dict[int, tuple[int, PduSpec]] = {}
        self.pdu_chain: dict[int, frozenset[int]] = {}
        self.sides: dict[tuple[int, str], tuple[int, ...]] = {}
        self.loops: dict[int, CoolingLoopSpec] = {}
        self.loop_racks: dict[int, set[int]] = defaultdict(set)  # racks listing the loop in ctx.loops
        self.loop_rooms: dict[int, set[int]] = defaultdict(set)  # rooms whose CRAH pool includes it
        self.room_air_loops: dict[int, tuple[CoolingLoopSpec, ...]] = {}
        self.flow = None  # baseline SiteHeatFlow

    def rack_name(self, rack_id: int) -> str:
        return self.contexts[rack_id].rack.name

    def elements(self) -> list[Element]:
        """Every element the sweep fails, in a fixed order (the utility is the site's input: not swept)."""
        out = []
        for sid in sorted(self.sources):
            s = self.sources[sid]
            if s.kind == "utility":
                continue
            out.append(Element("power_source", sid, s.name, None, frozenset(self.source_racks.get(sid, ()))))
        for pid in sorted(self.pdus):
            rid, p = self.pdus[pid]
            out.append(Element("pdu", pid, f"{self.rack_name(rid)} {p.name}", p.side, frozenset((rid,))))
        for rid, side in sorted(self.sides):
            out.append(Element("side", rid, f"{self.rack_name(rid)} side {side}", side, frozenset((rid,))))
        for lid in sorted(self.loops):
            lp = self.loops[lid]
            racks = frozenset(self.loop_racks.get(lid, ()))
            out.append(Element("cooling_loop", lid, lp.name, None, racks))
            if lp.units >= 1:
                out.append(Element("cooling_unit", lid, f"{lp.name} (one unit)", None, racks))
        return out


def _heat_of(ctx: RackContext, h: RackHeat | None, loops) -> RackHeat:
    """The rack's input to the load flow with ``loops`` serving it: power, heat and liquid share from
    ``flow.rack_heat_kw`` (published heat output where larger), taken from ``h`` when already known."""
    if h is None:
        power_kw, heat_kw, liquid_kw = rack_heat_kw((n.model, 1) for n in ctx.nodes)
    else:
        power_kw, heat_kw, liquid_kw = h.power_kw, h.heat_kw, h.liquid_kw
    liquid = [lp for lp in loops if lp.kind in LIQUID_KINDS]
    return RackHeat(
        ctx.rack.rack_id,
        ctx.room.room_id,
        power_kw,
        liquid_kw,
        liquid=tuple((lp.loop_id, _usable(lp)) for lp in liquid),
        close=tuple((lp.loop_id, _usable(lp)) for lp in loops if lp.kind in CLOSE_COUPLED_KINDS),
        immersion=immersed(liquid),
        heat_kw=heat_kw,
    )


def _usable(lp: CoolingLoopSpec) -> float:
    return loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units)


def _worst(statuses: Iterable[str]) -> str:
    w = OK
    for s in statuses:
        if s == FAIL:
            return FAIL
        if s == WARN:
            w = WARN
    return w


def build_index(
    contexts: Mapping[int, RackContext],
    gpus_by_slug: Mapping[str, int | None],
    *,
    sources: Iterable[PowerSourceSpec] = (),
    loops: Iterable[CoolingLoopSpec] = (),
) -> FailureIndex:
    """The site's elements (sources, PDUs, PDU sides, loops), which racks each touches, and the baseline
    (every rack checked as it stands, the site's heat flow). ``gpus_by_slug``: GPUs per system of each model;
    a slug missing or None counts 0 GPUs and is reported as unknown. ``sources`` / ``loops``: every source and
    loop of the site, so those that feed or serve no rack are elements too (their loss touches nothing)."""
    ix = FailureIndex()
    for rid in sorted(contexts):
        ctx = contexts[rid]
        ix.contexts[rid] = ctx
        gpus = unknown = 0
        for n in ctx.nodes:
            g = gpus_by_slug.get(n.model.slug)
            if g is None:
                unknown += 1
            else:
                gpus += g
        heat = ix.heat[rid] = _heat_of(ctx, None, ctx.loops)
        ix.load_kw[rid] = heat.power_kw
        ix.gpus[rid] = gpus
        ix.unknown_gpu_nodes[rid] = unknown
        room_id = ctx.room.room_id
        ix.room_of[rid] = room_id
        ix.room_racks[room_id].append(rid)
        if room_id not in ix.room_air_loops:
            ix.room_air_loops[room_id] = ctx.room.air_loops
            for lp in ctx.room.air_loops:
                if lp.loop_id is not None:
                    ix.loops.setdefault(lp.loop_id, lp)
                    ix.loop_rooms[lp.loop_id].add(room_id)
        for lp in ctx.loops:
            if lp.loop_id is not None:
                ix.loops.setdefault(lp.loop_id, lp)
                ix.loop_racks[lp.loop_id].add(rid)
        by_id = {s.source_id: s for s in ctx.sources}
        for s in ctx.sources:
            if s.source_id not in ix.sources:
                ix.sources[s.source_id] = s
                if s.parent_id is not None:
                    ix.children[s.parent_id].append(s.source_id)
        sides: dict[str, list[int]] = defaultdict(list)
        for p in ctx.pdus:
            if p.pdu_id is None:
                continue
            chain = []
            sid = p.source_id
            while sid is not None and sid in by_id and sid not in chain:
                chain.append(sid)
                sid = by_id[sid].parent_id
            ix.pdus[p.pdu_id] = (rid, p)
            ix.pdu_chain[p.pdu_id] = frozenset(chain)
            for sid in chain:
                ix.source_racks[sid].add(rid)
            if p.side in SIDES:
                sides[p.side].append(p.pdu_id)
        for side, ids in sides.items():
            ix.sides[(rid, side)] = tuple(ids)
        result = check_rack(ctx)
        ix.baseline[rid] = _worst(c.status for c in result.checks)
        ix.baseline_wo_room[rid] = _worst(c.status for c in result.checks if c.code != "COOLING_AIR_ROOM")
        if rack_room_airflow_base_cfm(ctx) > 0:
            ix.airflow_checked.add(rid)
        ix.baseline_power_ok[rid] = result.checks[RULE_CODES.index("POWER_RACK")].status != FAIL
        ix.baseline_wo_power[rid] = _worst(c.status for c in result.checks if c.code not in POWER_CODES)
    for s in sources:
        if s.source_id not in ix.sources:
            ix.sources[s.source_id] = s
            if s.parent_id is not None:
                ix.children[s.parent_id].append(s.source_id)
    for lp in loops:
        if lp.loop_id is not None:
            ix.loops.setdefault(lp.loop_id, lp)
    ix.flow = site_heat_flow(ix.heat.values())
    return ix


# --- applying failures --------------------------------------------------------------------------------


class _Applied:
    """What a set of failures changes: dead PDUs, changed loops, the new heat flow totals."""

    __slots__ = (
        "changed_loops",
        "close_cfm",
        "close_cfm_delta",
        "close_excess_delta",
        "close_pass",
        "dead_kw_by_source",
        "dead_racks",
        "dead_site_kw",
        "direct",
        "direct_cfm",
        "loop_liquid",
        "loop_spec",
        "lost_pdus",
        "offered",
        "offered_room",
        "room_cfm_delta",
        "room_changed",
        "room_left",
        "shares",
    )


def validate_failures(ix: FailureIndex, failures: Sequence[Failure]) -> None:
    """Raise ValueError naming the first failure that is of an unknown kind or names no element of the site."""
    for f in failures:
        if f.kind not in KINDS:
            raise ValueError(f"unknown failure kind {f.kind!r}: one of {', '.join(KINDS)}")
        if f.kind == "power_source":
            if f.id not in ix.sources:
                raise ValueError(f"power source {f.id} is not a power source of this site")
        elif f.kind == "pdu":
            if f.id not in ix.pdus:
                raise ValueError(f"PDU {f.id} is not a PDU of this site")
        elif f.kind == "side":
            if f.side not in SIDES:
                raise ValueError(f"side {f.side!r} of rack {f.id}: side must be A or B")
            if f.id not in ix.contexts:
                raise ValueError(f"rack {f.id} is not a rack of this site")
            if (f.id, f.side) not in ix.sides:
                raise ValueError(f"rack {f.id} has no PDU on side {f.side}")
        elif f.id not in ix.loops:
            raise ValueError(f"cooling loop {f.id} is not a cooling loop of this site")


def _apply(ix: FailureIndex, failures: Sequence[Failure]) -> _Applied:
    validate_failures(ix, failures)
    a = _Applied()
    # Power: sources down (with everything below them), then the PDUs that lose their feed.
    down: set[int] = set()
    stack = [f.id for f in failures if f.kind == "power_source"]
    while stack:
        sid = stack.pop()
        if sid in down:
            continue
        down.add(sid)
        stack.extend(ix.children.get(sid, ()))
    lost: dict[int, set[int]] = defaultdict(set)  # rack id -> lost PDU ids
    for sid in down:
        for rid in ix.source_racks.get(sid, ()):
            for p in ix.contexts[rid].pdus:
                if p.pdu_id is not None and ix.pdu_chain[p.pdu_id] & down:
                    lost[rid].add(p.pdu_id)
    for f in failures:
        if f.kind == "pdu":
            lost[ix.pdus[f.id][0]].add(f.id)
        elif f.kind == "side":
            lost[f.id].update(ix.sides[(f.id, f.side)])
    a.lost_pdus = dict(lost)
    a.dead_racks = {rid for rid, ids in lost.items() if all(p.pdu_id in ids for p in ix.contexts[rid].pdus)}
    a.dead_site_kw = sum(ix.load_kw[rid] for rid in a.dead_racks)
    dead_kw: dict[int, float] = defaultdict(float)
    for rid in a.dead_racks:
        for sid in fed_source_ids(ix.contexts[rid]):
            dead_kw[sid] += ix.load_kw[rid]
    a.dead_kw_by_source = dict(dead_kw)

    # Cooling: the loops that change, as their new specs (None: removed).
    units_lost: dict[int, int] = defaultdict(int)
    removed: set[int] = set()
    for f in failures:
        if f.kind == "cooling_loop":
            removed.add(f.id)
        elif f.kind == "cooling_unit":
            units_lost[f.id] += 1
    loop_spec: dict[int, CoolingLoopSpec | None] = {lid: None for lid in removed}
    for lid, n in units_lost.items():
        if lid in removed:
            continue
        lp = ix.loops[lid]
        units = max(lp.units - n, 0)
        loop_spec[lid] = replace(lp, units=units, redundant_units=min(max(lp.redundant_units - n, 0), units))
    a.loop_spec = loop_spec
    a.changed_loops = set(loop_spec)

    # Racks whose heat input changes: those a changed loop serves.
    # (A CRAH/CRAC carries no rack's heat share: it changes its rooms' pool, below; the only other rule that
    # reads it is COOLING_TEMPERATURE, which a lost loop can only relieve.)
    heat_changed: set[int] = set()
    for lid in loop_spec:
        if ix.loops[lid].kind in LIQUID_KINDS or ix.loops[lid].kind in CLOSE_COUPLED_KINDS:
            heat_changed.update(ix.loop_racks.get(lid, ()))
    flow = ix.flow
    new_heat = {}
    for rid in heat_changed:
        ctx = ix.contexts[rid]
        h = ix.heat[rid]
        new_heat[rid] = _heat_of(ctx, h, _new_loops(a, ctx.loops))
    new = site_heat_flow(new_heat.values()).shares if new_heat else {}
    a.shares = new
    loop_liquid = ChainMap({}, flow.loop_liquid_kw)  # changes over the baseline: no copy per element
    offered = ChainMap({}, flow.close_offered_kw)  # changes over the baseline: no copy per element
    offered_room = ChainMap({}, flow.close_offered_room_kw)  # changes over the baseline: no copy per element
    touched_liquid: set[int] = set()
    touched_close: set[int] = {lid for lid in loop_spec if ix.loops[lid].kind in CLOSE_COUPLED_KINDS}
    for rid, s in new.items():
        old = flow.shares.get(rid)
        room_id = ix.room_of[rid]
        for lid, kw in old.liquid_by_loop.items():
            loop_liquid[lid] = loop_liquid.get(lid, 0.0) - kw
            touched_liquid.add(lid)
        for lid, kw in s.liquid_by_loop.items():
            loop_liquid[lid] = loop_liquid.get(lid, 0.0) + kw
            touched_liquid.add(lid)
        for lid, kw in old.offer_by_loop.items():
            offered[lid] = offered.get(lid, 0.0) - kw
            offered_room[(lid, room_id)] = offered_room.get((lid, room_id), 0.0) - kw
            touched_close.add(lid)
        for lid, kw in s.offer_by_loop.items():
            offered[lid] = offered.get(lid, 0.0) + kw
            offered_room[(lid, room_id)] = offered_room.get((lid, room_id), 0.0) + kw
            touched_close.add(lid)
    a.loop_liquid = loop_liquid
    a.offered = offered
    # Node air (COOLING_AIRFLOW) a changed close-coupled set moves: each such rack's air split again over the
    # units left to it, as its heat is; per loop the change of the air its racks offer it.
    close_cfm: dict[int, tuple[dict, dict]] = {}  # rack id -> (old CFM per unit, new CFM per unit)
    cfm_delta: dict[int, float] = defaultdict(float)
    for rid in heat_changed:
        ctx = ix.contexts[rid]
        old_close = [lp for lp in ctx.loops if lp.kind in CLOSE_COUPLED_KINDS]
        if not old_close:
            continue
        node_cfm, _text = rack_node_airflow(build_state(ctx, None))
        if not node_cfm:
            continue
        cfm_old = _cfm_split(node_cfm, old_close)
        cfm_new = _cfm_split(node_cfm, _new_loops(a, old_close))
        close_cfm[rid] = (cfm_old, cfm_new)
        for lid in cfm_old.keys() | cfm_new.keys():
            cfm_delta[lid] += cfm_new.get(lid, 0.0) - cfm_old.get(lid, 0.0)
    a.close_cfm = close_cfm
    a.close_cfm_delta = dict(cfm_delta)
    # What each changed close-coupled unit cannot move, before and under the failure: the change reaches the
    # CRAH pool of its racks' room (a unit serves one room; the first when its racks span several). A lost
    # unit moves nothing and passes nothing: its racks' air went to their other units or to the pool directly.
    excess_delta: dict[int, tuple[float, int]] = {}
    room_cfm: dict[int, float] = defaultdict(float)
    direct_cfm: dict[int, float] = {}
    for lid in {*cfm_delta, *(lid for lid in loop_spec if ix.loops[lid].kind in CLOSE_COUPLED_KINDS)}:
        racks = ix.loop_racks.get(lid, ())
        if not racks:
            continue
        first = next(iter(sorted(racks)))
        ctx = ix.contexts[first]
        spec = next(lp for lp in ctx.loops if lp.loop_id == lid)
        node_cfm = rack_room_airflow_base_cfm(ctx)
        base_total = spec.other_airflow_cfm + _cfm_split(
            node_cfm, [lp for lp in ctx.loops if lp.kind in CLOSE_COUPLED_KINDS]
        ).get(lid, 0.0)
        excess_before = close_unit_excess_cfm(
            base_total, loop_airflow_cfm(spec.unit_airflow_cfm, spec.units, spec.redundant_units)
        )
        new_spec = loop_spec.get(lid, spec) if lid in loop_spec else spec
        if new_spec is None:
            excess_after = 0.0
        else:
            excess_after = close_unit_excess_cfm(
                base_total + cfm_delta.get(lid, 0.0),
                loop_airflow_cfm(new_spec.unit_airflow_cfm, new_spec.units, new_spec.redundant_units),
            )
        room_id = ix.room_of[first]
        excess_delta[lid] = (excess_after - excess_before, room_id)
        room_cfm[room_id] += excess_after - excess_before
    for rid, (split_old, split_new) in close_cfm.items():
        if not split_new:  # no close-coupled unit left: the rack's own air goes to the pool
            direct_cfm[rid] = sum(split_old.values())
            room_cfm[ix.room_of[rid]] += direct_cfm[rid]
    a.close_excess_delta = excess_delta
    a.room_cfm_delta = dict(room_cfm)
    a.direct_cfm = direct_cfm
    a.offered_room = offered_room
    close_pass = ChainMap({}, flow.close_pass)  # changes over the baseline: no copy per element
    for lid in touched_close:
        spec = loop_spec[lid] if lid in loop_spec else ix.loops[lid]
        # A lost unit passes everything on (no rack lists it any more: its racks' offers moved already).
        close_pass[lid] = 1.0 if spec is None else pass_through(offered.get(lid, 0.0), _usable(spec))
    a.close_pass = close_pass

    # Air left for each room's CRAH pool: re-summed for the racks whose left share changes.
    left_changed: set[int] = set(new)
    for lid in touched_close:
        if close_pass.get(lid) != flow.close_pass.get(lid):
            left_changed.update(ix.loop_racks.get(lid, ()))
    room_left = ChainMap({}, flow.room_air_left_kw)  # changes over the baseline: no copy per element
    for rid in left_changed:
        s_new = new.get(rid) or flow.shares.get(rid)
        s_old = flow.shares.get(rid)
        if s_old is None:
            continue
        offers = s_new.offer_by_loop
        now = sum(kw * close_pass[lid] for lid, kw in offers.items()) if offers else s_new.air_kw
        room_id = ix.room_of[rid]
        room_left[room_id] = room_left.get(room_id, 0.0) - s_old.air_left_kw + now
    a.room_left = room_left
    rooms = {ix.room_of[rid] for rid in left_changed}
    a.room_changed = {r for r in rooms if abs(room_left.get(r, 0.0) - flow.room_air_left_kw.get(r, 0.0)) > 1e-9}
    for lid in loop_spec:
        a.room_changed.update(ix.loop_rooms.get(lid, ()))

    # Racks re-run with every rule: lost a PDU, or served by a loop whose spec or total changed.
    direct = set(lost) | heat_changed
    for lid in touched_liquid:
        if abs(loop_liquid.get(lid, 0.0) - flow.loop_liquid_kw.get(lid, 0.0)) > 1e-9:
            direct.update(ix.loop_racks.get(lid, ()))
    for lid in touched_close:
        if offered.get(lid, 0.0) != flow.close_offered_kw.get(lid, 0.0) or close_pass.get(lid) != flow.close_pass.get(
            lid
        ):
            direct.update(ix.loop_racks.get(lid, ()))
    a.direct = direct
    return a


def rack_room_airflow_base_cfm(ctx: RackContext) -> float:
    """The rack's node air as it stands (CFM; 0 when unknown or no nodes)."""
    st = build_state(ctx, None)
    if not st.models or st.immersion:
        return 0.0
    cfm, _text = rack_node_airflow(st)
    return cfm or 0.0


def _cfm_split(node_cfm: float, close: list[CoolingLoopSpec]) -> dict[int, float]:
    """A rack's node air (CFM) over its close-coupled units by usable kW (engine.flow), by loop id."""
    split = close_coupled_cfm_split(node_cfm, [_usable(lp) for lp in close])
    return {lp.loop_id: c for lp, c in zip(close, split, strict=True)}


def _new_loops(a: _Applied, loops: Iterable[CoolingLoopSpec]) -> list[CoolingLoopSpec]:
    out = []
    for lp in loops:
        if lp.loop_id in a.loop_spec:
            spec = a.loop_spec[lp.loop_id]
            if spec is None:
                continue
            lp = replace(lp, units=spec.units, redundant_units=spec.redundant_units)
        out.append(lp)
    return out


def _other(total_kw: float, own_kw: float) -> float:
    # As the selector: rounded to 1 mW, never negative.
    return max(round(total_kw - own_kw, 6), 0.0)


def _context(ix: FailureIndex, a: _Applied, rid: int) -> RackContext:
    """The rack's context under the failures: its PDUs left, its loops left, the loads moved."""
    ctx = ix.contexts[rid]
    own_kw = ix.load_kw[rid]
    changes = {}
    lost = a.lost_pdus.get(rid)
    pdus = ctx.pdus
    if lost:
        pdus = tuple(p for p in ctx.pdus if p.pdu_id not in lost)
        changes["pdus"] = pdus
    if lost or a.dead_kw_by_source:
        dead_self = rid in a.dead_racks
        keep = fed_source_ids(replace(ctx, pdus=pdus)) if lost else None
        sources = []
        for s in ctx.sources:
            if keep is not None and s.source_id not in keep:
                continue
            gone = a.dead_kw_by_source.get(s.source_id, 0.0)
            if dead_self and rid in ix.source_racks.get(s.source_id, ()):
                gone -= own_kw
            sources.append(replace(s, other_load_kw=max(round(s.other_load_kw - gone, 6), 0.0)) if gone else s)
        changes["sources"] = tuple(sources)
    if a.dead_site_kw:
        gone = a.dead_site_kw - (own_kw if rid in a.dead_racks else 0.0)
        if gone:
            changes["site"] = replace(ctx.site, other_load_kw=max(round(ctx.site.other_load_kw - gone, 6), 0.0))
    room_id = ix.room_of[rid]
    if a.loop_spec or a.room_changed:
        flow = ix.flow
        share = a.shares.get(rid) or flow.shares.get(rid)
        loops = []
        has_close = False
        for lp in _new_loops(a, ctx.loops):
            lid = lp.loop_id
            if lp.kind in LIQUID_KINDS:
                mine = share.liquid_by_loop.get(lid, 0.0) if share else 0.0
                lp = replace(lp, other_heat_kw=_other(a.loop_liquid.get(lid, 0.0), mine))
            elif lp.kind in CLOSE_COUPLED_KINDS:
                has_close = True
                mine = share.offer_by_loop.get(lid, 0.0) if share else 0.0
                old_cfm, new_cfm = a.close_cfm.get(rid, (None, None))
                other_cfm = lp.other_airflow_cfm + a.close_cfm_delta.get(lid, 0.0)
                if old_cfm is not None:  # this rack's own change is its own, not another rack's
                    other_cfm += old_cfm.get(lid, 0.0) - new_cfm.get(lid, 0.0)
                lp = replace(
                    lp,
                    other_heat_kw=_other(a.offered.get(lid, 0.0), mine),
                    other_room_heat_kw=_other(a.offered_room.get((lid, room_id), 0.0), mine),
                    other_airflow_cfm=max(round(other_cfm, 6), 0.0),
                )
            loops.append(lp)
        changes["loops"] = tuple(loops)
        room_other = a.room_left.get(room_id, 0.0)
        if has_close:
            for lp in loops:
                if lp.kind in CLOSE_COUPLED_KINDS:
                    room_other -= a.offered_room.get((lp.loop_id, room_id), 0.0) * a.close_pass.get(lp.loop_id, 0.0)
            other_air = max(round(room_other, 6), 0.0)
        else:
            other_air = _other(room_other, share.air_left_kw if share else 0.0)
        air_loops = tuple(_new_loops(a, ctx.room.air_loops))
        # The pool's node air: the changes of every unit and rack but this rack's own and its units' (the rule
        # counts those from the units' whole demand).
        other_cfm = ctx.room.other_airflow_cfm + a.room_cfm_delta.get(room_id, 0.0) - a.direct_cfm.get(rid, 0.0)
        for lp in ctx.loops:
            if lp.kind in CLOSE_COUPLED_KINDS and lp.loop_id in a.close_excess_delta:
                delta, in_room = a.close_excess_delta[lp.loop_id]
                if in_room == room_id:
                    other_cfm -= delta
        changes["room"] = replace(
            ctx.room,
            other_air_heat_kw=other_air,
            air_loops=air_loops,
            other_airflow_cfm=max(round(other_cfm, 6), 0.0),
        )
    return replace(ctx, **changes) if changes else ctx


def _downgrade(r: RuleResult) -> RuleResult:
    if r.status == FAIL and r.code in REDUNDANCY_CODES:
        msg = r.message + " (running on redundancy under the failure)"
        return rule_result(r.code, WARN, msg, r.value, r.limit, r.unit)
    return r


def _loses_power(ix: FailureIndex, rid: int) -> RuleResult:
    ctx = ix.contexts[rid]
    load = ix.load_kw[rid]
    names = ", ".join(p.name for p in ctx.pdus)
    if load > EPS:
        msg = f"loses power: every PDU ({names}) lost its feed; {load:.2f} kW of load goes down"
        return rule_result("POWER_RACK", FAIL, msg, load, 0.0, "kW")
    msg = f"loses power: every PDU ({names}) lost its feed; no load in the rack"
    return rule_result("POWER_RACK", WARN, msg, 0.0, 0.0, "kW")


def _degraded_side(ctx: RackContext, c: RuleResult, load_kw: float) -> RuleResult:
    """A rack that lost some PDUs of a side: it stays up while a side carries the whole load alone (every
    node has a cord on each side); the short side is lost redundancy (warn), not lost power."""
    a_kw, a, b_kw, b = pdu_sides(ctx)
    best, side = (a_kw, "A") if a and (not b or a_kw >= b_kw) else (b_kw, "B")
    if not (a or b) or not load_kw <= best * (1 + 1e-9) + EPS:
        return c
    msg = f"{c.message}; under the failure side {side} alone carries the rack: {load_kw:.2f} kW <= {best:.2f} kW"
    return rule_result("POWER_RACK", WARN, msg, c.value, c.limit, c.unit)


def _under_failure(ix: FailureIndex, a: _Applied, rid: int, ctx: RackContext, c: RuleResult) -> RuleResult:
    """One rule's result read under the failure: a rack with no PDU left loses power, a side short of a PDU
    leaves the other side carrying the rack, redundancy rules warn at most."""
    if c.code in CIRCUIT_CODES and rid in a.lost_pdus:
        # Cords stay where they were plugged: each side already carries the whole rack alone in the baseline
        # (rules.circuits), so the circuits read as built; losing PDUs is POWER_RACK's question.
        base = ix.contexts[rid]
        c = CIRCUIT_RULES[c.code](build_state(base, None))
    if c.code == "POWER_RACK":
        if rid in a.dead_racks:
            c = _loses_power(ix, rid)
        elif c.status == FAIL and rid in a.lost_pdus and ix.baseline_power_ok[rid]:
            c = _degraded_side(ctx, c, ix.load_kw[rid])
    return _downgrade(c)


def _outcome(ix: FailureIndex, a: _Applied, rid: int) -> RackOutcome:
    ctx = _context(ix, a, rid)
    result = check_rack(ctx)
    checks = []
    for c in result.checks:
        c = _under_failure(ix, a, rid, ctx, c)
        if c.status != OK:
            checks.append(c)
    status = _worst(c.status for c in checks)
    return RackOutcome(rid, ix.rack_name(rid), status, tuple(checks), ix.baseline[rid], ix.load_kw[rid], ix.gpus[rid])


def _order(o: RackOutcome):
    return (-_RANK[o.status], o.rack_name, o.rack_id)


def _summary(ix: FailureIndex, statuses: Iterable[tuple[int, str]]) -> FailureSummary:
    failing = warning = gpus = unknown = 0
    kw = 0.0
    for rid, status in statuses:
        if status == FAIL:
            failing += 1
            kw += ix.load_kw[rid]
            gpus += ix.gpus[rid]
            unknown += ix.unknown_gpu_nodes[rid]
        elif status == WARN:
            warning += 1
    return FailureSummary(failing, warning, round(kw, 6), gpus, unknown)


def what_if(index: FailureIndex, failures: Sequence[Failure]) -> WhatIfResult:
    """Every rule re-run on every rack the failures touch; the racks not ok, failing first, and the summary.

    Raises ValueError for an unknown kind, an element not in this site, or a side with no PDU.
    """
    a = _apply(index, failures)
    touched = set(a.direct)
    for room_id in a.room_changed:
        touched.update(index.room_racks.get(room_id, ()))
    outcomes = [_outcome(index, a, rid) for rid in touched]
    summary = _summary(index, ((o.rack_id, o.status) for o in outcomes))
    return WhatIfResult(tuple(sorted((o for o in outcomes if o.status != OK), key=_order)), summary)


def _power_status(ix: FailureIndex, a: _Applied, rid: int) -> str:
    """A rack's status when only its power changed: every power rule re-run under the failure, worst of them and
    of the other rules as the rack stands (their inputs did not change)."""
    if rid in a.dead_racks and ix.load_kw[rid] > EPS:
        return FAIL  # loses power with load in it, whatever else
    ctx = _context(ix, a, rid)
    worst = ix.baseline_wo_power[rid]
    try:
        st = build_state(ctx, None)
        results = [rule(st) for rule in POWER_RULES]
    except Exception:
        return _outcome(ix, a, rid).status  # the guarded full check says what cannot be evaluated
    for c in results:
        status = _under_failure(ix, a, rid, ctx, c).status
        if _RANK[status] > _RANK[worst]:
            worst = status
    return worst


def _statuses(ix: FailureIndex, a: _Applied, memo: dict) -> dict[int, str]:
    """Status of every rack the failures touch: every rule for the direct ones; for the racks only their
    room's CRAH pool touches, COOLING_AIR_ROOM (the room's verdict) with their other rules as they stand.

    ``memo``: a failure that only takes PDUs away (no rack loses power, no loop changes) leaves a rack in the
    same state whichever element took them (a side, its PDU, the panel or UPS above): checked once per set.
    """
    out = {}
    if not a.loop_spec:
        # Power only: the power rules re-run (their inputs are all that changed), the others as they stand.
        pure = not a.dead_racks
        for rid in a.direct:
            if pure:
                key = (rid, frozenset(a.lost_pdus.get(rid, ())))
                status = memo.get(key)
                if status is None:
                    status = memo[key] = _power_status(ix, a, rid)
                out[rid] = status
            else:
                out[rid] = _power_status(ix, a, rid)
    else:
        for rid in a.direct:
            out[rid] = _outcome(ix, a, rid).status
    for room_id in a.room_changed:
        rest = [rid for rid in ix.room_racks.get(room_id, ()) if rid not in out]
        if not rest:
            continue
        st = build_state(_context(ix, a, rest[0]), None)
        room_status = rule_air_room(st).status
        # COOLING_AIRFLOW's room side: the room's node air against its pool, the same total from any rack.
        total, cap, why = room_airflow_cfm(st)
        airflow_status = FAIL if why is None and not within(total, cap) else OK
        for rid in rest:
            base = ix.baseline_wo_room[rid]
            status = room_status if rid not in ix.airflow_checked else _worst((room_status, airflow_status))
            out[rid] = base if _RANK[base] >= _RANK[status] else status
    return out


def _entry_key(e: SweepEntry):
    s = e.summary
    return (-s.racks_failing, -s.it_kw_affected, -s.gpus_affected, e.element.name, e.element.kind, e.element.id)


def n1_sweep(index: FailureIndex) -> tuple[SweepEntry, ...]:
    """Every single element failed in turn (each source below the utility, each PDU, each side with PDUs,
    each loop, one unit of each loop), worst first: racks failing, kW affected, GPUs, then name."""
    entries = []
    memo: dict = {}
    for el in index.elements():
        a = _apply(index, (el.failure,))
        statuses = _statuses(index, a, memo)
        failing = sorted((rid for rid, s in statuses.items() if s == FAIL), key=lambda r: (index.rack_name(r), r))
        newly = tuple((rid, index.rack_name(rid)) for rid in failing if index.baseline[rid] != FAIL)
        entries.append(
            SweepEntry(
                el,
                _summary(index, statuses.items()),
                tuple((rid, index.rack_name(rid)) for rid in failing),
                newly,
            )
        )
    entries.sort(key=_entry_key)
    return tuple(entries)
