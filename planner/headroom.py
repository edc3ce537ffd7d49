"""Site, room and row headroom: sums of rack headroom, bounded by the budgets racks share.

Rack figures come from ``engine.rack_headroom`` on a site snapshot (no per-rack queries). Shared budgets
bound the sums: the site's utility feed and top power sources bound power; a room's air loops bound its
air cooling; liquid loops are counted once each, not once per rack they serve.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from django.conf import settings

from planner import engine, selectors
from planner.bulk import gc_paused
from planner.engine import flow
from planner.engine.results import json_number
from planner.engine.rules import power as engine_power
from planner.engine.units import node_heat_split_kw
from planner.selectors import SiteSnapshot

DIMENSIONS = ("power", "cooling_air", "cooling_liquid", "rack_load", "floor", "space")
KW_DIMS = {"power": "kw", "cooling_air": "kw", "cooling_liquid": "kw"}


def rack_headrooms(snapshot: SiteSnapshot, *, with_fits: bool = False) -> dict[int, dict]:
    """Headroom dict of every rack. ``with_fits`` also counts per-model fits (slower: several checks each)."""
    return {rid: h.to_dict() for rid, h in rack_headroom_results(snapshot, with_fits=with_fits).items()}


def rack_headroom_results(snapshot: SiteSnapshot, *, with_fits: bool = False) -> dict[int, engine.RackHeadroom]:
    """``engine.rack_headroom`` of every rack of the snapshot (rack id -> result); {} for a site without racks."""
    models = snapshot.models if with_fits else []
    return {rid: engine.rack_headroom(ctx, models) for rid, ctx in snapshot.contexts.items()}


# Columns of a rack's row in the group sums: the figures ``RackHeadroom.to_dict`` gives, rounded as it rounds
# them (so a sum from the results and one from the dicts are the same number).
(P_CAP, P_LOAD, P_HEAD, A_CAP, A_LOAD, A_HEAD, L_CAP, L_LOAD, L_HEAD) = range(9)
(FREE_U, BLOCK_U, K_CAP, K_LOAD, K_HEAD, F_CAP, F_LOAD, F_HEAD) = range(9, 17)


def _rack_row(h: engine.RackHeadroom) -> tuple:
    n = json_number
    p, a, li, k, f = h.power, h.cooling_air, h.cooling_liquid, h.rack_load, h.floor
    return (
        n(p.capacity_kw),
        n(p.load_kw),
        n(p.headroom_kw),
        n(a.capacity_kw),
        n(a.load_kw),
        n(a.headroom_kw),
        n(li.capacity_kw),
        n(li.load_kw),
        n(li.headroom_kw),
        h.space.free_u,
        h.space.largest_free_block_u,
        n(k.capacity_kg),
        n(k.load_kg),
        n(k.headroom_kg),
        n(f.capacity_kg_m2),
        n(f.load_kg_m2),
        n(f.headroom_kg_m2),
    )


def _dim(cols: list[tuple], cap: int, unit: str) -> dict:
    """A dimension's sums over the group's racks: capacity, load and the headroom of racks that have any."""
    return {
        f"capacity_{unit}": round(sum(cols[cap]), 3),
        f"load_{unit}": round(sum(cols[cap + 1]), 3),
        f"headroom_{unit}": round(sum(x for x in cols[cap + 2] if x > 0), 3),
    }


def _group(rows: list[tuple], shared: dict) -> dict:
    """One group's figures: per-rack sums (``rows`` from ``_rack_row``), then bounded by the shared elements it
    uses, each counted once.

    ``shared``: "power_head_kw" (the group's power headroom after its sources and the utility), "air"
    ({capacity_kw, load_kw, headroom_kw} over its air-side units, each once, or None for a row) and
    "liquid" (the same over its liquid loops, each once; None: no liquid loop serves it).
    """
    cols = list(zip(*rows, strict=True)) if rows else [()] * 17
    out = {
        "power": _dim(cols, P_CAP, "kw"),
        "cooling_air": _dim(cols, A_CAP, "kw"),
        "cooling_liquid": _dim(cols, L_CAP, "kw"),
        "space": {"free_u": sum(cols[FREE_U]), "largest_free_block_u": max(cols[BLOCK_U], default=0)},
        "rack_load": _dim(cols, K_CAP, "kg"),
        "floor": {
            # Floor load is per rack: the group reports its worst rack.
            "capacity_kg_m2": min(cols[F_CAP], default=0.0),
            "load_kg_m2": max(cols[F_LOAD], default=0.0),
            "headroom_kg_m2": min(cols[F_HEAD], default=0.0),
        },
        "rack_count": len(rows),
    }
    power = out["power"]
    power["headroom_kw"] = round(min(power["headroom_kw"], max(shared["power_head_kw"], 0.0)), 3)
    air = out["cooling_air"]
    if shared.get("air") is not None:
        units = shared["air"]
        air["room_capacity_kw"] = round(units["capacity_kw"], 3)
        air["headroom_kw"] = round(min(air["headroom_kw"], units["headroom_kw"]), 3)
    if shared.get("liquid") is not None:
        out["cooling_liquid"] = shared["liquid"]
    for dim in ("power", "cooling_air", "cooling_liquid"):
        d = out[dim]
        d["headroom_kw"] = round(min(d["headroom_kw"], d["capacity_kw"]), 3)
    # Power free where cooling is exhausted, and cooling free where power is: of the group's own headrooms
    # (a shared loop's or source's headroom once), so neither exceeds its capacity.
    cool_free = max(air["headroom_kw"], 0.0) + max(out["cooling_liquid"]["headroom_kw"], 0.0)
    power_free = max(power["headroom_kw"], 0.0)
    out["stranded_kw"] = {
        "power": round(max(power_free - cool_free, 0.0), 3),
        "cooling": round(max(cool_free - power_free, 0.0), 3),
    }
    out["binding"] = _binding(out)
    return out


def _binding(group: dict) -> str | None:
    """The dimension with the least headroom relative to its capacity (None for an empty group)."""
    best, best_ratio = None, math.inf
    for dim, unit in (("power", "kw"), ("cooling_air", "kw"), ("cooling_liquid", "kw"), ("rack_load", "kg")):
        cap = group[dim][f"capacity_{unit}"]
        if cap <= 0:
            continue
        ratio = group[dim][f"headroom_{unit}"] / cap
        if ratio < best_ratio:
            best, best_ratio = dim, ratio
    if group["rack_count"] and group["space"]["free_u"] == 0:
        return "space"
    return best


def _estimated_fits(rows: list[tuple], immersed: list[bool], models, power_headroom_kw: float) -> dict[str, int]:
    """Per model: sum over racks of a per-rack bound (power, cooling, weight, space), capped by the group's
    power headroom. An estimate for the overview; ``POST feasibility/`` gives the exact, checked plan.
    ``rows`` from ``_rack_row``; ``immersed[k]``: rack ``rows[k]`` sits in an immersion tank (all its heat to
    liquid)."""
    # The per-rack figures once (a site has thousands of racks and the catalogue a dozen models).
    # Racks with the same figures bound the same way: each distinct row once, times how many racks have it.
    distinct = Counter(
        (
            r[BLOCK_U],
            bool(r[FREE_U] and r[K_LOAD] == 0 and r[P_LOAD] == 0),
            max(r[P_HEAD], 0.0),
            max(r[A_HEAD], 0.0),
            max(r[L_HEAD], 0.0),
            max(r[K_HEAD], 0.0),
            immersion,
        )
        for r, immersion in zip(rows, immersed, strict=True)
    )
    floor = math.floor
    out = {}
    for m in models:
        total = 0
        u = max(m.u_height, 1)
        power = m.max_power_kw
        splits = {imm: node_heat_split_kw(m, imm) for imm in (False, True)}
        weight = m.weight_kg if m.weight_kg > 0 and not m.rack_scale else 0.0
        for (block_u, empty, power_head, air_head, liq_head, load_head, immersion), racks in distinct.items():
            n = (1 if empty else 0) if m.rack_scale else block_u // u
            if n <= 0:
                continue
            if power > 0:
                n = min(n, floor(power_head / power + 1e-9))
                air_kw, liq_kw = splits[immersion]
                if air_kw > 0:
                    n = min(n, floor(air_head / air_kw + 1e-9))
                if liq_kw > 0:
                    n = min(n, floor(liq_head / liq_kw + 1e-9))
            if weight:
                n = min(n, floor(load_head / weight + 1e-9))
            if n > 0:
                total += n * racks
        if power > 0:
            total = min(total, floor(max(power_headroom_kw, 0.0) / power + 1e-9))
        out[m.slug] = total
    return out


# Site headroom answers (small: rooms and rows, no per-rack figures) per (site, budget token).
_site_headroom_cache = selectors.BudgetCache(settings.PLANNER_BUDGET_CACHE_SITES)


def loop_heat_kw(budgets, kind: str, loop_id: int) -> float:
    """Heat on one loop over the whole site (kW): liquid heat, or air offered to a close-coupled unit. A CRAH
    pool's units share their room's air heat left (``budgets.room_air_heat_kw``): 0 here, see ``air_units``."""
    if budgets is None:
        return 0.0
    if kind in flow.LIQUID_KINDS:
        return budgets.loop_liquid_heat_kw.get(loop_id, 0.0)
    if kind in flow.CLOSE_COUPLED_KINDS:
        return budgets.close_offered_kw.get(loop_id, 0.0)
    return 0.0


def site_headroom_of(site_id: int) -> dict:
    """``site_headroom`` of the site as committed now, from this process's cache while the site's budget
    token holds (every write to the site or anything in it renews the token). Raises Site.DoesNotExist.
    The dict is shared between requests: read it, never change it."""
    return selectors.token_cached(_site_headroom_cache, site_id, lambda: _site_headroom_now(site_id))


def _site_headroom_now(site_id: int) -> dict:
    with gc_paused():  # thousands of rack results and rows, built and dropped at once
        return site_headroom(selectors.site_snapshot(site_id))


def site_headroom(snapshot: SiteSnapshot, racks: dict[int, engine.RackHeadroom] | None = None) -> dict:
    """The contract's ``sites/{id}/headroom/``: site totals, ``rooms`` with their ``rows`` nested.

    Shared elements (a power source, the utility, a cooling loop) bound each group once: a group's power
    headroom is at most what each source feeding it has left plus the headroom of its racks that source
    does not feed; its cooling capacity and headroom are those of the loops serving it, each once.
    """
    results = racks if racks is not None else rack_headroom_results(snapshot)
    racks = {rid: _rack_row(h) for rid, h in results.items()}
    site = snapshot.site
    budgets = snapshot.budgets
    by_row: dict[int, list[int]] = defaultdict(list)
    by_room: dict[int, list[int]] = defaultdict(list)
    room_of_row = {row.id: row.room_id for row in snapshot.rows}
    for rack in snapshot.racks:
        by_row[rack.row_id].append(rack.id)
        by_room[room_of_row[rack.row_id]].append(rack.id)
    fed: dict[int, set[int]] = {}  # rack id -> sources on its chains
    source_cap: dict[int, float] = {}
    loops_of: dict[int, set[int]] = {}  # rack id -> cooling loops serving it
    loop_spec: dict[int, object] = {}
    for rid, ctx in snapshot.contexts.items():
        fed[rid] = engine_power.fed_source_ids(ctx)
        for s in ctx.sources:
            source_cap[s.source_id] = s.usable_kw
        ids = set()
        for lp in (*ctx.loops, *ctx.room.air_loops):
            if lp.loop_id is not None:
                ids.add(lp.loop_id)
                loop_spec.setdefault(lp.loop_id, lp)
        loops_of[rid] = ids
    source_load = budgets.source_kw if budgets is not None else {}
    total_kw = sum(h[P_LOAD] for h in racks.values())
    utility_headroom = None if site.utility_capacity_kw is None else site.utility_capacity_kw - total_kw
    usable_of = {lp.id: flow.loop_usable(lp.unit_capacity_kw, lp.units, lp.redundant_units) for lp in snapshot.loops}
    kind_of = {lp.id: lp.kind for lp in snapshot.loops}

    def loop_load_kw(loop_id: int) -> float:
        return loop_heat_kw(budgets, kind_of[loop_id], loop_id)

    def power_head(rack_ids: list[int]) -> float:
        # Each source feeding the group bounds it: its own headroom plus the racks it does not feed.
        total = 0.0
        fed_sum: dict[int, float] = defaultdict(float)
        for rid in rack_ids:
            h = racks[rid][P_HEAD]
            h = h if h > 0 else 0.0
            total += h
            for sid in fed.get(rid, ()):
                fed_sum[sid] += h
        best = total
        for sid, under in fed_sum.items():
            left = source_cap[sid] - source_load.get(sid, 0.0)
            bound = (left if left > 0 else 0.0) + total - under
            if bound < best:
                best = bound
        if utility_headroom is not None:
            best = min(best, max(utility_headroom, 0.0))
        return best

    def group_loops(rack_ids: list[int], room_ids) -> set[int]:
        ids = {i for rid in rack_ids for i in loops_of.get(rid, ())}
        if room_ids is not None:  # a room or the site: its own units too, whether or not a rack uses them
            ids |= {lp.id for lp in snapshot.loops if lp.room_id in room_ids or lp.room_id is None}
        return ids

    def air_units(loop_ids: set[int], room_ids) -> dict | None:
        if room_ids is None:
            return None
        cap = flow.air_capacity_kw((kind_of[i], usable_of[i]) for i in loop_ids)
        load = 0.0
        head = 0.0
        for i in loop_ids:
            if kind_of[i] in flow.CLOSE_COUPLED_KINDS:
                load += loop_load_kw(i)
                head += max(usable_of[i] - loop_load_kw(i), 0.0)
        crah = [i for i in loop_ids if kind_of[i] in flow.ROOM_POOL_KINDS]
        crah_cap = sum(usable_of[i] for i in crah)
        left = sum(budgets.room_air_heat_kw.get(r, 0.0) for r in room_ids) if budgets is not None else 0.0
        head += max(crah_cap - left, 0.0)
        return {"capacity_kw": cap, "load_kw": load + left, "headroom_kw": min(head, cap)}

    def liquid_units(loop_ids: set[int]) -> dict | None:
        ids = sorted(i for i in loop_ids if kind_of.get(i) in flow.LIQUID_KINDS)
        if not ids:
            return None
        cap = flow.liquid_capacity_kw((kind_of[i], usable_of[i]) for i in ids)
        load = sum(loop_load_kw(i) for i in ids)
        head = sum(max(usable_of[i] - loop_load_kw(i), 0.0) for i in ids)
        return {"capacity_kw": round(cap, 3), "load_kw": round(load, 3), "headroom_kw": round(min(head, cap), 3)}

    def group(rack_ids: list[int], room_ids) -> dict:
        loop_ids = group_loops(rack_ids, room_ids)
        shared = {
            "power_head_kw": power_head(rack_ids),
            "air": air_units(loop_ids, room_ids),
            "liquid": liquid_units(loop_ids),
        }
        return _group([racks[r] for r in rack_ids], shared)

    rooms_out = []
    for room in snapshot.rooms:
        g = group(by_room.get(room.id, []), {room.id})
        rows_out = []
        for row in snapshot.rows:
            if row.room_id != room.id:
                continue
            rgroup = group(by_row.get(row.id, []), None)
            rows_out.append({"id": row.id, "name": row.name, "containment": row.containment, **rgroup})
        rooms_out.append({"id": room.id, "name": room.name, "floor_type": room.floor_type, **g, "rows": rows_out})

    all_rows = list(racks.values())
    immersed = [rid in snapshot.contexts and flow.immersed(snapshot.contexts[rid].loops) for rid in racks]
    totals = group(list(racks), {r.id for r in snapshot.rooms})
    totals["power"]["utility_capacity_kw"] = site.utility_capacity_kw
    totals["fits"] = _estimated_fits(all_rows, immersed, snapshot.models, totals["power"]["headroom_kw"])
    totals["fits_basis"] = "estimate from per-rack headroom; POST /api/v1/feasibility/ gives the checked plan"
    fabric = site_fabric_headroom(snapshot)
    if fabric is not None:  # sites with no fabric keep the shape they had
        totals["fabric"] = fabric
    return {"site": site.id, "name": site.name, **totals, "rooms": rooms_out}


def site_fabric_headroom(snapshot: SiteSnapshot) -> dict | None:
    """Leaf ports left on each fabric of the site at its tightest rail (``engine.fabric.fabric_headroom``; a
    fabric's use is the same from every rack it serves: other racks' + the rack's own). None: no fabric."""
    from planner.engine.fabric import fabric_headroom

    seen: dict[int, dict] = {}
    for ctx in snapshot.contexts.values():
        for f in ctx.fabrics:
            if f.fabric_id in seen:
                continue
            seen[f.fabric_id] = fabric_headroom((f,), ctx.nodes)["fabrics"][0]
    if not seen:
        return None
    out = [seen[k] for k in sorted(seen)]
    return {"fabrics": out, "headroom_ports": min(x["headroom_ports"] for x in out)}
