"""Selectors: database rows -> engine inputs, in a fixed number of queries whatever the size of the site.

Loads of the *other* racks sharing a budget (site utility, upstream sources, room air, liquid loops) are
summed in SQL, so checking one rack never loads every rack of its site.

Which loops serve a rack: a loop that lists racks serves those racks; a loop that lists none serves its
whole room, or the whole site when it has no room. Liquid heat goes to the most specific liquid loops
(listed before room-wide before site-wide), split evenly among them.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Iterable

from django.db.models import Count, Exists, F, FloatField, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce

from cooling.models import CoolingLoop
from planner.engine.inputs import (
    CoolingLoopSpec,
    NodeModelSpec,
    PduSpec,
    PlacedNode,
    PowerSourceSpec,
    RackContext,
    RackSpec,
    RoomSpec,
    RowSpec,
    SiteSpec,
)
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack

AIR_SIDE = {k.value for k in CoolingLoop.AIR_SIDE_KINDS}
LIQUID = {k.value for k in CoolingLoop.LIQUID_KINDS}

POWER = F("model__max_power_kw")
LIQUID_HEAT = F("model__max_power_kw") * F("model__liquid_fraction")
AIR_HEAT = F("model__max_power_kw") * (Value(1.0) - F("model__liquid_fraction"))


def node_model_spec(model: NodeModel) -> NodeModelSpec:
    return NodeModelSpec(
        slug=model.slug,
        name=model.name,
        u_height=model.u_height,
        max_power_kw=model.max_power_kw,
        typical_power_kw=model.typical_power_kw,
        weight_kg=model.weight_kg,
        cooling=model.cooling,
        liquid_fraction=model.liquid_fraction,
        airflow_cfm=model.airflow_cfm,
        psu_count=model.psu_count,
        psu_rating_kw=model.psu_rating_kw,
        psus_required=model.psus_required,
        max_inlet_temp_c=model.max_inlet_temp_c,
        max_supply_temp_c=model.max_supply_temp_c,
        rack_scale=model.rack_scale,
    )


def catalogue_specs() -> list[NodeModelSpec]:
    """Every node model of the catalogue as engine specs (one query)."""
    return [node_model_spec(m) for m in NodeModel.objects.all()]


SourceRow = namedtuple("SourceRow", "id parent_id name kind capacity_kw")


def _site_sources(site_id: int) -> dict[int, SourceRow]:
    """The site's power sources as light rows: a large site has hundreds, model instances cost ~10 ms."""
    return {
        r[0]: SourceRow(*r)
        for r in PowerSource.objects.filter(site_id=site_id).values_list(
            "id", "parent_id", "name", "kind", "capacity_kw"
        )
    }


def _source_chain_ids(sources: dict[int, SourceRow], start_ids: Iterable[int | None]) -> list[int]:
    """Ids of every source above the given ones (inclusive), in first-seen order; loops are cut."""
    chain: list[int] = []
    for sid in start_ids:
        seen = set()
        while sid is not None and sid in sources and sid not in seen:
            seen.add(sid)
            if sid not in chain:
                chain.append(sid)
            sid = sources[sid].parent_id
    return chain


def _descendants(sources: dict[int, SourceRow], root_ids: Iterable[int]) -> dict[int, set[int]]:
    """For each root: its id and the ids of every source below it (children mapped once)."""
    children: dict[int, list[int]] = defaultdict(list)
    for s in sources.values():
        if s.parent_id is not None:
            children[s.parent_id].append(s.id)
    out: dict[int, set[int]] = {}
    for root_id in root_ids:
        seen, stack = set(), [root_id]
        while stack:
            sid = stack.pop()
            if sid in seen:
                continue
            seen.add(sid)
            stack.extend(children[sid])
        out[root_id] = seen
    return out


def _loop_spec(loop: CoolingLoop, *, other_heat_kw: float, racks_served: int) -> CoolingLoopSpec:
    return CoolingLoopSpec(
        loop_id=loop.id,
        name=loop.name,
        kind=loop.kind,
        unit_capacity_kw=loop.unit_capacity_kw,
        units=loop.units,
        redundant_units=loop.redundant_units,
        supply_temp_c=loop.supply_temp_c,
        delta_t_c=loop.delta_t_c,
        fluid=loop.fluid,
        max_flow_lpm=loop.max_flow_lpm,
        other_heat_kw=other_heat_kw,
        racks_served=racks_served,
    )


def _site_spec(site, *, other_load_kw: float) -> SiteSpec:
    return SiteSpec(
        site_id=site.id,
        name=site.name,
        utility_capacity_kw=site.utility_capacity_kw,
        power_derating=site.power_derating,
        other_load_kw=other_load_kw,
        energy_price_per_kwh=site.energy_price_per_kwh,
        carbon_kg_per_kwh=site.carbon_kg_per_kwh,
        design_pue=site.design_pue,
    )


def _room_spec(room, *, other_air_heat_kw: float, air_loops: tuple[CoolingLoopSpec, ...]) -> RoomSpec:
    return RoomSpec(
        room_id=room.id,
        name=room.name,
        floor_type=room.floor_type,
        floor_rated_load_kg_m2=room.floor_rated_load_kg_m2,
        tile_rated_load_kg=room.tile_rated_load_kg,
        floor_load_method=room.floor_load_method,
        other_air_heat_kw=other_air_heat_kw,
        air_loops=air_loops,
    )


def _row_spec(row) -> RowSpec:
    return RowSpec(
        row_id=row.id,
        name=row.name,
        aisle_width_mm=row.aisle_width_mm,
        containment=row.containment,
        air_kw_per_rack_limit=row.air_kw_per_rack_limit,
    )


def _rack_spec(rack) -> RackSpec:
    return RackSpec(
        rack_id=rack.id,
        name=rack.name,
        u_height=rack.u_height,
        width_mm=rack.width_mm,
        depth_mm=rack.depth_mm,
        max_load_kg=rack.max_load_kg,
        empty_weight_kg=rack.empty_weight_kg,
    )


def _pdu_spec(p) -> PduSpec:
    return PduSpec(
        pdu_id=p.id,
        name=p.name,
        side=p.side,
        phases=p.phases,
        voltage_v=p.voltage_v,
        current_a=p.current_a,
        power_factor=p.power_factor,
        source_id=p.source_id,
    )


def _source_spec(source, *, other_load_kw: float) -> PowerSourceSpec:
    return PowerSourceSpec(
        source_id=source.id,
        name=source.name,
        kind=source.kind,
        capacity_kw=source.capacity_kw,
        other_load_kw=other_load_kw,
        parent_id=source.parent_id,
    )


def rack_context(rack_id: int, *, rack: Rack | None = None) -> RackContext:
    """The engine's view of one rack and its shared budgets. Raises Rack.DoesNotExist.

    At most ten queries, whatever the number of racks, nodes or loops of the site.
    """
    if rack is None:
        rack = Rack.objects.select_related("row__room__site").get(pk=rack_id)
    row, room = rack.row, rack.row.room
    site = room.site

    nodes = [
        PlacedNode(model=node_model_spec(n.model), u_position=n.u_position, node_id=n.id, name=n.name)
        for n in Node.objects.filter(rack_id=rack.id).select_related("model")
    ]
    pdus = list(Pdu.objects.filter(rack_id=rack.id))
    all_sources = _site_sources(site.id)
    chain_ids = _source_chain_ids(all_sources, (p.source_id for p in pdus))
    below = _descendants(all_sources, chain_ids)

    links = CoolingLoop.racks.through.objects
    loops = list(
        CoolingLoop.objects.filter(site_id=site.id)
        .filter(Q(room_id=room.id) | Q(room__isnull=True))
        .annotate(
            n_racks=Count("racks", distinct=True),
            serves_rack=Exists(links.filter(coolingloop_id=OuterRef("pk"), rack_id=rack.id)),
        )
        .order_by("id")
    )
    serving = [lp for lp in loops if lp.serves_rack or lp.n_racks == 0]
    liquid_serving = _most_specific_liquid(serving, room.id)
    room_air_loops = [lp for lp in loops if lp.kind in AIR_SIDE and (lp.room_id == room.id or lp.room_id is None)]

    # One aggregate over the site's nodes: site load, room air heat and each upstream source's load.
    immersion_racks = links.filter(coolingloop__kind=CoolingLoop.Kind.IMMERSION, coolingloop__site_id=site.id)
    in_immersion = Q(rack_id__in=immersion_racks.values("rack_id"))
    others = ~Q(rack_id=rack.id)
    aggregates = {
        "site_kw": Coalesce(Sum(POWER, filter=others), 0.0, output_field=FloatField()),
        "room_air_kw": Coalesce(
            Sum(AIR_HEAT, filter=others & Q(rack__row__room_id=room.id) & ~in_immersion), 0.0, output_field=FloatField()
        ),
    }
    for sid in chain_ids:
        if len(below[sid]) == len(all_sources):
            # The root of the site's power tree: a join, not an IN list of every source id of the site.
            fed = Pdu.objects.filter(source__site_id=site.id).values("rack_id")
        else:
            fed = Pdu.objects.filter(source_id__in=below[sid]).values("rack_id")
        aggregates[f"src_{sid}"] = Coalesce(
            Sum(POWER, filter=others & Q(rack_id__in=fed)), 0.0, output_field=FloatField()
        )
    totals = Node.objects.filter(rack__row__room__site_id=site.id).aggregate(**aggregates)

    liquid_other = _liquid_heat_of_other_racks(liquid_serving, rack.id, room.id, site.id)

    loop_specs = []
    for lp in serving:
        if lp.kind in LIQUID:
            if lp not in liquid_serving:
                continue
            other = liquid_other.get(lp.id, 0.0)
        else:
            other = 0.0
        loop_specs.append(_loop_spec(lp, other_heat_kw=other, racks_served=lp.n_racks))

    return RackContext(
        site=_site_spec(site, other_load_kw=totals["site_kw"]),
        room=_room_spec(
            room,
            other_air_heat_kw=totals["room_air_kw"],
            air_loops=tuple(_loop_spec(lp, other_heat_kw=0.0, racks_served=lp.n_racks) for lp in room_air_loops),
        ),
        row=_row_spec(row),
        rack=_rack_spec(rack),
        nodes=tuple(nodes),
        pdus=tuple(_pdu_spec(p) for p in pdus),
        sources=tuple(_source_spec(all_sources[sid], other_load_kw=totals[f"src_{sid}"]) for sid in chain_ids),
        loops=tuple(loop_specs),
    )


def _most_specific_liquid(serving: list[CoolingLoop], room_id: int) -> list[CoolingLoop]:
    liquid = [lp for lp in serving if lp.kind in LIQUID]
    for tier in (
        [lp for lp in liquid if lp.n_racks > 0],
        [lp for lp in liquid if lp.n_racks == 0 and lp.room_id == room_id],
        [lp for lp in liquid if lp.n_racks == 0 and lp.room_id is None],
    ):
        if tier:
            return tier
    return []


def _liquid_heat_of_other_racks(loops: list[CoolingLoop], rack_id: int, room_id: int, site_id: int) -> dict[int, float]:
    """Liquid heat (kW) that racks other than ``rack_id`` put on each of ``loops``.

    Uses the same "most specific liquid loops, split evenly" rule as for the checked rack. Two queries at
    most: the liquid links of the racks concerned, and their heat grouped by rack.
    """
    if not loops:
        return {}
    links = CoolingLoop.racks.through.objects
    site_liquid = list(
        CoolingLoop.objects.filter(site_id=site_id, kind__in=LIQUID)
        .annotate(n_racks=Count("racks"))
        .values("id", "room_id", "n_racks")
    )
    room_wide_by_room: dict[int | None, list[int]] = defaultdict(list)
    for lp in site_liquid:
        if lp["n_racks"] == 0:
            room_wide_by_room[lp["room_id"]].append(lp["id"])
    site_wide = room_wide_by_room.get(None, [])

    # Racks whose heat could land on these loops: the listed racks of explicit loops, and the racks of
    # the room (room-wide) or site (site-wide) for the others.
    explicit_ids = [lp.id for lp in loops if lp.n_racks > 0]
    scope = Q(rack_id__in=links.filter(coolingloop_id__in=explicit_ids).values("rack_id"))
    if any(lp.n_racks == 0 and lp.room_id == room_id for lp in loops):
        scope |= Q(rack__row__room_id=room_id)
    if any(lp.n_racks == 0 and lp.room_id is None for lp in loops):
        scope |= Q(rack__row__room__site_id=site_id)
    heat_by_rack = {
        r["rack_id"]: (r["heat"], r["power"], r["room_id"])
        for r in Node.objects.filter(scope)
        .exclude(rack_id=rack_id)
        .values("rack_id")
        .annotate(heat=Sum(LIQUID_HEAT), power=Sum(POWER), room_id=F("rack__row__room_id"))
    }
    if not heat_by_rack:
        return {}
    explicit_by_rack: dict[int, list[int]] = defaultdict(list)
    immersion_ids = set(
        CoolingLoop.objects.filter(site_id=site_id, kind=CoolingLoop.Kind.IMMERSION).values_list("id", flat=True)
    )
    for rid, lid in links.filter(rack_id__in=list(heat_by_rack), coolingloop__kind__in=LIQUID).values_list(
        "rack_id", "coolingloop_id"
    ):
        explicit_by_rack[rid].append(lid)

    wanted = {lp.id for lp in loops}
    out: dict[int, float] = defaultdict(float)
    for rid, (heat, power, rroom) in heat_by_rack.items():
        targets = explicit_by_rack.get(rid) or room_wide_by_room.get(rroom) or site_wide
        if not targets:
            continue
        # In an immersion tank all of a node's heat goes to the liquid.
        rack_heat = power if any(t in immersion_ids for t in targets) else heat
        share = (rack_heat or 0.0) / len(targets)
        for t in targets:
            if t in wanted:
                out[t] += share
    return dict(out)


# --- Whole-site snapshot -------------------------------------------------------------------------------


class SiteSnapshot:
    """Every rack of a site as an engine context, built in ten queries whatever the site's size.

    ``contexts`` maps rack id to its RackContext; the "other" loads in each context are the site's totals
    minus the rack's own share, computed with the same loop-serving rules as ``rack_context``.
    """

    def __init__(self, site, rooms, rows, racks, contexts, models):
        self.site = site
        self.rooms = rooms
        self.rows = rows
        self.racks = racks
        self.contexts: dict[int, RackContext] = contexts
        self.models: list[NodeModelSpec] = models

    def with_rack(self, ctx: RackContext) -> None:
        """Replace one rack's context (after a planned placement)."""
        self.contexts[ctx.rack.rack_id] = ctx


def site_snapshot(site_id: int) -> SiteSnapshot:
    """Raises Site.DoesNotExist."""
    from racks.models import Room, Row, Site

    site = Site.objects.get(pk=site_id)
    rooms = list(Room.objects.filter(site_id=site_id).order_by("name"))
    rows = list(Row.objects.filter(room__site_id=site_id).order_by("room_id", "name"))
    racks = list(Rack.objects.filter(row__room__site_id=site_id).order_by("row_id", "position", "name"))
    room_by_id = {r.id: r for r in rooms}
    row_by_id = {r.id: r for r in rows}
    models = {m.id: m for m in NodeModel.objects.all()}
    model_specs = {mid: node_model_spec(m) for mid, m in models.items()}

    nodes_by_rack: dict[int, list[PlacedNode]] = defaultdict(list)
    for n in Node.objects.filter(rack__row__room__site_id=site_id).values(
        "id", "rack_id", "model_id", "u_position", "name"
    ):
        nodes_by_rack[n["rack_id"]].append(
            PlacedNode(model=model_specs[n["model_id"]], u_position=n["u_position"], node_id=n["id"], name=n["name"])
        )
    # Thousands of PDUs per site: engine specs straight from the rows, no model instances, sorted once.
    pdus_by_rack: dict[int, list[PduSpec]] = defaultdict(list)
    for pid, rack_id, *fields in Pdu.objects.filter(rack__row__room__site_id=site_id).values_list(
        "id", "rack_id", "name", "side", "phases", "voltage_v", "current_a", "power_factor", "source_id"
    ):
        pdus_by_rack[rack_id].append(PduSpec(pid, *fields))
    for specs in pdus_by_rack.values():
        specs.sort(key=lambda p: (p.side, p.name))
    all_sources = _site_sources(site_id)
    loops = list(CoolingLoop.objects.filter(site_id=site_id).order_by("id"))
    listed: dict[int, list[int]] = defaultdict(list)  # loop id -> rack ids
    for loop_id, rack_id in CoolingLoop.racks.through.objects.filter(coolingloop__site_id=site_id).values_list(
        "coolingloop_id", "rack_id"
    ):
        listed[loop_id].append(rack_id)
    for lp in loops:
        lp.n_racks = len(listed.get(lp.id, ()))
    explicit_by_rack: dict[int, list[CoolingLoop]] = defaultdict(list)
    loop_by_id = {lp.id: lp for lp in loops}
    for loop_id, rack_ids in listed.items():
        for rid in rack_ids:
            explicit_by_rack[rid].append(loop_by_id[loop_id])

    def serving(rack) -> list[CoolingLoop]:
        room_id = row_by_id[rack.row_id].room_id
        out = list(explicit_by_rack.get(rack.id, ()))
        out += [lp for lp in loops if lp.n_racks == 0 and lp.room_id in (room_id, None)]
        return sorted(out, key=lambda lp: lp.id)

    # Per-rack own figures.
    own_power, own_air, own_liquid_by_loop = {}, {}, {}
    serving_by_rack, liquid_by_rack = {}, {}
    for rack in racks:
        room_id = row_by_id[rack.row_id].room_id
        srv = [lp for lp in serving(rack) if lp.room_id in (room_id, None)]
        liq = _most_specific_liquid(srv, room_id)
        serving_by_rack[rack.id], liquid_by_rack[rack.id] = srv, liq
        nodes = nodes_by_rack.get(rack.id, ())
        power = sum(n.model.max_power_kw for n in nodes)
        immersed = any(lp.kind == CoolingLoop.Kind.IMMERSION for lp in liq)
        liquid = power if immersed else sum(n.model.max_power_kw * n.model.liquid_fraction for n in nodes)
        own_power[rack.id] = power
        own_air[rack.id] = power - liquid
        own_liquid_by_loop[rack.id] = {lp.id: liquid / len(liq) for lp in liq} if liq and liquid else {}

    # Totals of the shared budgets.
    site_total = sum(own_power.values())
    room_air_total: dict[int, float] = defaultdict(float)
    for rack in racks:
        room_air_total[row_by_id[rack.row_id].room_id] += own_air[rack.id]
    loop_total: dict[int, float] = defaultdict(float)
    for shares in own_liquid_by_loop.values():
        for lid, kw in shares.items():
            loop_total[lid] += kw
    chains = {
        rack.id: _source_chain_ids(all_sources, (p.source_id for p in pdus_by_rack.get(rack.id, ()))) for rack in racks
    }
    source_total: dict[int, float] = defaultdict(float)
    for rack in racks:
        for sid in chains[rack.id]:
            source_total[sid] += own_power[rack.id]
    room_air_loops = {
        room.id: tuple(
            _loop_spec(lp, other_heat_kw=0.0, racks_served=lp.n_racks)
            for lp in loops
            if lp.kind in AIR_SIDE and lp.room_id in (room.id, None)
        )
        for room in rooms
    }

    # Specs that are the same for every rack sharing them are built once.
    row_specs = {row.id: _row_spec(row) for row in rows}
    air_side_specs = {lp.id: _loop_spec(lp, other_heat_kw=0.0, racks_served=lp.n_racks) for lp in loops}
    contexts: dict[int, RackContext] = {}
    for rack in racks:
        row = row_by_id[rack.row_id]
        room = room_by_id[row.room_id]
        own_liq = own_liquid_by_loop[rack.id]
        loop_specs = []
        for lp in serving_by_rack[rack.id]:
            if lp.kind in LIQUID:
                if lp not in liquid_by_rack[rack.id]:
                    continue
                other = loop_total.get(lp.id, 0.0) - own_liq.get(lp.id, 0.0)
                loop_specs.append(_loop_spec(lp, other_heat_kw=max(other, 0.0), racks_served=lp.n_racks))
            else:
                loop_specs.append(air_side_specs[lp.id])
        contexts[rack.id] = RackContext(
            site=_site_spec(site, other_load_kw=site_total - own_power[rack.id]),
            room=_room_spec(
                room,
                other_air_heat_kw=room_air_total[room.id] - own_air[rack.id],
                air_loops=room_air_loops[room.id],
            ),
            row=row_specs[row.id],
            rack=_rack_spec(rack),
            nodes=tuple(sorted(nodes_by_rack.get(rack.id, ()), key=lambda n: n.u_position)),
            pdus=tuple(pdus_by_rack.get(rack.id, ())),
            sources=tuple(
                _source_spec(all_sources[sid], other_load_kw=source_total[sid] - own_power[rack.id])
                for sid in chains[rack.id]
            ),
            loops=tuple(loop_specs),
        )
    return SiteSnapshot(site, rooms, rows, racks, contexts, list(model_specs.values()))
