"""Glue between rack contexts and the engine's headroom and retrofit advisor (plain dicts for the API/UI)."""

from __future__ import annotations

import dataclasses
from functools import cache

from django.conf import settings

from planner import engine, selectors
from planner.engine.costs import RetrofitConfig
from planner.engine.flow import heat_split_kw, immersed, rack_heat_kw, room_air_left_kw, source_headroom_kw
from planner.engine.inputs import CoolingLoopSpec, NodeModelSpec, PduSpec, Placement, PowerSourceSpec, RackContext
from planner.engine.retrofit import (
    POWER_KINDS,
    RetrofitInput,
    RetrofitOption,
    advise_retrofits,
    option_sort_key,
    required_w_class_c,
)
from planner.engine.retrofit_power import combine, pdus_per_side
from planner.engine.rules.power import fed_source_ids
from planner.engine.units import CLOSE_COUPLED_KINDS, LIQUID_KINDS, pdu_usable_kw

Chains = tuple[tuple[PowerSourceSpec, ...], ...]
# the codes a busway re-feed may need: the lookup of the site's busways is done only when one fails
_BUSWAY_CODES = frozenset({"POWER_RACK", "POWER_UPSTREAM"})
# how many of the best power and of the best cooling options are paired into combined plans
COMBINE_TOP = 2


@cache
def retrofit_config() -> RetrofitConfig:
    """Defaults from the reference, overridden by ``settings.RETROFIT_CONFIG`` (validated once)."""
    return RetrofitConfig.from_overrides(getattr(settings, "RETROFIT_CONFIG", {}) or {})


def headroom_dict(ctx: RackContext, models: list[NodeModelSpec] | None = None) -> dict:
    """The contract's rack headroom: every dimension, what binds, and how many more of each model fit."""
    return engine.rack_headroom(ctx, models if models is not None else selectors.catalogue_specs()).to_dict()


def _as_dict(option) -> dict:
    out = dataclasses.asdict(option)
    out["resolves"] = list(option.resolves)
    out["prerequisites"] = list(option.prerequisites)
    out["still_failing"] = list(option.still_failing)
    out["pdus_added_per_side"] = dict(option.pdus_added_per_side) if option.pdus_added_per_side else None
    out["busways"] = list(option.busways)
    out["combines"] = list(option.combines)
    return out


def target_load_context(
    ctx: RackContext, target_kw: float
) -> tuple[RackContext, tuple[tuple[NodeModelSpec, int], ...]]:
    """The rack emptied, and one air-cooled "target load" of ``target_kw`` to place in it (1 U, the weight
    of the rack's nodes now, no PSU or airflow figures: those rules say not checked), so that a ``?target_kw=``
    question is checked and re-checked by the engine like an order."""
    weight = sum(n.model.weight_kg for n in ctx.nodes)
    model = NodeModelSpec(
        slug="target-load",
        u_height=1,
        max_power_kw=target_kw,
        typical_power_kw=target_kw,
        weight_kg=weight,
        cooling="air",
        liquid_fraction=0.0,
        airflow_cfm=None,
        psu_count=0,
        psu_rating_kw=0.0,
        psus_required=0,
        max_inlet_temp_c=None,
        max_supply_temp_c=None,
        name=f"{target_kw:g} kW target load",
    )
    return dataclasses.replace(ctx, nodes=()), ((model, 1),)


def _failing_now(ctx: RackContext, extra: tuple[tuple[NodeModelSpec, int], ...]) -> set[str]:
    """Failing codes of the rack with ``extra`` placed (auto position), else of the rack as it is."""
    if not extra:
        return {c.code for c in engine.check_rack(ctx).checks if c.status == "fail"}
    failing: set[str] = set()
    for model, count in extra:
        result = engine.check_placement(ctx, Placement(model=model, quantity=count))
        failing |= {c.code for c in result.checks if c.status == "fail"}
    return failing


def _largest(pdus) -> PduSpec | None:
    """The PDU of the highest usable kW (``units.pdu_usable_kw``; the derating is common to all)."""
    return max(
        pdus,
        key=lambda p: (pdu_usable_kw(p.voltage_v, p.current_a, p.phases, 1.0, p.power_factor), p.name),
        default=None,
    )


def _target_pdus(ctx: RackContext, n: int, config: RetrofitConfig, source_of) -> tuple[PduSpec, ...]:
    sides = sorted({p.side for p in ctx.pdus if p.side in ("A", "B")}) or ["A", "B"]
    return tuple(
        PduSpec(
            pdu_id=None,
            name=f"new {side}{i + 1}",
            side=side,
            phases=int(config.pdu_target_phases),
            voltage_v=config.pdu_target_voltage_v,
            current_a=config.pdu_target_current_a,
            power_factor=config.pdu_target_power_factor,
            source_id=source_of(side),
        )
        for side in sides
        for i in range(n)
    )


def _power_context(
    ctx: RackContext, option: RetrofitOption, power_kw: float, config: RetrofitConfig, busways: dict[str, tuple]
):
    """The rack context with the power retrofit done (None: not a power option)."""
    if option.kind == "replace_pdus":
        n = pdus_per_side(power_kw, ctx.site.power_derating, config)
        return dataclasses.replace(
            ctx,
            pdus=_target_pdus(
                ctx, n, config, lambda side: next((p.source_id for p in ctx.pdus if p.side == side), None)
            ),
        )
    if option.kind == "add_pdus":
        added = []
        for side, n in option.pdus_added_per_side:
            template = _largest([p for p in ctx.pdus if p.side == side]) or dataclasses.replace(
                _largest(ctx.pdus), side=side, source_id=None
            )
            added += [dataclasses.replace(template, pdu_id=None, name=f"added {side}{i + 1}") for i in range(n)]
        return dataclasses.replace(ctx, pdus=ctx.pdus + tuple(added))
    if option.kind == "busway_tap_off":
        sides = sorted({p.side for p in ctx.pdus if p.side in ("A", "B")}) or ["A", "B"]
        by_side = dict(zip(sides, option.busways, strict=True))
        chains = [busways[name] for name in dict.fromkeys(option.busways)]
        sources = tuple({s.source_id: s for chain in chains for s in chain}.values())

        def source_of(side):
            return busways[by_side[side]][0].source_id

        if option.pdus_per_side:
            pdus = _target_pdus(ctx, option.pdus_per_side, config, source_of)
        else:
            pdus = tuple(
                dataclasses.replace(p, source_id=source_of(p.side)) if p.side in by_side else p for p in ctx.pdus
            )
        return dataclasses.replace(ctx, pdus=pdus, sources=sources)
    if option.kind == "upstream_capacity":
        fed = fed_source_ids(ctx)
        sources = tuple(
            dataclasses.replace(s, usable_kw=max(s.usable_kw, s.other_load_kw + power_kw)) if s.source_id in fed else s
            for s in ctx.sources
        )
        return dataclasses.replace(ctx, sources=sources)
    if option.kind == "utility_upgrade" and ctx.site.utility_capacity_kw is not None:
        site_kw = ctx.site.other_load_kw + power_kw
        site = dataclasses.replace(ctx.site, utility_capacity_kw=max(ctx.site.utility_capacity_kw, site_kw))
        return dataclasses.replace(ctx, site=site)
    return None


def _new_loop(kind: str, name: str, capacity_kw: float, supply_c: float, **kw) -> CoolingLoopSpec:
    return CoolingLoopSpec(
        loop_id=None,
        name=name,
        kind=kind,
        unit_capacity_kw=capacity_kw,
        units=1,
        redundant_units=0,
        supply_temp_c=supply_c,
        racks_served=1,
        **kw,
    )


def _cooling_context(ctx: RackContext, option: RetrofitOption, config: RetrofitConfig, inp: RetrofitInput):
    """The rack context with the cooling retrofit done, sized as the advisor sized it (None: not modelled).

    Containment: the row contained (hot aisle), its air limit the contained default unless the row's own
    is higher. In-row / rear doors: one close-coupled unit of the option's carried air kW serving the rack
    (chilled water at the doors' supply). Direct liquid: a CDU loop of the sized liquid kW and TCS flow.
    Immersion: a tank loop of the carried kW. A new unit's unsourced figures (air delta T, airflow) are not
    modelled, so the rules that read them (COOLING_AIRFLOW, COOLING_TEMPERATURE) are never counted as
    resolved by a combination (``_recheck``)."""
    kind = option.kind
    water_c = config.rear_door_water_supply_c
    if kind == "containment":
        limit = ctx.row.air_kw_per_rack_limit
        keep = limit if limit is not None and limit >= config.contained_air_ceiling_kw else None
        return dataclasses.replace(
            ctx, row=dataclasses.replace(ctx.row, containment="hot_aisle", air_kw_per_rack_limit=keep)
        )
    if kind == "in_row":
        loop = _new_loop("in_row", "new in-row", option.carried_kw, water_c, delta_t_c=10.0, fluid="water")
    elif kind in ("rear_door_passive", "rear_door_active"):
        loop = _new_loop("rear_door", "new rear door", option.carried_kw, water_c, delta_t_c=10.0, fluid="water")
    elif kind == "direct_liquid" and option.cdu is not None:
        cdu = option.cdu
        supply = inp.facility_supply_temp_c
        if supply is None:
            supply = required_w_class_c(inp.node_max_supply_temp_c, config)
        loop = _new_loop(
            "direct_liquid",
            "new CDU",
            cdu.liquid_kw,
            supply,
            delta_t_c=cdu.delta_t_c,
            fluid=cdu.fluid,
            max_flow_lpm=cdu.flow_lpm,
        )
    elif kind == "immersion":
        loop = _new_loop("immersion", "new tank", option.carried_kw, water_c, delta_t_c=10.0, fluid="water")
    else:
        return None
    return dataclasses.replace(ctx, loops=(*ctx.loops, loop))


_UNMODELLED = frozenset({"COOLING_AIRFLOW", "COOLING_TEMPERATURE", "COOLING_LIQUID_REDUNDANCY"})


def _recheck(option, new_ctx, extra, failing_codes, baseline: set[str], *, combined: bool = False):
    """``option`` with ``resolves`` / ``still_failing`` from the engine's check of ``new_ctx``.

    A code counts as resolved when it fails on the rack as it is (same check) and passes after the retrofit;
    a code the re-check cannot reproduce (e.g. a fixed U position) keeps the advisor's sizing claim. For a
    combination a cooling code counts only when a part claims it and never one reading figures the new unit
    does not have (``_UNMODELLED``)."""
    after = _failing_now(new_ctx, extra)
    claimed = set(option.resolves)

    def resolved(c: str) -> bool:
        if c not in baseline:
            return c in claimed
        if c in after:
            return False
        return not combined or c.startswith("POWER_") or (c in claimed and c not in _UNMODELLED)

    resolves = tuple(c for c in failing_codes if resolved(c))
    still = tuple(c for c in failing_codes if c not in resolves)
    note = f"re-checked by the engine with the retrofit: resolves {', '.join(resolves) or 'nothing'}"
    if combined:
        note = f"re-checked by the engine with both retrofits on one rack: resolves {', '.join(resolves) or 'nothing'}"
    return dataclasses.replace(
        option,
        resolves=resolves,
        still_failing=still,
        resolves_all_failing=bool(failing_codes) and not still,
        resolves_all_failing_cooling=not any(c.startswith("COOLING_") for c in still),
        recommended=option.recommended and bool(resolves) and (not combined or not still),
        notes=f"{option.notes}; {note}",
    )


def _rechecked(
    ctx: RackContext,
    options: tuple[RetrofitOption, ...],
    extra: tuple[tuple[NodeModelSpec, int], ...],
    failing_codes: tuple[str, ...],
    power_kw: float,
    config: RetrofitConfig,
    busways: dict[str, tuple] | None = None,
    inp: RetrofitInput | None = None,
) -> tuple[RetrofitOption, ...]:
    """Power options re-checked by the engine on the retrofitted rack; then, when no single option resolves
    every failing rule, combined plans (each of the best ``COMBINE_TOP`` power options that resolve some
    failing rule with each of the best cooling ones), re-checked together on one context. Best first."""
    busways = busways or {}
    baseline: set[str] | None = None
    out = []
    power_ctx: dict[int, RackContext] = {}
    for option in options:
        new_ctx = _power_context(ctx, option, power_kw, config, busways) if option.applicable else None
        if new_ctx is None:
            out.append(option)
            continue
        if baseline is None:
            baseline = _failing_now(ctx, extra)
        rechecked = _recheck(option, new_ctx, extra, failing_codes, baseline)
        power_ctx[id(rechecked)] = new_ctx
        out.append(rechecked)
    out.sort(key=option_sort_key)
    if inp is not None and not any(o.applicable and o.resolves_all_failing for o in out):
        powers = [o for o in out if o.applicable and o.resolves and o.kind in POWER_KINDS][:COMBINE_TOP]
        coolings = [o for o in out if o.applicable and o.resolves and o.kind not in POWER_KINDS][:COMBINE_TOP]
        if powers and coolings and baseline is None:
            baseline = _failing_now(ctx, extra)
        for power in powers:
            for cooling in coolings:
                both = _cooling_context(power_ctx[id(power)], cooling, config, inp)
                if both is None:
                    continue
                plan = combine(power, cooling, failing_codes)
                out.append(_recheck(plan, both, extra, failing_codes, baseline, combined=True))
    return tuple(sorted(out, key=option_sort_key))


def offers_retrofits(failing_codes) -> bool:
    """Whether a check offers retrofit options: when any rule fails (power options sit beside cooling ones;
    the advisor marks an option that resolves no failing rule as not applicable). The API and the pages
    both ask this."""
    return bool(failing_codes)


def retrofit_options(
    ctx: RackContext,
    *,
    extra: tuple[tuple[NodeModelSpec, int], ...] = (),
    target_kw: float | None = None,
    failing_codes: tuple[str, ...] | None = None,
    config: RetrofitConfig | None = None,
    busways: Chains | None = None,
    site=None,
) -> list[dict]:
    """Retrofit options for a rack, best first (applicable ones before the others).

    ``extra``: units to add (model, count); the rack's load after them is what the options must carry.
    ``target_kw``: plan for a total rack IT load instead (hardware liquid capability then unknown; checked
    and re-checked as one air-cooled load of that kW in the emptied rack, ``target_load_context``).
    ``failing_codes``: the rules that fail now; None = evaluate the engine to find them.
    ``busways``: the site's busway chains (``selectors.busway_chains``); None = look them up when POWER_RACK
    or POWER_UPSTREAM fails (``site``: the rack's site row read with it, else one query for it).
    """
    config = config or retrofit_config()
    check_ctx, check_extra = (ctx, extra) if target_kw is None else target_load_context(ctx, target_kw)
    models = [n.model for n in ctx.nodes] + [m for m, count in extra for _ in range(count)]
    power_kw, heat_kw, liquid_kw = rack_heat_kw((m, 1) for m in models)
    _, liquid_kw = heat_split_kw(heat_kw, liquid_kw, immersion=immersed(ctx.loops))
    if failing_codes is None:
        failing_codes = tuple(sorted(_failing_now(check_ctx, check_extra))) if check_extra else ()
    if target_kw is not None:
        power_kw, heat_kw, liquid_kw = target_kw, target_kw, 0.0
        if not models:
            models = [check_extra[0][0]]
    if busways is None:
        busways = selectors.rack_busway_chains(ctx, site=site) if _BUSWAY_CODES & set(failing_codes) else ()
    busway_map = {chain[0].name: chain for chain in busways if chain}
    fed = fed_source_ids(ctx)
    liquid_loops = [lp for lp in ctx.loops if lp.kind in LIQUID_KINDS]
    air_loops_kw = sum(
        engine.loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units) for lp in ctx.room.air_loops
    )
    close = [lp for lp in ctx.loops if lp.kind in CLOSE_COUPLED_KINDS]
    room_air_after = room_air_left_kw(ctx.room.other_air_heat_kw, heat_kw - liquid_kw, close)
    weight_kg = ctx.rack.empty_weight_kg + sum(m.weight_kg for m in models)
    supply_limits = [m.max_supply_temp_c for m in models if m.liquid_fraction > 0 and m.max_supply_temp_c is not None]
    derating = ctx.site.power_derating
    inp = RetrofitInput(
        target_kw=power_kw,
        air_heat_kw=max(heat_kw - liquid_kw, 0.0) if target_kw is None else None,
        liquid_heat_kw=liquid_kw,
        failing_codes=failing_codes,
        containment=ctx.row.containment,
        air_kw_per_rack_limit_kw=ctx.row.air_kw_per_rack_limit,
        hardware_liquid_capable=(any(m.liquid_fraction > 0 for m in models) if target_kw is None else None),
        liquid_required=any(m.cooling == "liquid" for m in models),
        existing_loop_kinds=tuple(sorted({lp.kind for lp in ctx.loops})),
        rack_scale=any(m.rack_scale for m in models),
        floor_rated_load_kg_m2=ctx.room.floor_rated_load_kg_m2,
        rack_weight_kg=weight_kg,
        rack_footprint_m2=ctx.rack.width_mm * ctx.rack.depth_mm / 1e6,
        loop_fluid=liquid_loops[0].fluid if liquid_loops and liquid_loops[0].fluid in ("water", "pg25") else "water",
        loop_delta_t_c=liquid_loops[0].delta_t_c if liquid_loops else 10.0,
        facility_supply_temp_c=liquid_loops[0].supply_temp_c if liquid_loops else None,
        node_max_supply_temp_c=min(supply_limits) if supply_limits else None,
        room_air_deficit_kw=max(room_air_after - air_loops_kw, 0.0),
        design_pue=ctx.site.design_pue,
        energy_price_per_kwh=ctx.site.energy_price_per_kwh,
        carbon_kg_per_kwh=ctx.site.carbon_kg_per_kwh,
        power_derating=derating,
        pdu_sides=tuple(sorted({p.side for p in ctx.pdus if p.side in ("A", "B")})) or ("A", "B"),
        upstream_loads=tuple(
            (s.name, s.kind, s.usable_kw, s.other_load_kw + power_kw) for s in ctx.sources if s.source_id in fed
        ),
        site_load_kw=ctx.site.other_load_kw + power_kw,
        utility_capacity_kw=ctx.site.utility_capacity_kw,
        existing_pdus=tuple(
            (p.side, pdu_usable_kw(p.voltage_v, p.current_a, p.phases, derating, p.power_factor))
            for p in ctx.pdus
            if p.side in ("A", "B")
        ),
        source_headroom_kw=source_headroom_kw([s for s in ctx.sources if s.source_id in fed]),
        busways=tuple(
            sorted(
                ((name, source_headroom_kw(chain)) for name, chain in busway_map.items()),
                key=lambda nh: (-nh[1], nh[0]),
            )
        ),
    )
    options = advise_retrofits(inp, config)
    options = _rechecked(check_ctx, options, check_extra, failing_codes, power_kw, config, busway_map, inp)
    return [_as_dict(o) for o in options]
