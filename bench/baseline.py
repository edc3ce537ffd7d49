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

from contextlib import contextmanager
from dataclasses import dataclass, field
from unittest import mock

from planner import selectors
from planner.engine.flow import rack_heat_kw
from planner.engine.inputs import (
    PduSpec,
    PlacedNode,
    RackContext,
    RowSpec,
)
from planner.selectors import (
    SiteSnapshot,
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


def budgets(data: SiteData) -> selectors.SiteBudgets:
    """The shared totals from the per-rack rows, by the selectors' pure ``build_site_budgets`` (the load
    flow of ``planner.engine.flow``): only the data access differs."""
    room_of_rack = {rack.id: data.room_of_row[rack.row_id] for rack in data.racks}
    rack_loads = []
    rack_air = []
    for rack in data.racks:
        nodes = data.nodes[rack.id]
        if nodes:
            rack_air.append((rack.id, *selectors.rack_air_inputs((n.model, 1) for n in nodes)))
            power, heat, liquid = rack_heat_kw((n.model, 1) for n in nodes)
            rack_loads.append((rack.id, room_of_rack[rack.id], power, liquid, heat))
    sources = {
        s.id: selectors.SourceRow(
            s.id, s.parent_id, s.name, s.kind, s.capacity_kw, s.capacity_kva, s.power_factor, s.listed_continuous_100
        )
        for s in data.sources.values()
    }
    return selectors.build_site_budgets(
        sources=sources,
        loops=data.loops,
        links=[(lp.id, rack_id) for rack_id, loops in data.explicit.items() for lp in loops],
        rack_loads=rack_loads,
        pdu_sources=[(rack_id, p.source_id) for rack_id, pdus in data.pdus.items() for p in pdus],
        rack_air=rack_air,
    )


def context(data: SiteData, b: selectors.SiteBudgets, rack) -> RackContext:
    row = data.row_by_id[rack.row_id]
    room = data.room_by_id[row.room_id]
    pdus = [
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
    ]
    row_spec = RowSpec(
        row_id=row.id,
        name=row.name,
        aisle_width_mm=row.aisle_width_mm,
        containment=row.containment,
        air_kw_per_rack_limit=row.air_kw_per_rack_limit,
    )
    return selectors.budget_context(
        b, site=data.site, room=room, row_spec=row_spec, rack=rack, nodes=data.nodes[rack.id], pdus=pdus
    )


def site_snapshot(site_id: int) -> SiteSnapshot:
    """Naive ``selectors.site_snapshot``. Raises Site.DoesNotExist."""
    data = collect(site_id)
    b = budgets(data)
    contexts = {rack.id: context(data, b, rack) for rack in data.racks}
    models = selectors.catalogue_specs()
    return SiteSnapshot(data.site, data.rooms, data.rows, data.racks, contexts, models, data.loops, b)


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
