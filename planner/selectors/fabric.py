"""Fabric rows -> engine FabricSpec per rack, in six queries per site whatever its size, cached per budget token.

A fabric serves the racks it lists. Its leaves are its switches of role leaf; each switch stands in its rack as
a Node (so its load is in the budgets like any node's). Ports used on a fabric: every node of every rack it
serves, by the node model's ports of the fabric's purpose (planner.engine.fabric.rail_demand). Routes between
racks: planner.engine.geometry from the rows' order, the racks' widths and the aisles.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count

from planner.engine.fabric import FabricSpec, LeafSpec, rail_demand
from planner.engine.geometry import RackFootprint, RackPoint, RowLayout, room_layout, route_m
from racks.models import Fabric, Node, Rack, Row, Switch

PORT_FIELDS = tuple(f"model__{p}_{s}" for p in ("compute", "storage", "inband", "oob") for s in ("ports", "port_gbps"))


@dataclass(frozen=True, slots=True)
class PortModel:
    """Enough of a node model for rail_demand."""

    ports: tuple
    kind: str = "system"


def port_tuple(values) -> tuple:
    """((purpose, count, Gb/s), ...) from the eight port columns (compute, storage, in-band, oob)."""
    out = []
    for i, purpose in enumerate(("compute", "storage", "inband", "oob")):
        count, gbps = values[2 * i], values[2 * i + 1]
        if count is not None:
            out.append((purpose, count, gbps))
    return tuple(out)


@dataclass
class FabricIndex:
    fabrics: dict[int, dict]  # id -> row values
    racks_of: dict[int, set[int]]
    fabrics_of_rack: dict[int, list[int]]
    leaves: dict[int, list[dict]]  # fabric id -> switch values (leaves)
    switches: dict[int, list[dict]]  # fabric id -> every switch
    points: dict[int, RackPoint]
    room_of: dict[int, int]
    used: dict[int, dict[int, Counter]]  # fabric id -> rack id -> rail -> ports
    totals: dict[int, Counter] = field(default_factory=dict)  # fabric id -> rail -> ports
    _specs: dict = field(default_factory=dict, repr=False)

    def spec(self, fabric_id: int, rack_id: int) -> FabricSpec:
        key = (fabric_id, rack_id)
        hit = self._specs.get(key)
        if hit is not None:
            return hit
        f = self.fabrics[fabric_id]
        here = self.points.get(rack_id)
        room = self.room_of.get(rack_id)
        leaves = []
        for s in self.leaves.get(fabric_id, ()):
            there = self.points.get(s["rack_id"])
            same_room = here is not None and there is not None and self.room_of.get(s["rack_id"]) == room
            leaves.append(
                LeafSpec(
                    s["id"],
                    s["name"],
                    s["rack_id"],
                    s["ports"],
                    s["port_speed_gbps"],
                    s["uplink_ports"],
                    s["rail"],
                    route_m(here, there) if same_room else None,
                )
            )
        own = self.used.get(fabric_id, {}).get(rack_id, Counter())
        total = self.totals.get(fabric_id, Counter())
        other = tuple(sorted((rail, n - own.get(rail, 0)) for rail, n in total.items()))
        spec = FabricSpec(
            fabric_id=fabric_id,
            name=f["name"],
            kind=f["kind"],
            purpose=f["purpose"],
            rail_optimized=f["rail_optimized"],
            media=tuple(f["media"] or ()),
            slack_m=settings.PLANNER_FABRIC_CABLE_SLACK_M,
            aoc_reach_m=settings.PLANNER_FABRIC_AOC_REACH_M,
            leaves=tuple(sorted(leaves, key=lambda lf: lf.name)),
            other_used=other,
        )
        self._specs[key] = spec
        return spec

    def rack_specs(self, rack_id: int) -> tuple[FabricSpec, ...]:
        return tuple(self.spec(fid, rack_id) for fid in self.fabrics_of_rack.get(rack_id, ()))


def build_fabric_index(site_id: int) -> FabricIndex:
    """Six queries: fabrics, their racks, switches, node ports per rack, racks, rows."""
    fabrics = {
        f["id"]: f
        for f in Fabric.objects.filter(site_id=site_id).values(
            "id", "name", "kind", "purpose", "rail_optimized", "media"
        )
    }
    racks_of: dict[int, set[int]] = defaultdict(set)
    fabrics_of_rack: dict[int, list[int]] = defaultdict(list)
    for fid, rid in (
        Fabric.racks.through.objects.filter(fabric__site_id=site_id).values_list("fabric_id", "rack_id").order_by()
    ):
        racks_of[fid].add(rid)
        fabrics_of_rack[rid].append(fid)
    for ids in fabrics_of_rack.values():
        ids.sort()
    leaves: dict[int, list[dict]] = defaultdict(list)
    switches: dict[int, list[dict]] = defaultdict(list)
    for s in Switch.objects.filter(fabric__site_id=site_id).values(
        "id", "fabric_id", "name", "role", "ports", "port_speed_gbps", "uplink_ports", "rail", "node__rack_id"
    ):
        s["rack_id"] = s.pop("node__rack_id")
        switches[s["fabric_id"]].append(s)
        if s["role"] == Switch.Role.LEAF:
            leaves[s["fabric_id"]].append(s)
    per_rack: dict[int, list] = defaultdict(list)
    for rack_id, kind, *ports, n in (
        Node.objects.filter(rack__row__room__site_id=site_id)
        .values("rack_id", "model__kind", *PORT_FIELDS)
        .annotate(n=Count("id"))
        .values_list("rack_id", "model__kind", *PORT_FIELDS, "n")
        .order_by()
    ):
        per_rack[rack_id].append((PortModel(port_tuple(ports), kind), n))
    used: dict[int, dict[int, Counter]] = defaultdict(dict)
    totals: dict[int, Counter] = defaultdict(Counter)
    for fid, rids in racks_of.items():
        f = fabrics[fid]
        for rid in rids:
            c: Counter = Counter()
            for m, n in per_rack.get(rid, ()):
                c.update(rail_demand(m, f["purpose"], n, f["rail_optimized"]))
            used[fid][rid] = c
            totals[fid].update(c)
    points, room_of = site_points(site_id)
    return FabricIndex(
        dict(fabrics), dict(racks_of), dict(fabrics_of_rack), leaves, switches, points, room_of, used, dict(totals)
    )


def site_points(site_id: int) -> tuple[dict[int, RackPoint], dict[int, int]]:
    """Each rack's point in its room and its room id (two queries)."""
    rows = list(
        Row.objects.filter(room__site_id=site_id)
        .order_by("room_id", "name", "id")
        .values("id", "room_id", "aisle_width_mm")
    )
    by_row: dict[int, list[RackFootprint]] = defaultdict(list)
    for rid, row_id, pos, w, d in Rack.objects.filter(row__room__site_id=site_id).values_list(
        "id", "row_id", "position", "width_mm", "depth_mm"
    ):
        by_row[row_id].append(RackFootprint(rid, pos, w, d))
    grouped: dict[int, list[RowLayout]] = defaultdict(list)
    room_of_row = {}
    for r in rows:
        grouped[r["room_id"]].append(RowLayout(r["id"], r["aisle_width_mm"], tuple(by_row.get(r["id"], ()))))
        room_of_row[r["id"]] = r["room_id"]
    points: dict[int, RackPoint] = {}
    for layouts in grouped.values():
        points.update(room_layout(layouts))
    room_of = {rid: room_of_row[p.row_id] for rid, p in points.items()}
    return points, room_of
