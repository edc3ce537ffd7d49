"""Pages of the shared elements: a row, a power source (its chain as a tree, A and B side by side) and a cooling
loop (load, headroom, flow, racks served, redundancy).

Every figure comes from the site's one load flow: ``selectors.site_snapshot`` (its ``budgets``: the kW on each
source and loop, as the rules and ``GET sites/{id}/headroom/`` read them), ``planner.headroom`` and the engine's
rating formulas (``selectors.source_rating``, ``flow.loop_usable``, ``units.coolant_flow_lpm``). Each page reads
one snapshot: a fixed number of queries whatever the size of the site.
"""

from __future__ import annotations

from collections import defaultdict

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from cooling.models import CoolingLoop
from planner import headroom as headroom_mod
from planner import selectors
from planner.engine import flow
from planner.engine.rules.power import fed_source_ids
from planner.engine.units import FLUIDS, coolant_flow_lpm, loop_airflow_cfm
from planner.web.access import page, reader_required
from planner.web.labels import choice_label
from planner.web.metrics import figures_from_context
from racks.models import PowerSource, Row


def _pct(load: float, cap: float | None) -> float | None:
    return load / cap * 100 if cap else None


def source_node(row, site, budgets) -> dict:
    """One power source with its usable capacity (derated as the rules do), load and headroom (kW)."""
    _, usable = selectors.source_rating(row, site)
    load = budgets.source_kw.get(row.id, 0.0) if budgets is not None else 0.0
    return {
        "id": row.id,
        "name": row.name,
        "kind": choice_label(row.kind, "source_kind"),
        "usable_kw": usable,
        "load_kw": load,
        "headroom_kw": usable - load,
        "used_pct": _pct(load, usable),
    }


def _loop_facts(lp, snapshot) -> dict:
    """A loop's usable capacity, heat load and headroom (kW) from the site's load flow. A CRAH/CRAC unit pools
    with the others of its room (and the site-wide ones): load and capacity are then the pool's."""
    budgets = snapshot.budgets
    usable = flow.loop_usable(lp.unit_capacity_kw, lp.units, lp.redundant_units)
    pool = lp.kind in flow.ROOM_POOL_KINDS
    if pool:
        room_ids = [lp.room_id] if lp.room_id is not None else [r.id for r in snapshot.rooms]
        load = sum(budgets.room_air_heat_kw.get(r, 0.0) for r in room_ids) if budgets is not None else 0.0
        capacity = sum(
            flow.loop_usable(o.unit_capacity_kw, o.units, o.redundant_units)
            for o in snapshot.loops
            if o.kind in flow.ROOM_POOL_KINDS and (o.room_id in room_ids or o.room_id is None)
        )
    else:
        load = headroom_mod.loop_heat_kw(budgets, lp.kind, lp.id)
        capacity = usable
    return {
        "usable_kw": usable,
        "pool": pool,
        "capacity_kw": capacity,
        "load_kw": load,
        "headroom_kw": capacity - load,
        "used_pct": _pct(load, capacity),
    }


def room_elements(snapshot, room_id: int) -> dict:
    """The loops cooling a room (its own and the site-wide ones) and the power sources feeding its racks."""
    loops = [
        {"loop": lp, "kind": choice_label(lp.kind, "loop_kind"), **_loop_facts(lp, snapshot)}
        for lp in snapshot.loops
        if lp.room_id in (room_id, None)
    ]
    row_ids = {row.id for row in snapshot.rows if row.room_id == room_id}
    fed: set[int] = set()
    for rack in snapshot.racks:
        if rack.row_id in row_ids:
            fed |= fed_source_ids(snapshot.contexts[rack.id])
    budgets = snapshot.budgets
    rows = budgets.sources if budgets is not None else {}
    sources = [source_node(rows[sid], snapshot.site, budgets) for sid in sorted(fed, key=lambda i: rows[i].name)]
    return {"loops": loops, "sources": sources}


@reader_required
def row_page(request: HttpRequest, pk: int) -> HttpResponse:
    from planner.web.views import binding_label, headroom_rows  # the dashboard's own table builders

    row = get_object_or_404(Row.objects.select_related("room__site"), pk=pk)
    snapshot = selectors.site_snapshot(row.room.site_id)
    results = headroom_mod.rack_headroom_results(snapshot)
    site_head = headroom_mod.site_headroom(snapshot, results)
    rack_heads = {rid: h.to_dict() for rid, h in results.items()}
    head = next(r for room in site_head["rooms"] for r in room["rows"] if r["id"] == row.id)
    racks = []
    for rack in sorted((r for r in snapshot.racks if r.row_id == row.id), key=lambda r: r.position):
        fig = figures_from_context(snapshot.contexts[rack.id])
        racks.append(
            {
                "rack": rack,
                "kw": fig.kw,
                "air_kw": fig.air_kw,
                "liquid_kw": fig.liquid_kw,
                "power_headroom_kw": rack_heads[rack.id]["power"]["headroom_kw"],
                "binding": binding_label(rack_heads[rack.id].get("binding")),
            }
        )
    return page(
        request,
        "planner/row_detail.html",
        {
            "row": row,
            "room": row.room,
            "site": row.room.site,
            "containment": choice_label(row.containment, "containment"),
            "headroom": headroom_rows(head),
            "binding": binding_label(head.get("binding")),
            "racks": racks,
            "it_kw": sum(r["kw"] for r in racks),
        },
    )


@reader_required
def power_source_page(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(PowerSource.objects.select_related("site"), pk=pk)
    site = source.site
    snapshot = selectors.site_snapshot(site.pk)
    budgets = snapshot.budgets
    rows = budgets.sources if budgets is not None else {}
    children = defaultdict(list)
    for r in rows.values():
        children[r.parent_id].append(r)
    chain = []  # this source and every one above it, the utility side last
    sid, seen = source.pk, set()
    while sid is not None and sid in rows and sid not in seen:
        seen.add(sid)
        chain.append(source_node(rows[sid], site, budgets))
        sid = rows[sid].parent_id
    below = []  # (depth, node), depth first in name order
    subtree = {source.pk}

    def walk(parent_id: int, depth: int) -> None:
        for r in sorted(children.get(parent_id, ()), key=lambda r: r.name):
            if r.id in subtree:
                continue
            subtree.add(r.id)
            below.append({"depth": depth, **source_node(r, site, budgets)})
            walk(r.id, depth + 1)

    walk(source.pk, 1)
    sides = {"A": [], "B": []}
    for rack in sorted(snapshot.racks, key=lambda r: r.name):
        ctx = snapshot.contexts[rack.id]
        share = budgets.share(rack.id).power_kw if budgets is not None else 0.0
        for side in ("A", "B"):
            pdus = [p for p in ctx.pdus if p.side == side and p.source_id in subtree]
            if pdus:
                sides[side].append(
                    {
                        "rack": rack,
                        "kw": share,
                        "pdus": ", ".join(p.name for p in pdus),
                        "via": ", ".join(sorted({rows[p.source_id].name for p in pdus})),
                    }
                )
    side_rows = [
        {"side": side, "racks": items, "kw": sum(i["kw"] for i in items)} for side, items in sorted(sides.items())
    ]
    return page(
        request,
        "planner/power_source_detail.html",
        {
            "source": source,
            "site": site,
            "node": chain[0] if chain else source_node(source, site, budgets),
            "above": chain[1:],
            "below": below,
            "sides": side_rows,
            "derating": selectors.source_rating(source, site)[0],
        },
    )


@reader_required
def cooling_loop_page(request: HttpRequest, pk: int) -> HttpResponse:
    loop = get_object_or_404(CoolingLoop.objects.select_related("site", "room"), pk=pk)
    snapshot = selectors.site_snapshot(loop.site_id)
    lp = next(o for o in snapshot.loops if o.id == loop.id)
    facts = _loop_facts(lp, snapshot)
    budgets = snapshot.budgets
    if facts["pool"]:
        room_of_row = {row.id: row.room_id for row in snapshot.rows}
        served = [r for r in snapshot.racks if lp.room_id is None or room_of_row[r.row_id] == lp.room_id]
    else:
        served = [r for r in snapshot.racks if budgets is not None and lp.id in budgets.loops_by_rack.get(r.id, ())]
    flow_needed = None
    if lp.kind in flow.LIQUID_KINDS and lp.fluid in FLUIDS and lp.delta_t_c and lp.delta_t_c > 0:
        flow_needed = coolant_flow_lpm(facts["load_kw"], lp.delta_t_c, lp.fluid)
    air_cfm = loop_airflow_cfm(lp.unit_airflow_cfm, lp.units, lp.redundant_units)
    air_needed = None
    if budgets is not None and lp.kind in flow.CLOSE_COUPLED_KINDS:
        air_needed = budgets.close_offered_cfm.get(lp.id)
    one_unit_lost_kw = lp.unit_capacity_kw * (lp.units - 1)
    return page(
        request,
        "planner/cooling_loop_detail.html",
        {
            "loop": loop,
            "site": loop.site,
            "kind": choice_label(lp.kind, "loop_kind"),
            "fluid": choice_label(lp.fluid, "fluid"),
            **facts,
            "served": [{"rack": r, "kw": figures_from_context(snapshot.contexts[r.id]).kw} for r in served[:500]],
            "served_count": len(served),
            "flow_needed_lpm": flow_needed,
            "air_cfm": air_cfm,
            "air_needed_cfm": air_needed,
            "redundancy": f"N+{lp.redundant_units}" if lp.redundant_units else "N (no spare unit)",
            "one_unit_lost_kw": one_unit_lost_kw,
            "one_unit_lost_ok": one_unit_lost_kw >= facts["load_kw"] if not facts["pool"] else None,
        },
    )
