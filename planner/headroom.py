"""Site, room and row headroom: sums of rack headroom, bounded by the budgets racks share.

Rack figures come from ``engine.rack_headroom`` on a site snapshot (no per-rack queries). Shared budgets
bound the sums: the site's utility feed and top power sources bound power; a room's air loops bound its
air cooling; liquid loops are counted once each, not once per rack they serve.
"""

from __future__ import annotations

import math
from collections import defaultdict

from planner import engine
from planner.selectors import SiteSnapshot

DIMENSIONS = ("power", "cooling_air", "cooling_liquid", "rack_load", "floor", "space")
KW_DIMS = {"power": "kw", "cooling_air": "kw", "cooling_liquid": "kw"}


def rack_headrooms(snapshot: SiteSnapshot, *, with_fits: bool = False) -> dict[int, dict]:
    """Headroom dict of every rack. ``with_fits`` also counts per-model fits (slower: several checks each)."""
    models = snapshot.models if with_fits else []
    return {rid: engine.rack_headroom(ctx, models).to_dict() for rid, ctx in snapshot.contexts.items()}


def _sum(items: list[dict], dim: str, unit: str) -> dict:
    cap = sum(i[dim][f"capacity_{unit}"] for i in items)
    load = sum(i[dim][f"load_{unit}"] for i in items)
    head = sum(max(i[dim][f"headroom_{unit}"], 0.0) for i in items)
    return {f"capacity_{unit}": round(cap, 3), f"load_{unit}": round(load, 3), f"headroom_{unit}": round(head, 3)}


def _group(
    items: list[dict], *, air_capacity_kw: float | None, liquid: dict | None, power_cap_kw: float | None
) -> dict:
    out = {
        "power": _sum(items, "power", "kw"),
        "cooling_air": _sum(items, "cooling_air", "kw"),
        "cooling_liquid": _sum(items, "cooling_liquid", "kw"),
        "space": {
            "free_u": sum(i["space"]["free_u"] for i in items),
            "largest_free_block_u": max((i["space"]["largest_free_block_u"] for i in items), default=0),
        },
        "rack_load": _sum(items, "rack_load", "kg"),
        "floor": {
            # Floor load is per rack: the group reports its worst rack.
            "capacity_kg_m2": min((i["floor"]["capacity_kg_m2"] for i in items), default=0.0),
            "load_kg_m2": max((i["floor"]["load_kg_m2"] for i in items), default=0.0),
            "headroom_kg_m2": min((i["floor"]["headroom_kg_m2"] for i in items), default=0.0),
        },
        "rack_count": len(items),
        # Power free where cooling is exhausted, and cooling free where power is: summed over the racks.
        "stranded_kw": {
            key: round(sum(i.get("stranded_kw", {}).get(key, 0.0) for i in items), 3) for key in ("power", "cooling")
        },
    }
    if air_capacity_kw is not None:
        air = out["cooling_air"]
        air["room_capacity_kw"] = round(air_capacity_kw, 3)
        air["headroom_kw"] = round(min(air["headroom_kw"], max(air_capacity_kw - air["load_kw"], 0.0)), 3)
    if liquid is not None:
        out["cooling_liquid"] = liquid
    if power_cap_kw is not None:
        out["power"]["headroom_kw"] = round(min(out["power"]["headroom_kw"], max(power_cap_kw, 0.0)), 3)
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


def _estimated_fits(items: list[dict], models, power_headroom_kw: float) -> dict[str, int]:
    """Per model: sum over racks of a per-rack bound (power, cooling, weight, space), capped by the group's
    power headroom. An estimate for the overview; ``POST feasibility/`` gives the exact, checked plan."""
    out = {}
    for m in models:
        total = 0
        for i in items:
            bounds = (
                [i["space"]["largest_free_block_u"] // max(m.u_height, 1)]
                if not m.rack_scale
                else [
                    1 if i["space"]["free_u"] and i["rack_load"]["load_kg"] == 0 and i["power"]["load_kw"] == 0 else 0
                ]
            )
            if m.max_power_kw > 0:
                bounds.append(math.floor(max(i["power"]["headroom_kw"], 0.0) / m.max_power_kw + 1e-9))
                air_kw = m.max_power_kw * (1 - m.liquid_fraction)
                liq_kw = m.max_power_kw * m.liquid_fraction
                if air_kw > 0:
                    bounds.append(math.floor(max(i["cooling_air"]["headroom_kw"], 0.0) / air_kw + 1e-9))
                if liq_kw > 0:
                    bounds.append(math.floor(max(i["cooling_liquid"]["headroom_kw"], 0.0) / liq_kw + 1e-9))
            if m.weight_kg > 0 and not m.rack_scale:
                bounds.append(math.floor(max(i["rack_load"]["headroom_kg"], 0.0) / m.weight_kg + 1e-9))
            total += max(min(bounds), 0)
        if m.max_power_kw > 0:
            total = min(total, math.floor(max(power_headroom_kw, 0.0) / m.max_power_kw + 1e-9))
        out[m.slug] = total
    return out


def site_headroom(snapshot: SiteSnapshot, racks: dict[int, dict] | None = None) -> dict:
    """The contract's ``sites/{id}/headroom/``: site totals, ``rooms`` with their ``rows`` nested."""
    racks = racks if racks is not None else rack_headrooms(snapshot)
    site = snapshot.site
    by_row: dict[int, list[dict]] = defaultdict(list)
    by_room: dict[int, list[dict]] = defaultdict(list)
    room_of_row = {row.id: row.room_id for row in snapshot.rows}
    air_cap_by_room: dict[int, float] = {}
    liquid_loops: dict[int, tuple] = {}  # loop id -> (spec, heat kW)
    liquid_rooms: dict[int, set[int]] = defaultdict(set)  # room id -> ids of liquid loops serving its racks
    for rack in snapshot.racks:
        head = racks[rack.id]
        by_row[rack.row_id].append(head)
        by_room[room_of_row[rack.row_id]].append(head)
        ctx = snapshot.contexts[rack.id]
        air_cap_by_room[ctx.room.room_id] = sum(
            engine.loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units) for lp in ctx.room.air_loops
        )
        own_liquid = head["cooling_liquid"]["load_kw"]
        liq = [lp for lp in ctx.loops if lp.kind in ("direct_liquid", "immersion")]
        for lp in liq:
            liquid_loops[lp.loop_id] = (lp, lp.other_heat_kw + own_liquid / len(liq))
            liquid_rooms[ctx.room.room_id].add(lp.loop_id)
    total_kw = sum(h["power"]["load_kw"] for h in racks.values())
    utility_headroom = None if site.utility_capacity_kw is None else site.utility_capacity_kw - total_kw

    def liquid_summary(loop_ids) -> dict:
        cap = sum(engine.loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units) for lp, _ in loop_ids)
        load = sum(heat for _, heat in loop_ids)
        return {"capacity_kw": round(cap, 3), "load_kw": round(load, 3), "headroom_kw": round(max(cap - load, 0.0), 3)}

    rooms_out = []
    for room in snapshot.rooms:
        room_loops = [liquid_loops[lid] for lid in sorted(liquid_rooms.get(room.id, ()))]
        group = _group(
            by_room.get(room.id, []),
            air_capacity_kw=air_cap_by_room.get(room.id),
            liquid=liquid_summary(room_loops) if room_loops else None,
            power_cap_kw=utility_headroom,
        )
        rows_out = []
        for row in snapshot.rows:
            if row.room_id != room.id:
                continue
            rgroup = _group(by_row.get(row.id, []), air_capacity_kw=None, liquid=None, power_cap_kw=utility_headroom)
            rows_out.append({"id": row.id, "name": row.name, "containment": row.containment, **rgroup})
        rooms_out.append({"id": room.id, "name": room.name, "floor_type": room.floor_type, **group, "rows": rows_out})

    all_items = list(racks.values())
    site_air_cap = sum(air_cap_by_room.values())
    totals = _group(
        all_items,
        air_capacity_kw=site_air_cap if air_cap_by_room else None,
        liquid=liquid_summary(list(liquid_loops.values())) if liquid_loops else None,
        power_cap_kw=utility_headroom,
    )
    totals["power"]["utility_capacity_kw"] = site.utility_capacity_kw
    totals["fits"] = _estimated_fits(all_items, snapshot.models, totals["power"]["headroom_kw"])
    totals["fits_basis"] = "estimate from per-rack headroom; POST /api/v1/feasibility/ gives the checked plan"
    return {"site": site.id, "name": site.name, **totals, "rooms": rooms_out}
