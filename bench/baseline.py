"""Naive baseline: the per-rack query pattern of NetBox-style models, for the scale benchmark.

The same questions as ``planner.selectors`` answers, with the same rules, but reading the database the way
a per-object ORM layer does: walk site -> rooms -> rows -> racks, and for **each rack** query its PDUs, its
nodes (with their models) and its cooling loops, then compute each rack's utilisation in Python and sum the
shared budgets (site utility, upstream sources, room air, liquid loops) from those per-rack figures.

- ``site_snapshot(site_id)``: every rack of the site, one set of queries per rack (3 x racks + rows + rooms
  + loops + a few). Drop-in for ``selectors.site_snapshot`` (site headroom, feasibility, floor plan, report).
- ``rack_context(rack_id)``: a check or rack headroom needs the *other* racks' loads on the shared budgets;
  without SQL aggregates that means loading the whole site rack by rack. Drop-in for
  ``selectors.rack_context``.

Only data access differs from ours: the contexts are built with the same rules (and the selectors' pure
helpers), so the engine gives the same answers. ``bench/scale.py`` checks that on sample racks, then runs
the same API requests with these functions patched in (``patched()``) to time the baseline.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from unittest import mock

from cooling.models import CoolingLoop
from planner import selectors
from planner.engine.inputs import (
    PduSpec,
    PlacedNode,
    PowerSourceSpec,
    RackContext,
    RackSpec,
    RoomSpec,
    RowSpec,
    SiteSpec,
)
from planner.selectors import (
    AIR_SIDE,
    LIQUID,
    SiteSnapshot,
    _loop_spec,
    _most_specific_liquid,
    _source_chain_ids,
    node_model_spec,
)
from racks.models import Rack, Site


@dataclass
class SiteData:
    site: Site
    rooms: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    racks: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)
    loops: list = field(default_factory=list)
    pdus: dict = field(default_factory=dict)  # rack id -> [Pdu]
    nodes: dict = field(default_factory=dict)  # rack id -> [PlacedNode]
    explicit: dict = field(default_factory=dict)  # rack id -> [CoolingLoop] listing the rack
    room_of_row: dict = field(default_factory=dict)
    row_by_id: dict = field(default_factory=dict)
    room_by_id: dict = field(default_factory=dict)


def collect(site_id: int) -> SiteData:
    """Read the site object by object: one query per room, per row, per loop, and three per rack."""
    site = Site.objects.get(pk=site_id)
    data = SiteData(site=site)
    data.sources = {s.id: s for s in site.power_sources.all()}
    data.loops = list(site.cooling_loops.order_by("id"))
    for lp in data.loops:
        lp.n_racks = lp.racks.count()
    for room in site.rooms.order_by("name"):
        data.rooms.append(room)
        data.room_by_id[room.id] = room
        for row in room.rows.order_by("name"):
            data.rows.append(row)
            data.room_of_row[row.id] = room.id
            data.row_by_id[row.id] = row
            for rack in row.racks.order_by("position", "name"):
                data.racks.append(rack)
                data.pdus[rack.id] = list(rack.pdus.order_by("side", "name"))
                data.nodes[rack.id] = [
                    PlacedNode(model=node_model_spec(n.model), u_position=n.u_position, node_id=n.id, name=n.name)
                    for n in rack.nodes.select_related("model").order_by("u_position")
                ]
                data.explicit[rack.id] = list(rack.cooling_loops.order_by("id"))
    # The selectors' orders (rooms by name, rows by room id then name, racks by row, position, name).
    data.rows.sort(key=lambda r: (r.room_id, r.name))
    data.racks.sort(key=lambda r: (r.row_id, r.position, r.name))
    return data


@dataclass
class Budgets:
    """Per-rack own figures and the shared totals they add up to."""

    serving: dict
    liquid: dict
    power: dict
    air: dict
    liquid_by_loop: dict
    chains: dict
    site_total: float
    room_air: dict
    loop_total: dict
    source_total: dict


def budgets(data: SiteData) -> Budgets:
    loops = data.loops
    serving, liquid_serving, own_power, own_air, own_liq, chains = {}, {}, {}, {}, {}, {}
    by_id = {lp.id: lp for lp in loops}
    for rack in data.racks:
        room_id = data.room_of_row[rack.row_id]
        srv = [lp for lp in data.explicit[rack.id] if lp.room_id in (room_id, None)]
        srv = [by_id[lp.id] for lp in srv] + [lp for lp in loops if lp.n_racks == 0 and lp.room_id in (room_id, None)]
        srv.sort(key=lambda lp: lp.id)
        liq = _most_specific_liquid(srv, room_id)
        serving[rack.id], liquid_serving[rack.id] = srv, liq
        nodes = data.nodes[rack.id]
        power = sum(n.model.max_power_kw for n in nodes)
        immersed = any(lp.kind == CoolingLoop.Kind.IMMERSION for lp in liq)
        liquid = power if immersed else sum(n.model.max_power_kw * n.model.liquid_fraction for n in nodes)
        own_power[rack.id], own_air[rack.id] = power, power - liquid
        own_liq[rack.id] = {lp.id: liquid / len(liq) for lp in liq} if liq and liquid else {}
        chains[rack.id] = _source_chain_ids(data.sources, (p.source_id for p in data.pdus[rack.id]))
    room_air: dict = defaultdict(float)
    loop_total: dict = defaultdict(float)
    source_total: dict = defaultdict(float)
    for rack in data.racks:
        room_air[data.room_of_row[rack.row_id]] += own_air[rack.id]
        for lid, kw in own_liq[rack.id].items():
            loop_total[lid] += kw
        for sid in chains[rack.id]:
            source_total[sid] += own_power[rack.id]
    return Budgets(
        serving, liquid_serving, own_power, own_air, own_liq, chains, sum(own_power.values()), room_air,
        loop_total, source_total,
    )  # fmt: skip


def context(data: SiteData, b: Budgets, rack) -> RackContext:
    site = data.site
    row = data.row_by_id[rack.row_id]
    room = data.room_by_id[row.room_id]
    own_liq = b.liquid_by_loop[rack.id]
    loop_specs = []
    for lp in b.serving[rack.id]:
        if lp.kind in LIQUID:
            if lp not in b.liquid[rack.id]:
                continue
            other = b.loop_total.get(lp.id, 0.0) - own_liq.get(lp.id, 0.0)
        else:
            other = 0.0
        loop_specs.append(_loop_spec(lp, other_heat_kw=max(other, 0.0), racks_served=lp.n_racks))
    air_loops = tuple(
        _loop_spec(lp, other_heat_kw=0.0, racks_served=lp.n_racks)
        for lp in data.loops
        if lp.kind in AIR_SIDE and lp.room_id in (room.id, None)
    )
    sources = data.sources
    return RackContext(
        site=SiteSpec(
            site_id=site.id,
            name=site.name,
            utility_capacity_kw=site.utility_capacity_kw,
            power_derating=site.power_derating,
            other_load_kw=b.site_total - b.power[rack.id],
            energy_price_per_kwh=site.energy_price_per_kwh,
            carbon_kg_per_kwh=site.carbon_kg_per_kwh,
            design_pue=site.design_pue,
        ),
        room=RoomSpec(
            room_id=room.id,
            name=room.name,
            floor_type=room.floor_type,
            floor_rated_load_kg_m2=room.floor_rated_load_kg_m2,
            tile_rated_load_kg=room.tile_rated_load_kg,
            floor_load_method=room.floor_load_method,
            other_air_heat_kw=b.room_air[room.id] - b.air[rack.id],
            air_loops=air_loops,
        ),
        row=RowSpec(
            row_id=row.id,
            name=row.name,
            aisle_width_mm=row.aisle_width_mm,
            containment=row.containment,
            air_kw_per_rack_limit=row.air_kw_per_rack_limit,
        ),
        rack=RackSpec(
            rack_id=rack.id,
            name=rack.name,
            u_height=rack.u_height,
            width_mm=rack.width_mm,
            depth_mm=rack.depth_mm,
            max_load_kg=rack.max_load_kg,
            empty_weight_kg=rack.empty_weight_kg,
        ),
        nodes=tuple(data.nodes[rack.id]),
        pdus=tuple(
            PduSpec(
                pdu_id=p.id,
                name=p.name,
                side=p.side,
                phases=p.phases,
                voltage_v=p.voltage_v,
                current_a=p.current_a,
                power_factor=p.power_factor,
                source_id=p.source_id,
            )
            for p in data.pdus[rack.id]
        ),
        sources=tuple(
            PowerSourceSpec(
                source_id=sid,
                name=sources[sid].name,
                kind=sources[sid].kind,
                capacity_kw=sources[sid].capacity_kw,
                other_load_kw=b.source_total[sid] - b.power[rack.id],
                parent_id=sources[sid].parent_id,
            )
            for sid in b.chains[rack.id]
        ),
        loops=tuple(loop_specs),
    )


def site_snapshot(site_id: int) -> SiteSnapshot:
    """Naive ``selectors.site_snapshot``. Raises Site.DoesNotExist."""
    data = collect(site_id)
    b = budgets(data)
    contexts = {rack.id: context(data, b, rack) for rack in data.racks}
    models = selectors.catalogue_specs()
    return SiteSnapshot(data.site, data.rooms, data.rows, data.racks, contexts, models)


def rack_context(rack_id: int, *, rack: Rack | None = None) -> RackContext:
    """Naive ``selectors.rack_context``: the rack, then its whole site rack by rack for the shared budgets."""
    if rack is None:
        rack = Rack.objects.get(pk=rack_id)
    site_id = rack.row.room.site_id  # two lazy queries, as per-object code does
    data = collect(site_id)
    b = budgets(data)
    mine = next(r for r in data.racks if r.id == rack.id)
    return context(data, b, mine)


@contextmanager
def patched():
    """Route every selector call of the views, services and report through the naive baseline."""
    with (
        mock.patch.object(selectors, "rack_context", rack_context),
        mock.patch.object(selectors, "site_snapshot", site_snapshot),
    ):
        yield
