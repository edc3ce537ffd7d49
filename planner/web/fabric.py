"""The fabric page of a room: its fabrics' switches, leaf-port use per rail and the reach from each rack.

The figures are the engine's (planner.engine.fabric) on the site's fabric index (planner.selectors.fabric),
the same the placement check and feasibility use.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from planner import selectors
from planner.engine.fabric import allowed_media, choose_medium, pool
from planner.web.access import page, reader_required
from racks.models import Rack, Room


def room_fabrics(room: Room, index) -> list[dict]:
    """Per fabric serving a rack of the room: switches, port use per rail and per-rack reach (no query)."""
    rack_names = dict(Rack.objects.filter(row__room=room).values_list("id", "name"))
    out = []
    for fid, f in sorted(index.fabrics.items(), key=lambda kv: kv[1]["name"]):
        here = sorted(rid for rid in index.racks_of.get(fid, ()) if rid in rack_names)
        if not here:
            continue
        spec = index.spec(fid, here[0])
        rails = sorted({lf.rail or 0 for lf in spec.leaves} | set(index.totals.get(fid, {}))) or [0]
        if not spec.rail_optimized:
            rails = [0]
        total = index.totals.get(fid, {})
        ports = []
        for rail in rails:
            cap = sum(lf.down_ports for lf in pool(spec, rail, None))
            used = sum(total.values()) if not spec.rail_optimized else total.get(rail, 0)
            ports.append({"rail": rail, "used": used, "capacity": cap, "free": cap - used})
        media = allowed_media(spec)
        reach = []
        for rid in here:
            s = index.spec(fid, rid)
            near = [lf for lf in s.leaves if lf.route_m is not None]
            if not near:
                reach.append({"rack": rid, "name": rack_names[rid], "leaf": None})
                continue
            leaf = min(near, key=lambda lf: (lf.route_m, lf.name))
            length = leaf.route_m + s.slack_m
            medium = choose_medium(length, media)
            reach.append(
                {
                    "rack": rid,
                    "name": rack_names[rid],
                    "leaf": leaf.name,
                    "route_m": leaf.route_m,
                    "length_m": length,
                    "medium": medium.label if medium else None,
                    "power_w": (medium.switch_end_w + medium.node_end_w) if medium else None,
                }
            )
        switches = sorted(index.switches.get(fid, ()), key=lambda sw: sw["name"])
        out.append(
            {
                "id": fid,
                "name": f["name"],
                "kind": f["kind"],
                "purpose": f["purpose"],
                "rail_optimized": f["rail_optimized"],
                "slack_m": spec.slack_m,
                "media": [m.label for m, _r in media],
                "switches": [
                    {**sw, "rack_name": rack_names.get(sw["rack_id"], "another room"), "down_ports": down(sw)}
                    for sw in switches
                ],
                "ports": ports,
                "reach": reach,
            }
        )
    return out


def down(sw: dict) -> int:
    up = sw["ports"] // 2 if sw["uplink_ports"] is None else sw["uplink_ports"]
    return max(sw["ports"] - up, 0)


@reader_required
def room_fabric_page(request: HttpRequest, pk: int) -> HttpResponse:
    room = get_object_or_404(Room.objects.select_related("site"), pk=pk)
    index = selectors.site_fabric_index(room.site)
    return page(
        request, "planner/room_fabric.html", {"room": room, "site": room.site, "fabrics": room_fabrics(room, index)}
    )
