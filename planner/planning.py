"""Feasibility: where can N units of a model go at a site, and what would unlock the rest.

Deterministic greedy packing over a site snapshot. Every unit it places passes ``engine.check_placement``
on a context that includes everything placed before it (shared budgets too: site utility, upstream
sources, room air, liquid loops), so the plan never exceeds a limit in total.

Order: rows that can take the most units first (a pod stays together in a row), racks by position within
a row; each rack is filled as far as the rules allow before the next one is opened, which leaves the fewest
racks partly used (least stranded capacity).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

from planner import engine
from planner.engine.costs import HOURS_PER_YEAR, facility_energy_kwh, site_pue
from planner.engine.fabric import bill_of_materials, rack_links, rail_demand
from planner.engine.flow import close_coupled_cfm_split, close_coupled_credit_kw, proportional_split
from planner.engine.inputs import NodeModelSpec, PlacedNode, Placement, RackContext
from planner.engine.rules.cooling import rack_node_airflow, rack_room_airflow_parts
from planner.engine.rules.state import build_state
from planner.engine.units import CLOSE_COUPLED_KINDS, LIQUID_KINDS, loop_usable_kw
from planner.selectors import SiteSnapshot

# COOLING_AIRFLOW is not here: no retrofit option of planner.engine.retrofit claims to resolve it yet.
COOLING_CODES = frozenset({"COOLING_AIR_RACK", "COOLING_AIR_ROOM", "COOLING_LIQUID", "COOLING_FLOW"})
# what the power options of planner.engine.retrofit_power resolve (PDUs, busway tap-offs, upstream, utility)
POWER_CODES = frozenset({"POWER_RACK", "POWER_UPSTREAM", "POWER_SITE"})
RETROFIT_CODES = COOLING_CODES | POWER_CODES


@dataclass
class Ledger:
    """What the plan has added so far to each shared budget (kW).

    loop_kw: liquid heat per liquid loop, air heat offered per close-coupled unit; loop_room_kw: of the
    latter, per (unit, room); loop_room_pass_kw: what the unit's room term passes to the CRAH pool more.
    """

    site_kw: float = 0.0
    room_air_kw: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    source_kw: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    loop_kw: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    loop_room_kw: dict[tuple, float] = field(default_factory=lambda: defaultdict(float))
    loop_room_pass_kw: dict[tuple, float] = field(default_factory=lambda: defaultdict(float))
    nodes: dict[int, list[PlacedNode]] = field(default_factory=lambda: defaultdict(list))
    room_cfm: dict[int, float] = field(default_factory=lambda: defaultdict(float))  # node air for the CRAH pool
    room_cfm_unknown: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    loop_cfm: dict[int, float] = field(default_factory=lambda: defaultdict(float))  # node air per close unit
    loop_cfm_unknown: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    # Change of what each close-coupled unit cannot move (CFM), per (unit, room): it reaches that room's pool.
    unit_excess_cfm: dict[tuple, float] = field(default_factory=lambda: defaultdict(float))
    own: dict[int, dict] = field(default_factory=dict)  # rack id -> its own additions, to subtract
    # Fabric ports the plan takes: (fabric id, rail) -> ports, in all and per rack (FABRIC_PORTS).
    fabric_ports: Counter = field(default_factory=Counter)
    own_fabric_ports: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))


_NONE = {"power": 0.0, "air": 0.0, "loops": {}, "cfm": 0.0, "cfm_unknown": 0, "loop_cfm": {}, "loop_cfm_unknown": {}}


def current_context(base: RackContext, ledger: Ledger) -> RackContext:
    """``base`` with the plan so far: its own planned nodes, and the others' additions to shared budgets."""
    rid = base.rack.rack_id
    room_id = base.room.room_id
    own = ledger.own.get(rid, _NONE)
    site = replace(base.site, other_load_kw=base.site.other_load_kw + ledger.site_kw - own["power"])
    room_other = base.room.other_air_heat_kw + ledger.room_air_kw.get(room_id, 0.0) - own["air"]
    for lp in base.loops:
        if lp.kind in CLOSE_COUPLED_KINDS:
            room_other -= ledger.loop_room_pass_kw.get((lp.loop_id, room_id), 0.0)
    # The pool's air from close-coupled units the plan changed, except those serving this rack (the rule
    # counts them from their whole demand).
    mine = {lp.loop_id for lp in base.loops if lp.kind in CLOSE_COUPLED_KINDS}
    excess = sum(kw for (lid, rm), kw in ledger.unit_excess_cfm.items() if rm == room_id and lid not in mine)
    room = replace(
        base.room,
        other_air_heat_kw=room_other,
        other_airflow_cfm=base.room.other_airflow_cfm + ledger.room_cfm.get(room_id, 0.0) - own["cfm"] + excess,
        other_airflow_unknown=base.room.other_airflow_unknown
        + ledger.room_cfm_unknown.get(room_id, 0)
        - own["cfm_unknown"],
    )
    sources = tuple(
        replace(s, other_load_kw=s.other_load_kw + ledger.source_kw.get(s.source_id, 0.0) - own["power"])
        for s in base.sources
    )
    loops = []
    for lp in base.loops:
        if lp.loop_id not in ledger.loop_kw:
            loops.append(lp)
            continue
        mine = own["loops"].get(lp.loop_id, 0.0)
        changes = {"other_heat_kw": lp.other_heat_kw + ledger.loop_kw[lp.loop_id] - mine}
        if lp.kind in CLOSE_COUPLED_KINDS:
            added_here = ledger.loop_room_kw.get((lp.loop_id, room_id), 0.0)
            changes["other_room_heat_kw"] = lp.other_room_heat_kw + added_here - mine
            changes["other_airflow_cfm"] = (
                lp.other_airflow_cfm + ledger.loop_cfm.get(lp.loop_id, 0.0) - own["loop_cfm"].get(lp.loop_id, 0.0)
            )
            changes["other_airflow_unknown"] = (
                lp.other_airflow_unknown
                + ledger.loop_cfm_unknown.get(lp.loop_id, 0)
                - own["loop_cfm_unknown"].get(lp.loop_id, 0)
            )
        loops.append(replace(lp, **changes))
    fabrics = base.fabrics
    if fabrics and ledger.fabric_ports:
        own_ports = ledger.own_fabric_ports.get(rid, Counter())
        fabrics = tuple(_fabric_with_plan(f, ledger.fabric_ports, own_ports) for f in fabrics)
    return replace(
        base,
        site=site,
        room=room,
        sources=sources,
        loops=tuple(loops),
        nodes=base.nodes + tuple(ledger.nodes.get(rid, ())),
        fabrics=fabrics,
    )


def _fabric_with_plan(fabric, planned: Counter, own: Counter):
    """A fabric's ports used by other racks plus what the plan put in other racks (not this one's own)."""
    other = dict(fabric.other_used)
    for (fid, rail), n in planned.items():
        if fid == fabric.fabric_id:
            other[rail] = other.get(rail, 0) + n - own.get((fid, rail), 0)
    return replace(fabric, other_used=tuple(sorted(other.items())))


def _record(ledger: Ledger, ctx: RackContext, model: NodeModelSpec, positions) -> None:
    """Add the placed units' load to every shared budget, by the load flow (engine.flow)."""
    rid = ctx.rack.rack_id
    room_id = ctx.room.room_id
    before = ledger.own.get(rid, _NONE)
    st = build_state(ctx, None)
    after = build_state(ctx, Placement(model=model, quantity=len(positions)))
    added_power = after.load_kw - st.load_kw
    liquid_loops = [lp for lp in ctx.loops if lp.kind in LIQUID_KINDS]
    caps = [loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units) for lp in liquid_loops]
    split = dict(
        zip(
            (lp.loop_id for lp in liquid_loops),
            proportional_split(after.liquid_kw - st.liquid_kw, caps),
            strict=True,
        )
    )
    close = [lp for lp in ctx.loops if lp.kind in CLOSE_COUPLED_KINDS]
    added_air = 0.0  # this rack's own CRAH-pool air, when no close-coupled unit serves it
    loop_cfm_after = dict(before["loop_cfm"])
    loop_unknown_after = dict(before["loop_cfm_unknown"])
    if close:
        caps = [loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units) for lp in close]
        # Node air each unit now carries from this rack (COOLING_AIRFLOW: the unit's whole demand).
        node_before, _t = rack_node_airflow(st)
        node_after, _t = rack_node_airflow(after)
        cfm_b = close_coupled_cfm_split(node_before or 0.0, caps)
        cfm_a = close_coupled_cfm_split(node_after or 0.0, caps)
        for lp, b, a in zip(close, cfm_b, cfm_a, strict=True):
            unknown = (node_after is None) - (node_before is None)
            ledger.loop_cfm[lp.loop_id] += a - b
            ledger.loop_cfm_unknown[lp.loop_id] += unknown
            loop_cfm_after[lp.loop_id] = loop_cfm_after.get(lp.loop_id, 0.0) + a - b
            loop_unknown_after[lp.loop_id] = loop_unknown_after.get(lp.loop_id, 0) + unknown
        offers_before = proportional_split(st.air_kw, caps)
        offers_after = proportional_split(after.air_kw, caps)
        _c, terms_before = close_coupled_credit_kw(st.air_kw, close)
        _c, terms_after = close_coupled_credit_kw(after.air_kw, close)
        for lp, ob, oa, tb, ta in zip(close, offers_before, offers_after, terms_before, terms_after, strict=True):
            split[lp.loop_id] = oa - ob
            ledger.loop_room_kw[(lp.loop_id, room_id)] += oa - ob
            passed = (lp.other_room_heat_kw + oa) * ta[3] - (lp.other_room_heat_kw + ob) * tb[3]
            ledger.loop_room_pass_kw[(lp.loop_id, room_id)] += passed
            ledger.room_air_kw[room_id] += passed
    else:
        added_air = after.air_kw - st.air_kw
        ledger.room_air_kw[room_id] += added_air
    ledger.site_kw += added_power
    for s in ctx.sources:
        # Only sources on this rack's chain are in ctx.sources (selectors), so each carries the load.
        ledger.source_kw[s.source_id] += added_power
    loops_after = dict(before["loops"])
    for lid, kw in split.items():
        ledger.loop_kw[lid] += kw
        loops_after[lid] = loops_after.get(lid, 0.0) + kw
    # Node air this rack adds to its room's CRAH pool (COOLING_AIRFLOW): its own air when no close-coupled
    # unit serves it, else the change of what its units cannot move.
    known_before, known_after = rack_room_airflow_parts(st), rack_room_airflow_parts(after)
    direct_b, excess_b = rack_room_airflow_parts(st, unknown_cfm=0.0)
    direct_a, excess_a = rack_room_airflow_parts(after, unknown_cfm=0.0)
    added_cfm = direct_a - direct_b
    added_unknown = (known_after is None) - (known_before is None)
    ledger.room_cfm[room_id] += added_cfm
    for lid in excess_a.keys() | excess_b.keys():
        ledger.unit_excess_cfm[(lid, room_id)] += excess_a.get(lid, 0.0) - excess_b.get(lid, 0.0)
    ledger.room_cfm_unknown[room_id] += added_unknown
    ledger.own[rid] = {
        "power": before["power"] + added_power,
        "air": before["air"] + added_air,
        "loops": loops_after,
        "cfm": before["cfm"] + added_cfm,
        "cfm_unknown": before["cfm_unknown"] + added_unknown,
        "loop_cfm": loop_cfm_after,
        "loop_cfm_unknown": loop_unknown_after,
    }
    ledger.nodes[rid].extend(PlacedNode(model=model, u_position=u) for u in positions)
    for f in ctx.fabrics:
        for rail, n in rail_demand(model, f.purpose, len(positions), f.rail_optimized).items():
            ledger.fabric_ports[(f.fabric_id, rail)] += n
            ledger.own_fabric_ports[rid][(f.fabric_id, rail)] += n


def max_fit(ctx: RackContext, model: NodeModelSpec, *, limit: int, ignore: frozenset[str] = frozenset()):
    """Largest quantity (<= limit) that passes every rule not in ``ignore``, with its check result.

    Rules only get harder as units are added, so a binary search over 1..limit finds it. Returns
    (0, None) when not even one unit fits.
    """
    if limit <= 0:
        return 0, None
    upper = 1 if model.rack_scale else min(limit, ctx.rack.u_height // max(model.u_height, 1))
    best, best_result = 0, None
    lo, hi = 1, upper
    while lo <= hi:
        mid = (lo + hi) // 2
        result = engine.check_placement(ctx, Placement(model=model, quantity=mid))
        if _passes(result, ignore):
            best, best_result, lo = mid, result, mid + 1
        else:
            hi = mid - 1
    return best, best_result


def _passes(result, ignore: frozenset[str]) -> bool:
    return all(c.status != "fail" or c.code in ignore for c in result.checks)


@dataclass(frozen=True)
class FeasibilityPlan:
    requested: int
    placements: tuple[dict, ...]
    unplaced: int
    binding: dict[str, int]
    retrofits: tuple[dict, ...]
    energy: dict
    model: NodeModelSpec
    fabric: dict | None = None  # only for sites whose racks are in a fabric (other plans are unchanged)

    @property
    def fits_now(self) -> bool:
        return self.unplaced == 0

    def to_dict(self) -> dict:
        return {
            "requested": self.requested,
            "fits_now": self.fits_now,
            "placed": self.requested - self.unplaced,
            "placements": list(self.placements),
            "unplaced": self.unplaced,
            "binding": self.binding,
            "retrofits": list(self.retrofits),
            "energy": self.energy,
            **({"fabric": self.fabric} if self.fabric is not None else {}),
        }


def plan_feasibility(
    snapshot: SiteSnapshot, model: NodeModelSpec, quantity: int, *, retrofit_config=None
) -> FeasibilityPlan:
    """Place up to ``quantity`` units of ``model`` across the site. Writes nothing."""
    ledger = Ledger()
    racks_by_row: dict[int, list] = defaultdict(list)
    for rack in snapshot.racks:
        racks_by_row[rack.row_id].append(rack)

    # Row order: how many units each row could take on its own (standalone fits), most first; ties by name.
    standalone: dict[int, int] = {}
    for rack in snapshot.racks:
        standalone[rack.id] = max_fit(snapshot.contexts[rack.id], model, limit=quantity)[0]
    row_names = {row.id: (row.room_id, row.name) for row in snapshot.rows}
    row_order = sorted(
        racks_by_row, key=lambda rid: (-min(quantity, sum(standalone[r.id] for r in racks_by_row[rid])), row_names[rid])
    )

    placements: list[dict] = []
    links_by_fabric: dict[int, list] = {}
    remaining = quantity
    for row_id in row_order:
        for rack in racks_by_row[row_id]:
            if remaining == 0:
                break
            if standalone[rack.id] == 0:
                continue
            ctx = current_context(snapshot.contexts[rack.id], ledger)
            count, result = max_fit(ctx, model, limit=remaining)
            if count == 0:
                continue
            positions = result.positions
            for f in ctx.fabrics:
                links_by_fabric.setdefault(f.fabric_id, [f, []])[1].extend(rack_links(f, model, len(positions)))
            _record(ledger, ctx, model, positions)
            placements.extend({"rack": rack.id, "rack_name": rack.name, "u_position": u} for u in positions)
            remaining -= count

    binding: Counter = Counter()
    retrofits: list[dict] = []
    if remaining:
        binding, retrofits = _what_binds(snapshot, ledger, model, remaining, retrofit_config)
    fabric = fabric_summary(snapshot, links_by_fabric, ledger) if links_by_fabric else None
    energy = order_energy(
        snapshot.site, model, quantity, retrofit_config, optics_kw=fabric["optics_kw"] if fabric else 0.0
    )
    return FeasibilityPlan(
        requested=quantity,
        placements=tuple(placements),
        unplaced=remaining,
        binding=dict(sorted(binding.items(), key=lambda kv: (-kv[1], kv[0]))),
        retrofits=tuple(retrofits),
        energy=energy,
        model=model,
        fabric=fabric,
    )


def fabric_summary(snapshot: SiteSnapshot, links_by_fabric: dict[int, list], ledger: Ledger) -> dict:
    """Per fabric the plan used: leaf ports per rail (before, planned, of capacity), rail alignment, the cable
    and optics bill of materials and the optics power; in all, the optics kW the energy counts."""
    from planner.engine.fabric import pool

    out = []
    optics_kw = 0.0
    for fid, (fabric, links) in sorted(links_by_fabric.items()):
        bom = bill_of_materials(links)
        optics_kw += bom["optics_kw"]
        rails = sorted({rail for (f, rail) in ledger.fabric_ports if f == fid})
        used_before = _fabric_ports_now(snapshot, fid)
        ports = []
        for rail in rails:
            cap = sum(lf.down_ports for lf in pool(fabric, rail, None))
            planned = ledger.fabric_ports[(fid, rail)]
            before = used_before.get(rail, 0)
            ports.append({"rail": rail, "used_before": before, "planned": planned, "capacity": cap})
        out.append(
            {
                "fabric": fid,
                "name": fabric.name,
                "kind": fabric.kind,
                "rail_optimized": fabric.rail_optimized,
                "rail_alignment": "kept: port k of every placed node goes to a leaf of rail k"
                if fabric.rail_optimized
                else "not rail-optimized",
                "within_reach": all(link.medium is not None for link, _n in links),
                "leaf_ports": ports,
                "bill_of_materials": bom,
            }
        )
    return {"fabrics": out, "optics_kw": round(optics_kw, 6)}


def _fabric_ports_now(snapshot: SiteSnapshot, fabric_id: int) -> dict[int, int]:
    """Ports used on a fabric before the plan, per rail: other racks' + the rack's own, from one served rack."""
    from planner.engine.fabric import rail_demand as demand

    for ctx in snapshot.contexts.values():
        for f in ctx.fabrics:
            if f.fabric_id != fabric_id:
                continue
            used = dict(f.other_used)
            for n in ctx.nodes:
                for rail, k in demand(n.model, f.purpose, 1, f.rail_optimized).items():
                    used[rail] = used.get(rail, 0) + k
            return used
    return {}


def _what_binds(snapshot: SiteSnapshot, ledger: Ledger, model: NodeModelSpec, remaining: int, retrofit_config):
    """For every rack: which rule stops one more unit; per row: what a power and/or cooling retrofit would
    unlock. A rack counts when every rule that stops it is one a retrofit resolves (``RETROFIT_CODES``); it
    unlocks as many units as fit with those rules set aside, and its retrofit must resolve every one of them
    that fails at that count (power and cooling together: a combined plan)."""
    binding: Counter = Counter()
    unlock_by_row: dict[int, dict] = {}
    rows = {row.id: row for row in snapshot.rows}
    for rack in snapshot.racks:
        ctx = current_context(snapshot.contexts[rack.id], ledger)
        result = engine.check_placement(ctx, Placement(model=model, quantity=1))
        failing = {c.code for c in result.checks if c.status == "fail"}
        for code in failing:
            binding[code] += 1
        if failing and failing <= RETROFIT_CODES:
            count, at_count = max_fit(ctx, model, limit=remaining, ignore=RETROFIT_CODES)
            if count:
                codes = failing | {c.code for c in at_count.checks if c.status == "fail"}
                entry = unlock_by_row.setdefault(rack.row_id, {"racks": [], "units": 0, "codes": set(), "kw": []})
                entry["racks"].append(rack.id)
                entry["units"] += count
                entry["codes"] |= codes
                entry["kw"].append((ctx, count, sorted(codes)))
    retrofits = []
    left = remaining
    for row_id, entry in sorted(unlock_by_row.items(), key=lambda kv: (-kv[1]["units"], rows[kv[0]].name)):
        if left <= 0:
            break
        unlocks = min(entry["units"], left)
        left -= unlocks
        options = []
        for ctx, count, codes in entry["kw"]:
            busways = _busways(snapshot, ledger, ctx)
            opts = engine_retrofits_for(ctx, model, count, codes, retrofit_config, busways=busways)
            if opts and opts[0]["resolves"]:  # an option resolving nothing is never the answer
                options.append(opts[0])
        best = options[0] if options else None
        capex = [o.get("capex_usd") for o in options]
        complete = len(options) == len(entry["kw"])
        weeks = [o["lead_time_weeks"] for o in options if o.get("lead_time_weeks") is not None]
        retrofits.append(
            {
                "row": row_id,
                "row_name": rows[row_id].name,
                "racks": entry["racks"],
                "unlocks": unlocks,
                "resolves": sorted(entry["codes"]),
                "kind": best["kind"] if best else None,
                "capex_usd": round(sum(capex), 2) if capex and complete and all(c is not None for c in capex) else None,
                "notes": best["notes"] if best else "No retrofit option in the configured bands resolves this.",
                # additions (issue 14): a combined plan's parts, what the racks' best options leave failing
                "combines": best["combines"] if best else [],
                "still_failing": sorted(
                    {c for o in options for c in o["still_failing"]} | (set() if complete else set(entry["codes"]))
                ),
                "lead_time_weeks": max(weeks) if weeks else None,
            }
        )
    return binding, retrofits


def _busways(snapshot: SiteSnapshot, ledger: Ledger, ctx: RackContext):
    """The site's busway chains as ``ctx``'s rack sees them with the plan so far (no query)."""
    from planner.engine.rules.power import fed_source_ids
    from planner.selectors import busway_chains

    if snapshot.budgets is None:
        return ()
    rid = ctx.rack.rack_id
    own = snapshot.budgets.share(rid).power_kw + ledger.own.get(rid, _NONE)["power"]
    return busway_chains(
        snapshot.budgets, snapshot.site, fed=fed_source_ids(ctx), own_power_kw=own, planned_kw=ledger.source_kw
    )


def engine_retrofits_for(
    ctx: RackContext, model: NodeModelSpec, count: int, failing: list[str], config, *, busways=None
) -> list[dict]:
    """Retrofit options (dicts, best first) for a rack that would carry ``count`` more units of ``model``."""
    from planner.retrofits import retrofit_options

    return retrofit_options(ctx, extra=((model, count),), failing_codes=tuple(failing), config=config, busways=busways)


def order_energy(
    site,
    model: NodeModelSpec,
    quantity: int,
    config=None,
    *,
    utilization: float = 1.0,
    idle_fraction=None,
    optics_kw: float = 0.0,
) -> dict:
    """Power and yearly energy of an order, facility side, at the site's PUE (``engine.costs.site_pue``: the
    same default as the TCO's on-prem energy) and ``engine.costs.facility_energy_kwh`` (the TCO's formula):
    max power x (idle + (1 - idle) x utilisation) x 8,760 h x PUE. Default: max power all year (GPU systems
    train at full power); idle None = the configured idle fraction, else 0 (the TCO's point figure).
    ``optics_kw``: the plan's fabric optics (always on, counted at full power)."""
    from planner.retrofits import retrofit_config

    config = config or retrofit_config()
    it_kw = model.max_power_kw * quantity
    pue, pue_basis = site_pue(site.design_pue, config)
    idle = idle_fraction if idle_fraction is not None else config.tco_idle_fraction_of_max
    annual_kwh = facility_energy_kwh(it_kw, HOURS_PER_YEAR, pue, utilization, idle or 0.0)
    annual_kwh += facility_energy_kwh(optics_kw, HOURS_PER_YEAR, pue)
    it_kw += optics_kw
    price, carbon = site.energy_price_per_kwh, site.carbon_kg_per_kwh
    if utilization == 1.0:
        load = "IT load at max power"
    else:
        idle_text = f"idle {idle:.0%} of max" if idle is not None else "idle unknown, taken as 0"
        load = f"IT load at max power x (idle + (1 - idle) x {utilization:.0%} utilisation; {idle_text})"
    return {
        "kw": round(it_kw, 3),
        "pue": pue,
        "annual_kwh": round(annual_kwh, 1),
        "annual_cost": None if price is None else round(annual_kwh * price, 2),
        "annual_co2_kg": None if carbon is None else round(annual_kwh * carbon, 1),
        "basis": f"{load} x 8,760 h x PUE {pue:g} ({pue_basis})"
        + (f"; includes {optics_kw:.3f} kW of fabric optics (reference §11.4)" if optics_kw else ""),
    }
