"""Selectors: database rows -> engine inputs, in a fixed number of queries whatever the size of the site.

Loads of the *other* racks sharing a budget (site utility, upstream sources, room air, liquid loops) are
summed in SQL, so checking one rack never loads every rack of its site.

Which loops serve a rack: a loop that lists racks serves those racks; a loop that lists none serves its
whole room, or the whole site when it has no room. Liquid heat goes to the most specific liquid loops
(listed before room-wide before site-wide); how heat is shared is ``planner.engine.flow``'s.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict, namedtuple
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count

from cooling.models import CoolingLoop
from planner.bulk import gc_paused
from planner.engine.flow import (
    RackHeat,
    air_delta_t_c,
    close_coupled_cfm_split,
    close_unit_excess_cfm,
    rack_airflow_cfm,
    rack_heat_kw,
    site_heat_flow,
)
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
from planner.engine.rules.power import fed_source_ids
from planner.engine.units import (
    CLOSE_COUPLED_KINDS,
    loop_airflow_cfm,
    loop_usable_kw,
    node_heat_split_kw,
    source_derating,
    source_usable_kw,
)
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Site

AIR_SIDE = {k.value for k in CoolingLoop.AIR_SIDE_KINDS}
LIQUID = {k.value for k in CoolingLoop.LIQUID_KINDS}
CLOSE = set(CLOSE_COUPLED_KINDS)
ROOM_POOL = AIR_SIDE - CLOSE

# What a rack's nodes weigh on the budgets comes from the node models' figures through the engine's one heat
# function (``planner.engine.flow.rack_heat_kw``): rows are counted per (rack, model) in SQL, summed in Python.
ModelHeat = namedtuple("ModelHeat", "max_power_kw heat_output_kw liquid_fraction airflow_cfm", defaults=(None,))


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
        heat_output_kw=model.heat_output_kw,
        cord_count=model.cord_count,
        cord_receptacle=model.cord_receptacle,
        ports=_model_ports(model),
        kind=model.kind,
    )


def _model_ports(model: NodeModel) -> tuple:
    out = []
    for purpose in ("compute", "storage", "inband", "oob"):
        count = getattr(model, f"{purpose}_ports")
        if count is not None:
            out.append((purpose, count, getattr(model, f"{purpose}_port_gbps")))
    return tuple(out)


def catalogue_specs() -> list[NodeModelSpec]:
    """Every node model of the catalogue as engine specs (one query)."""
    return [node_model_spec(m) for m in NodeModel.objects.all()]


SourceRow = namedtuple(
    "SourceRow", "id parent_id name kind capacity_kw capacity_kva power_factor listed_continuous_100"
)


def _site_sources(site_id: int) -> dict[int, SourceRow]:
    """The site's power sources as light rows: a large site has hundreds, model instances cost ~10 ms."""
    return {
        r[0]: SourceRow(*r)
        for r in PowerSource.objects.filter(site_id=site_id).values_list(
            "id", "parent_id", "name", "kind", "capacity_kw", "capacity_kva", "power_factor", "listed_continuous_100"
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


def _chain_memo(sources: dict[int, SourceRow]):
    """``_source_chain_ids`` memoized on the tuple of start ids: thousands of racks share a few chains."""
    memo: dict[tuple, tuple[int, ...]] = {}

    def chain(start_ids: Iterable[int | None]) -> tuple[int, ...]:
        key = tuple(start_ids)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = tuple(_source_chain_ids(sources, key))
        return hit

    return chain


def _loop_spec(
    loop: CoolingLoop,
    *,
    other_heat_kw: float,
    racks_served: int,
    other_room_heat_kw: float = 0.0,
    other_airflow_cfm: float = 0.0,
    other_airflow_unknown: int = 0,
) -> CoolingLoopSpec:
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
        approach_c=loop.approach_c,
        other_heat_kw=other_heat_kw,
        racks_served=racks_served,
        other_room_heat_kw=other_room_heat_kw,
        unit_airflow_cfm=loop.unit_airflow_cfm,
        other_airflow_cfm=other_airflow_cfm,
        other_airflow_unknown=other_airflow_unknown,
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
        phase_imbalance_share=settings.PLANNER_PHASE_IMBALANCE_SHARE,
    )


def _room_spec(
    room,
    *,
    other_air_heat_kw: float,
    air_loops: tuple[CoolingLoopSpec, ...],
    other_airflow_cfm: float = 0.0,
    other_airflow_unknown: int = 0,
) -> RoomSpec:
    return RoomSpec(
        room_id=room.id,
        name=room.name,
        floor_type=room.floor_type,
        floor_rated_load_kg_m2=room.floor_rated_load_kg_m2,
        tile_rated_load_kg=room.tile_rated_load_kg,
        tile_rolling_load_kg=room.tile_rolling_load_kg,
        floor_load_method=room.floor_load_method,
        other_air_heat_kw=other_air_heat_kw,
        air_loops=air_loops,
        other_airflow_cfm=other_airflow_cfm,
        other_airflow_unknown=other_airflow_unknown,
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
        receptacles_c13=p.receptacles_c13,
        receptacles_c19=p.receptacles_c19,
        receptacles_iec60309=p.receptacles_iec60309,
        branch_breaker_a=p.branch_breaker_a,
        branch_count=p.branch_count,
    )


def source_rating(source, site) -> tuple[float, float]:
    """(continuous derating applied, usable kW) of a power source (a SourceRow or a PowerSource) on its site:
    the engine's ``source_derating`` and ``source_usable_kw``, the one formula every page and answer reads."""
    derating = source_derating(source.kind, source.listed_continuous_100, site.derate_distribution, site.power_derating)
    return derating, source_usable_kw(source.capacity_kw, source.capacity_kva, source.power_factor, derating)


def _source_spec(source, site, *, other_load_kw: float) -> PowerSourceSpec:
    derating, usable = source_rating(source, site)
    return PowerSourceSpec(
        source_id=source.id,
        name=source.name,
        kind=source.kind,
        capacity_kw=source.capacity_kw,
        other_load_kw=other_load_kw,
        parent_id=source.parent_id,
        capacity_kva=source.capacity_kva,
        power_factor=source.power_factor,
        derating=derating,
        usable_kw=usable,
    )


@dataclass(frozen=True, slots=True)
class RackShare:
    """One rack's own load on the shared budgets, in kW (planner.engine.flow computes the heat parts).

    air_heat_kw: all its air heat; air_left_kw: what of it reaches the room's CRAH pool;
    offer_by_loop: air heat offered to each close-coupled unit serving it.
    """

    power_kw: float
    air_heat_kw: float
    liquid_heat_kw_by_loop: dict[int, float]
    offer_by_loop: dict[int, float]
    air_left_kw: float


NO_SHARE = RackShare(0.0, 0.0, {}, {}, 0.0)


@dataclass(frozen=True)
class SiteBudgets:
    """A site's shared budgets: topology and totals (kW) over all its racks, each rack's own share.

    A rack's "other" load on a budget is the total minus its own share, so checking one rack needs no
    query over the rest of the site. Read-only once built: instances are shared between threads.
    """

    sources: dict[int, SourceRow]
    loops: tuple[CoolingLoop, ...]  # by id, each with ``n_racks``
    loop_by_id: dict[int, CoolingLoop]
    loops_by_rack: dict[int, frozenset[int]]  # rack id -> ids of the loops that list it
    general_by_room: dict[int | None, list[CoolingLoop]]  # room id -> loops listing no rack there or site-wide
    shares: dict[int, RackShare]  # racks without nodes are absent
    site_kw: float
    room_air_heat_kw: dict[int, float]  # air heat left for each room's CRAH pool
    source_kw: dict[int, float]
    loop_liquid_heat_kw: dict[int, float]
    close_offered_kw: dict[int, float] = field(default_factory=dict)
    close_offered_room_kw: dict[tuple[int, int], float] = field(default_factory=dict)
    close_pass: dict[int, float] = field(default_factory=dict)
    room_air_all_kw: dict[int, float] = field(default_factory=dict)  # every rack's air heat, per room
    # COOLING_AIRFLOW: node air (CFM) each room's CRAH pool must deliver (what close-coupled units do not),
    # how many racks of the room have node air unknown, and each rack's own part (None: unknown).
    room_airflow_cfm: dict[int, float] = field(default_factory=dict)
    room_airflow_unknown: dict[int, int] = field(default_factory=dict)
    rack_airflow_cfm: dict[int, float | None] = field(default_factory=dict)
    # Per close-coupled unit: node air (CFM) all its racks offer it, and how many of them have unknown node air;
    # per rack: its own CFM per unit (None: unknown).
    close_offered_cfm: dict[int, float] = field(default_factory=dict)
    close_cfm_unknown: dict[int, int] = field(default_factory=dict)
    rack_close_cfm: dict[int, dict[int, float] | None] = field(default_factory=dict)
    # Per (close-coupled unit, room): the node air the unit cannot move that reaches that room's CRAH pool.
    close_excess_room_cfm: dict[tuple[int, int], float] = field(default_factory=dict)
    # Engine specs of air-side loops, the same for every rack they serve: built on first use.
    _air_specs: dict = field(default_factory=dict, repr=False, compare=False)
    has_switch: bool = False  # a fabric switch stands in some rack: the fabric rules need the fabric index
    # Source chains and their specs, the same for every rack with the same feeds and own load.
    _chains: dict = field(default_factory=dict, repr=False, compare=False)
    _chain_specs: dict = field(default_factory=dict, repr=False, compare=False)

    def source_specs(self, pdu_source_ids: tuple, own_power_kw: float, site) -> tuple[PowerSourceSpec, ...]:
        """The power sources above the given PDU feeds, each with the load of every other rack (kW). ``site``:
        the site these budgets are of (its derating settings are part of its budget token's state)."""
        key = (pdu_source_ids, own_power_kw)
        specs = self._chain_specs.get(key)
        if specs is None:
            chain = self._chains.get(pdu_source_ids)
            if chain is None:
                chain = self._chains[pdu_source_ids] = tuple(_source_chain_ids(self.sources, pdu_source_ids))
            specs = self._chain_specs[key] = tuple(
                _source_spec(self.sources[sid], site, other_load_kw=_other(self.source_kw.get(sid, 0.0), own_power_kw))
                for sid in chain
            )
        return specs

    def share(self, rack_id: int) -> RackShare:
        return self.shares.get(rack_id, NO_SHARE)

    def serving(self, rack_id: int, room_id: int) -> list[CoolingLoop]:
        return _serving(self.general_by_room, self.loops_by_rack, self.loop_by_id, rack_id, room_id)

    def air_spec(self, loop: CoolingLoop) -> CoolingLoopSpec:
        spec = self._air_specs.get(loop.id)
        if spec is None:
            spec = self._air_specs[loop.id] = _loop_spec(loop, other_heat_kw=0.0, racks_served=loop.n_racks)
        return spec

    def room_air_specs(self, room_id: int) -> tuple[CoolingLoopSpec, ...]:
        """The room's CRAH/CRAC pool: its own and the site-wide ones (close-coupled units never count)."""
        key = ("room", room_id)
        specs = self._air_specs.get(key)
        if specs is None:
            specs = self._air_specs[key] = tuple(
                self.air_spec(lp) for lp in self.loops if lp.kind in ROOM_POOL and lp.room_id in (room_id, None)
            )
        return specs


def _serving(general_by_room, loops_by_rack, loop_by_id, rack_id: int, room_id: int) -> list[CoolingLoop]:
    """Loops serving a rack, by id: those listing it, and those listing none in its room or site-wide."""
    general = general_by_room.get(room_id, general_by_room[None])
    listed = loops_by_rack.get(rack_id)
    if not listed:
        return general
    mine = [loop_by_id[i] for i in listed if loop_by_id[i].room_id in (room_id, None)]
    return sorted(general + mine, key=lambda lp: lp.id)


def _other(total_kw: float, own_kw: float) -> float:
    # Rounded to 1 mW: a difference of float sums leaves ~1e-12 kW residues that would print as "-0.00".
    return max(round(total_kw - own_kw, 6), 0.0)


def build_site_budgets(
    *,
    sources: dict[int, SourceRow],
    loops: list[CoolingLoop],
    links: Iterable[tuple[int, int]],
    rack_loads: Iterable[tuple],
    pdu_sources: Iterable[tuple[int, int | None]],
    rack_air: Iterable[tuple[int, float | None, float | None]] = (),
    has_switch: bool = False,
) -> SiteBudgets:
    """Totals from plain rows: ``links`` (loop id, rack id); ``rack_loads`` (rack id, room id, power kW,
    liquid-fraction heat kW[, heat kW]) of racks with nodes, as ``engine.flow.rack_heat_kw`` gives them (heat
    omitted: equal to power); ``pdu_sources`` (rack id, source id) of every PDU; ``rack_air`` (rack id,
    catalogue CFM of its nodes that have one, air kW of those that have none) of racks with nodes (a rack with
    nodes missing from it has unknown node air).

    Heat: ``planner.engine.flow.site_heat_flow`` over the most specific liquid loops and the close-coupled
    units serving each rack.
    """
    loops = sorted(loops, key=lambda lp: lp.id)
    loop_by_id = {lp.id: lp for lp in loops}
    listed: dict[int, set[int]] = defaultdict(set)
    by_rack: dict[int, set[int]] = defaultdict(set)
    for loop_id, rack_id in links:
        listed[loop_id].add(rack_id)
        by_rack[rack_id].add(loop_id)
    loops_by_rack = {rid: frozenset(ids) for rid, ids in by_rack.items()}
    for lp in loops:
        lp.n_racks = len(listed.get(lp.id, ()))
    general = [lp for lp in loops if lp.n_racks == 0]
    general_by_room: dict[int | None, list[CoolingLoop]] = {None: [lp for lp in general if lp.room_id is None]}
    for room_id in {lp.room_id for lp in general} - {None}:
        general_by_room[room_id] = [lp for lp in general if lp.room_id in (room_id, None)]

    feeds: dict[int, list[int | None]] = defaultdict(list)
    for rack_id, source_id in pdu_sources:
        feeds[rack_id].append(source_id)
    site_kw = 0.0
    source_kw: dict[int, float] = defaultdict(float)
    heats = []
    power_of: dict[int, float] = {}
    chain_of = _chain_memo(sources)
    serving_of: dict[int, list[CoolingLoop]] = {}
    for rack_id, room_id, power_kw, liquid_kw, *heat in rack_loads:
        power_kw, liquid_kw = power_kw or 0.0, liquid_kw or 0.0
        heat_kw = heat[0] if heat and heat[0] is not None else power_kw
        serving = serving_of[rack_id] = _serving(general_by_room, loops_by_rack, loop_by_id, rack_id, room_id)
        liquid_loops = most_specific_liquid(serving, room_id)
        heats.append(
            RackHeat(
                rack_id,
                room_id,
                power_kw,
                liquid_kw,
                liquid=tuple((lp.id, _usable(lp)) for lp in liquid_loops),
                close=tuple((lp.id, _usable(lp)) for lp in serving if lp.kind in CLOSE),
                immersion=any(lp.kind == CoolingLoop.Kind.IMMERSION for lp in liquid_loops),
                heat_kw=heat_kw,
            )
        )
        power_of[rack_id] = power_kw
        site_kw += power_kw
        for sid in chain_of(feeds.get(rack_id, ())):
            source_kw[sid] += power_kw
    flow = site_heat_flow(heats)
    room_cfm, room_unknown, rack_cfm, close_cfm = _room_airflow(heats, flow, loops, loop_by_id, serving_of, rack_air)
    empty: dict = NO_SHARE.liquid_heat_kw_by_loop
    shares = {
        rid: RackShare(
            power_of[rid], f.air_kw, f.liquid_by_loop or empty, f.offer_by_loop or NO_SHARE.offer_by_loop, f.air_left_kw
        )
        for rid, f in flow.shares.items()
    }
    return SiteBudgets(
        sources=sources,
        loops=tuple(loops),
        loop_by_id=loop_by_id,
        loops_by_rack=loops_by_rack,
        general_by_room=general_by_room,
        shares=shares,
        site_kw=site_kw,
        room_air_heat_kw=flow.room_air_left_kw,
        source_kw=source_kw,
        loop_liquid_heat_kw=flow.loop_liquid_kw,
        close_offered_kw=flow.close_offered_kw,
        close_offered_room_kw=flow.close_offered_room_kw,
        close_pass=flow.close_pass,
        room_air_all_kw=flow.room_air_kw,
        room_airflow_cfm=room_cfm,
        room_airflow_unknown=room_unknown,
        rack_airflow_cfm=rack_cfm,
        has_switch=has_switch,
        **close_cfm,
    )


def _room_airflow(heats, flow, loops, loop_by_id, serving_of, rack_air):
    """Per room, the node air its CRAH pool must deliver (racks no close-coupled unit serves, and what each
    unit cannot move) and the racks whose node air is unknown; per rack, its own direct part; per close-coupled
    unit, the air its racks offer it. The functions of ``planner.engine.flow`` COOLING_AIRFLOW uses."""
    air_of = {rid: (rated or 0.0, unrated or 0.0) for rid, rated, unrated in rack_air}
    pool_of: dict[int, list[CoolingLoop]] = {}
    room_cfm: dict[int, float] = defaultdict(float)
    room_unknown: dict[int, int] = defaultdict(int)
    rack_cfm: dict[int, float | None] = {}
    offered_cfm: dict[int, float] = defaultdict(float)
    cfm_unknown: dict[int, int] = defaultdict(int)
    rack_close: dict[int, dict[int, float] | None] = {}
    offered_room: dict[tuple[int, int], float] = defaultdict(float)
    for r in heats:
        if r.immersion:
            rack_cfm[r.rack_id] = 0.0
            continue
        pool = pool_of.get(r.room_id)
        if pool is None:
            pool = pool_of[r.room_id] = [lp for lp in loops if lp.kind in ROOM_POOL and lp.room_id in (r.room_id, None)]
        hit = air_of.get(r.rack_id)
        cfm = None
        if hit is not None:
            serving_air = [lp for lp in serving_of[r.rack_id] if lp.kind in AIR_SIDE]
            cfm = rack_airflow_cfm(hit[0], hit[1], air_delta_t_c(serving_air + pool))
        if r.close:
            if cfm is None:
                rack_close[r.rack_id] = None
                for lid, _cap in r.close:
                    cfm_unknown[lid] += 1
            else:
                split = close_coupled_cfm_split(cfm, [cap for _lid, cap in r.close])
                rack_close[r.rack_id] = {lid: c for (lid, _cap), c in zip(r.close, split, strict=True)}
                for (lid, _cap), c in zip(r.close, split, strict=True):
                    offered_cfm[lid] += c
        if cfm is None:
            rack_cfm[r.rack_id] = None
            room_unknown[r.room_id] += 1
            continue
        if r.close:
            rack_cfm[r.rack_id] = 0.0  # its air reaches the pool only as what its units cannot move, below
            for lid, c in rack_close[r.rack_id].items():
                offered_room[(lid, r.room_id)] += c
        else:
            rack_cfm[r.rack_id] = cfm
            room_cfm[r.room_id] += cfm
    # Each close-coupled unit's excess over its airflow reaches the CRAH pool of its racks' rooms, in
    # proportion to the air each room offers it.
    excess_room: dict[tuple[int, int], float] = {}
    for (lid, room_id), c in offered_room.items():
        total = offered_cfm[lid]
        lp = loop_by_id[lid]
        excess = close_unit_excess_cfm(total, loop_airflow_cfm(lp.unit_airflow_cfm, lp.units, lp.redundant_units))
        part = excess * c / total if total > 0 else 0.0
        excess_room[(lid, room_id)] = part
        room_cfm[room_id] += part
    close = {
        "close_offered_cfm": dict(offered_cfm),
        "close_cfm_unknown": dict(cfm_unknown),
        "rack_close_cfm": rack_close,
        "close_excess_room_cfm": excess_room,
    }
    return dict(room_cfm), dict(room_unknown), rack_cfm, close


def _usable(lp: CoolingLoop) -> float:
    return loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units)


def budget_context(
    budgets: SiteBudgets, *, site, room, row_spec: RowSpec, rack, nodes, pdus, fabrics=()
) -> RackContext:
    """One rack's engine context from its site's budgets: each "other" load is the total minus its share.

    ``nodes`` are PlacedNode, ``pdus`` PduSpec; the same function for one rack and for a whole site, so the
    two can never disagree.
    """
    own = budgets.share(rack.id)
    own_close_cfm = budgets.rack_close_cfm.get(rack.id, {})
    serving = budgets.serving(rack.id, room.id)
    liquid = most_specific_liquid(serving, room.id)
    loop_specs = []
    room_other = budgets.room_air_heat_kw.get(room.id, 0.0)
    has_close = False
    for lp in serving:
        if lp.kind in CLOSE:
            has_close = True
            mine = own.offer_by_loop.get(lp.id, 0.0)
            room_all = budgets.close_offered_room_kw.get((lp.id, room.id), 0.0)
            room_other -= room_all * budgets.close_pass.get(lp.id, 0.0)
            loop_specs.append(
                _loop_spec(
                    lp,
                    other_heat_kw=_other(budgets.close_offered_kw.get(lp.id, 0.0), mine),
                    racks_served=lp.n_racks,
                    other_room_heat_kw=_other(room_all, mine),
                    other_airflow_cfm=_other(
                        budgets.close_offered_cfm.get(lp.id, 0.0), (own_close_cfm or {}).get(lp.id, 0.0)
                    ),
                    other_airflow_unknown=budgets.close_cfm_unknown.get(lp.id, 0) - (own_close_cfm is None),
                )
            )
        elif lp.kind not in LIQUID:
            loop_specs.append(budgets.air_spec(lp))
        elif lp in liquid:
            other = _other(budgets.loop_liquid_heat_kw.get(lp.id, 0.0), own.liquid_heat_kw_by_loop.get(lp.id, 0.0))
            loop_specs.append(_loop_spec(lp, other_heat_kw=other, racks_served=lp.n_racks))
    own_cfm = budgets.rack_airflow_cfm.get(rack.id, 0.0)
    # The room's pool without this rack's own air nor what the units serving it cannot move (the rule adds
    # those back from the units' whole demand).
    room_cfm_mine = (own_cfm or 0.0) + sum(
        budgets.close_excess_room_cfm.get((lp.id, room.id), 0.0) for lp in serving if lp.kind in CLOSE
    )
    return RackContext(
        site=_site_spec(site, other_load_kw=_other(budgets.site_kw, own.power_kw)),
        room=_room_spec(
            room,
            other_air_heat_kw=max(round(room_other, 6), 0.0) if has_close else _other(room_other, own.air_left_kw),
            air_loops=budgets.room_air_specs(room.id),
            other_airflow_cfm=_other(budgets.room_airflow_cfm.get(room.id, 0.0), room_cfm_mine),
            other_airflow_unknown=budgets.room_airflow_unknown.get(room.id, 0) - (own_cfm is None),
        ),
        row=row_spec,
        rack=_rack_spec(rack),
        nodes=tuple(nodes),
        pdus=tuple(pdus),
        sources=budgets.source_specs(tuple(p.source_id for p in pdus), own.power_kw, site),
        loops=tuple(loop_specs),
        fabrics=fabrics,
    )


def _load_site_budgets(site_id: int) -> SiteBudgets:
    """Five queries over the site: sources, loops, loop links, load per rack, PDU feeds."""
    loops = list(CoolingLoop.objects.filter(site_id=site_id))
    links = CoolingLoop.racks.through.objects.filter(coolingloop__site_id=site_id).values_list(
        "coolingloop_id", "rack_id"
    )
    per_model = (
        Node.objects.filter(rack__row__room__site_id=site_id)
        .values(
            "rack_id",
            "rack__row__room_id",
            "model__max_power_kw",
            "model__heat_output_kw",
            "model__liquid_fraction",
            "model__airflow_cfm",
            "model__kind",
        )
        .annotate(n=Count("id"))
        .values_list(
            "rack_id",
            "rack__row__room_id",
            "model__max_power_kw",
            "model__heat_output_kw",
            "model__liquid_fraction",
            "model__airflow_cfm",
            "model__kind",
            "n",
        )
        .order_by()
    )
    by_rack: dict[tuple[int, int], list] = defaultdict(list)
    has_switch = False
    for rack_id, room_id, power, heat, fraction, cfm, kind, n in per_model:
        by_rack[(rack_id, room_id)].append((ModelHeat(power, heat, fraction, cfm), n))
        has_switch = has_switch or kind == NodeModel.Kind.SWITCH
    rack_loads = []
    rack_air = []
    for (rack_id, room_id), counts in by_rack.items():
        power, heat, liquid = rack_heat_kw(counts)
        rack_loads.append((rack_id, room_id, power, liquid, heat))
        rack_air.append((rack_id, *rack_air_inputs(counts)))
    pdu_sources = Pdu.objects.filter(rack__row__room__site_id=site_id).values_list("rack_id", "source_id")
    return build_site_budgets(
        sources=_site_sources(site_id),
        loops=loops,
        links=list(links),
        rack_loads=rack_loads,
        pdu_sources=list(pdu_sources),
        rack_air=rack_air,
        has_switch=has_switch,
    )


class BudgetCache:
    """Per-process LRU of SiteBudgets keyed by (site id, budget token); safe across threads."""

    def __init__(self, max_sites: int):
        self.max_sites = max_sites
        self._entries: OrderedDict[tuple[int, object], SiteBudgets] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
            return hit

    def put(self, key, budgets: SiteBudgets) -> None:
        with self._lock:
            self._entries[key] = budgets
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_sites:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


budget_cache = BudgetCache(settings.PLANNER_BUDGET_CACHE_SITES)
fabric_cache = BudgetCache(settings.PLANNER_BUDGET_CACHE_SITES)


def site_fabric_index(site):
    """The site's fabric index (``selectors.fabric``), cached under its budget token like the budgets."""
    from planner.selectors.fabric import build_fabric_index

    return token_cached(fabric_cache, site.id, lambda: build_fabric_index(site.id), token=site.budget_token)


def rack_fabrics(budgets: SiteBudgets, site, rack_id: int) -> tuple:
    """FabricSpec of every fabric serving the rack; () with no query when no switch stands on the site."""
    if not budgets.has_switch:
        return ()
    return site_fabric_index(site).rack_specs(rack_id)


# A build that raced a commit to its site is redone under the new token at most this many times in all.
BUDGET_BUILD_ATTEMPTS = 3


def _current_token(site_id: int):
    return Site.objects.filter(pk=site_id).values_list("budget_token", flat=True).first()


def site_budgets(site) -> SiteBudgets:
    """The site's shared budgets: from this process's cache when the site's token has not changed since.

    ``site.budget_token`` must have been read before this call (with the site or rack row). A build is
    cached only if the token read again after it is still that token: then no change to the site committed
    while the build ran, and the entry is the state committed with the token (``planner.budget_tokens``
    explains why this is safe under READ COMMITTED). Otherwise it is rebuilt under the new token; after
    ``BUDGET_BUILD_ATTEMPTS`` builds that each raced a write, the last one is returned uncached (a reader
    racing writes sees something at least as new as its call; a placement holds the site lock, so its first
    build always validates).
    """
    return token_cached(budget_cache, site.id, lambda: _load_site_budgets(site.id), token=site.budget_token)


def site_token(site_id: int):
    """The site's budget token now (None: no such site). Read it before any row a cached build reads."""
    return _current_token(site_id)


def token_cached(cache: BudgetCache, site_id: int, build, *, token=None):
    """``build()``, a pure function of the site's committed state, cached in ``cache`` under the site's
    budget token (the protocol ``site_budgets`` explains): token read, build, token read again; cached only
    if the token held (no write to the site committed meanwhile), rebuilt under the new token otherwise, at
    most ``BUDGET_BUILD_ATTEMPTS`` times. Raises Site.DoesNotExist. The returned
    value is shared: callers must not change it. ``token``: the site's token as read (``site_token``) before
    every row ``build`` uses was read, when the caller has already read them.
    """
    if token is None:
        token = _current_token(site_id)
    if token is None:
        raise Site.DoesNotExist(f"No site with id {site_id}.")
    value = None
    for _ in range(BUDGET_BUILD_ATTEMPTS):
        key = (site_id, token)
        hit = cache.get(key)
        if hit is not None:
            return hit
        value = build()
        now = _current_token(site_id)
        if now == token:
            cache.put(key, value)
            return value
        if now is None:
            return value
        token = now
    return value


def rack_context(rack_id: int, *, rack: Rack | None = None) -> RackContext:
    """The engine's view of one rack and its shared budgets. Raises Rack.DoesNotExist.

    Three queries (rack, its nodes, its PDUs) when the site's budgets are cached, nine when they are not (the
    five of the build and the token read again), whatever the number of racks, nodes or loops of the site.
    """
    if rack is None:
        rack = Rack.objects.select_related("row__room__site").get(pk=rack_id)
    row, room = rack.row, rack.row.room
    site = room.site

    nodes = [
        PlacedNode(model=node_model_spec(n.model), u_position=n.u_position, node_id=n.id, name=n.name)
        for n in Node.objects.filter(rack_id=rack.id).select_related("model")
    ]
    pdus = [_pdu_spec(p) for p in Pdu.objects.filter(rack_id=rack.id)]
    budgets = site_budgets(site)
    return budget_context(
        budgets,
        site=site,
        room=room,
        row_spec=_row_spec(row),
        rack=rack,
        nodes=nodes,
        pdus=pdus,
        fabrics=rack_fabrics(budgets, site, rack.id),
    )


def busway_chains(
    budgets: SiteBudgets, site, *, fed: Iterable[int], own_power_kw: float, planned_kw: dict | None = None
) -> tuple[tuple[PowerSourceSpec, ...], ...]:
    """Every busway of the site with the sources above it (busway first), as engine specs. A source's other
    load is every rack's load through it (the budgets' load flow, plus ``planned_kw`` per source: a plan's
    additions) less this rack's ``own_power_kw`` on the sources in ``fed`` (the rack's own chain). No query."""
    fed = set(fed)
    planned = planned_kw or {}
    out = []
    for sid, row in sorted(budgets.sources.items(), key=lambda kv: (kv[1].name, kv[0])):
        if row.kind != "busway":
            continue
        out.append(
            tuple(
                _source_spec(
                    budgets.sources[c],
                    site,
                    other_load_kw=_other(
                        budgets.source_kw.get(c, 0.0) + planned.get(c, 0.0), own_power_kw if c in fed else 0.0
                    ),
                )
                for c in _source_chain_ids(budgets.sources, (sid,))
            )
        )
    return tuple(out)


def rack_busway_chains(ctx: RackContext, *, site: Site | None = None) -> tuple[tuple[PowerSourceSpec, ...], ...]:
    """``busway_chains`` for a context from ``rack_context``. ``site``: the rack's site row as read with the
    rack (no query when the site's budgets are cached); None: one query for it. () for no site id."""
    if site is None or site.id != ctx.site.site_id:
        site = Site.objects.filter(pk=ctx.site.site_id).first() if ctx.site.site_id is not None else None
    if site is None:
        return ()
    budgets = site_budgets(site)
    own = budgets.share(ctx.rack.rack_id).power_kw if ctx.rack.rack_id is not None else 0.0
    return busway_chains(budgets, site, fed=fed_source_ids(ctx), own_power_kw=own)


def rack_air_inputs(models_counts) -> tuple[float, float]:
    """(catalogue CFM of the nodes that have one, air kW of those that have none) of (model, count) pairs:
    ``build_site_budgets``'s ``rack_air``. Air kW is the air share of the node's heat (``node_heat_split_kw``),
    as COOLING_AIRFLOW computes it."""
    rated = 0.0
    unrated = 0.0
    for m, n in models_counts:
        if m.airflow_cfm is not None:
            rated += n * m.airflow_cfm
        else:
            unrated += n * node_heat_split_kw(m)[0]
    return rated, unrated


def most_specific_liquid(serving: list[CoolingLoop], room_id: int) -> list[CoolingLoop]:
    """The liquid loops that carry a rack's liquid heat: those listing it, else its room's, else the site's.
    ``serving`` is ``SiteBudgets.serving(rack, room)``; every page and report asks here (one copy of the rule)."""
    liquid = [lp for lp in serving if lp.kind in LIQUID]
    for tier in (
        [lp for lp in liquid if lp.n_racks > 0],
        [lp for lp in liquid if lp.n_racks == 0 and lp.room_id == room_id],
        [lp for lp in liquid if lp.n_racks == 0 and lp.room_id is None],
    ):
        if tier:
            return tier
    return []


# --- Whole-site snapshot -------------------------------------------------------------------------------


class SiteSnapshot:
    """Every rack of a site as an engine context, built in ten queries whatever the site's size.

    ``contexts`` maps rack id to its RackContext; the "other" loads in each context are the site's totals
    minus the rack's own share, computed with the same loop-serving rules as ``rack_context``.
    """

    def __init__(self, site, rooms, rows, racks, contexts, models, loops=(), budgets=None, gpus_by_slug=None):
        self.gpus_by_slug: dict[str, int | None] = dict(gpus_by_slug or {})  # model slug -> GPUs (None: unknown)
        self.loops = list(loops)  # every CoolingLoop of the site (with ``n_racks``)
        self.budgets = budgets
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
    with gc_paused():
        return _site_snapshot(site_id)


def _site_snapshot(site_id: int) -> SiteSnapshot:
    from racks.models import Room, Row

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
        "id",
        "rack_id",
        "name",
        "side",
        "phases",
        "voltage_v",
        "current_a",
        "power_factor",
        "source_id",
        "receptacles_c13",
        "receptacles_c19",
        "receptacles_iec60309",
        "branch_breaker_a",
        "branch_count",
    ):
        pdus_by_rack[rack_id].append(PduSpec(pid, *fields))
    for specs in pdus_by_rack.values():
        specs.sort(key=lambda p: (p.side, p.name))
    loops = list(CoolingLoop.objects.filter(site_id=site_id))
    links = list(
        CoolingLoop.racks.through.objects.filter(coolingloop__site_id=site_id).values_list("coolingloop_id", "rack_id")
    )
    rack_loads = []
    rack_air = []
    for rack in racks:
        nodes = nodes_by_rack.get(rack.id, ())
        if nodes:
            rack_air.append((rack.id, *rack_air_inputs((n.model, 1) for n in nodes)))
            power, heat, liquid = rack_heat_kw((n.model, 1) for n in nodes)
            rack_loads.append((rack.id, row_by_id[rack.row_id].room_id, power, liquid, heat))
    # The same totals as ``site_budgets`` (one function, so a rack's context is the same either way).
    budgets = build_site_budgets(
        sources=_site_sources(site_id),
        loops=loops,
        links=links,
        rack_loads=rack_loads,
        pdu_sources=[(rid, p.source_id) for rid, specs in pdus_by_rack.items() for p in specs],
        rack_air=rack_air,
        has_switch=any(n.model.kind == NodeModel.Kind.SWITCH for ns in nodes_by_rack.values() for n in ns),
    )
    # Specs that are the same for every rack sharing them are built once.
    row_specs = {row.id: _row_spec(row) for row in rows}
    contexts: dict[int, RackContext] = {}
    for rack in racks:
        row = row_by_id[rack.row_id]
        contexts[rack.id] = budget_context(
            budgets,
            site=site,
            room=room_by_id[row.room_id],
            row_spec=row_specs[row.id],
            rack=rack,
            nodes=sorted(nodes_by_rack.get(rack.id, ()), key=lambda n: n.u_position),
            pdus=pdus_by_rack.get(rack.id, ()),
            fabrics=rack_fabrics(budgets, site, rack.id),
        )
    gpus = {m.slug: m.gpus for m in models.values()}
    return SiteSnapshot(site, rooms, rows, racks, contexts, list(model_specs.values()), loops, budgets, gpus)


def site_failure_index(site_id: int):
    """The site's what-if / N-1 index (``planner.engine.failure``) from its snapshot: the ten queries of
    ``site_snapshot`` whatever the site's size. Every power source and cooling loop of the site is an element,
    those feeding or serving no rack too. Raises Site.DoesNotExist."""
    return failure_index_of(site_snapshot(site_id))


def failure_index_of(snap: SiteSnapshot, contexts=None):
    """The what-if / N-1 index of an already built site snapshot (no query). ``contexts``: the snapshot's
    rack contexts as the caller changed them (site selection places a plan's units), default the snapshot's."""
    from planner.engine.failure import build_index

    sources = [_source_spec(r, snap.site, other_load_kw=0.0) for r in snap.budgets.sources.values()]
    loops = [_loop_spec(lp, other_heat_kw=0.0, racks_served=lp.n_racks) for lp in snap.loops]
    return build_index(snap.contexts if contexts is None else contexts, snap.gpus_by_slug, sources=sources, loops=loops)
