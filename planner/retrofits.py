"""Glue between rack contexts and the engine's headroom and retrofit advisor (plain dicts for the API/UI)."""

from __future__ import annotations

import dataclasses
from functools import cache

from django.conf import settings

from planner import engine, selectors
from planner.engine.costs import RetrofitConfig
from planner.engine.flow import heat_split_kw, immersed, rack_heat_kw, room_air_left_kw
from planner.engine.inputs import NodeModelSpec, PduSpec, Placement, RackContext
from planner.engine.retrofit import RetrofitInput, RetrofitOption, advise_retrofits, option_sort_key
from planner.engine.retrofit_power import pdus_per_side
from planner.engine.rules.power import fed_source_ids
from planner.engine.units import CLOSE_COUPLED_KINDS, LIQUID_KINDS


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
    return out


def _failing_now(ctx: RackContext, extra: tuple[tuple[NodeModelSpec, int], ...]) -> set[str]:
    """Failing codes of the rack with ``extra`` placed (auto position), else of the rack as it is."""
    if not extra:
        return {c.code for c in engine.check_rack(ctx).checks if c.status == "fail"}
    failing: set[str] = set()
    for model, count in extra:
        result = engine.check_placement(ctx, Placement(model=model, quantity=count))
        failing |= {c.code for c in result.checks if c.status == "fail"}
    return failing


def _power_context(ctx: RackContext, option: RetrofitOption, power_kw: float, config: RetrofitConfig):
    """The rack context with the power retrofit done (None: not a power option)."""
    if option.kind == "replace_pdus":
        sides = sorted({p.side for p in ctx.pdus if p.side in ("A", "B")}) or ["A", "B"]
        n = pdus_per_side(power_kw, ctx.site.power_derating, config)
        pdus = []
        for side in sides:
            source = next((p.source_id for p in ctx.pdus if p.side == side), None)
            pdus += [
                PduSpec(
                    pdu_id=None,
                    name=f"new {side}{i + 1}",
                    side=side,
                    phases=int(config.pdu_target_phases),
                    voltage_v=config.pdu_target_voltage_v,
                    current_a=config.pdu_target_current_a,
                    power_factor=config.pdu_target_power_factor,
                    source_id=source,
                )
                for i in range(n)
            ]
        return dataclasses.replace(ctx, pdus=tuple(pdus))
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


def _rechecked(
    ctx: RackContext,
    options: tuple[RetrofitOption, ...],
    extra: tuple[tuple[NodeModelSpec, int], ...],
    failing_codes: tuple[str, ...],
    power_kw: float,
    config: RetrofitConfig,
) -> tuple[RetrofitOption, ...]:
    """Power options with ``resolves`` / ``still_failing`` from the engine's own check of the retrofitted rack.

    A code counts as resolved when it fails on the rack as it is (same check) and passes after the retrofit;
    a code the re-check cannot reproduce (e.g. a fixed U position) keeps the advisor's sizing claim."""
    baseline: set[str] | None = None
    out = []
    for option in options:
        new_ctx = _power_context(ctx, option, power_kw, config) if option.applicable else None
        if new_ctx is None:
            out.append(option)
            continue
        if baseline is None:
            baseline = _failing_now(ctx, extra)
        after = _failing_now(new_ctx, extra)
        resolves = tuple(
            c
            for c in failing_codes
            if (c in baseline and c not in after) or (c not in baseline and c in option.resolves)
        )
        still = tuple(c for c in failing_codes if c not in resolves)
        note = f"re-checked by the engine with the retrofit: resolves {', '.join(resolves) or 'nothing'}"
        out.append(
            dataclasses.replace(
                option,
                resolves=resolves,
                still_failing=still,
                resolves_all_failing=bool(failing_codes) and not still,
                resolves_all_failing_cooling=not any(c.startswith("COOLING_") for c in still),
                notes=f"{option.notes}; {note}",
            )
        )
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
) -> list[dict]:
    """Retrofit options for a rack, best first (applicable ones before the others).

    ``extra``: units to add (model, count); the rack's load after them is what the options must carry.
    ``target_kw``: plan for a total rack IT load instead (hardware liquid capability then unknown).
    ``failing_codes``: the rules that fail now; None = evaluate the engine to find them.
    """
    config = config or retrofit_config()
    models = [n.model for n in ctx.nodes] + [m for m, count in extra for _ in range(count)]
    power_kw, heat_kw, liquid_kw = rack_heat_kw((m, 1) for m in models)
    _, liquid_kw = heat_split_kw(heat_kw, liquid_kw, immersion=immersed(ctx.loops))
    if failing_codes is None:
        failing = set()
        for model, count in extra:
            result = engine.check_placement(ctx, Placement(model=model, quantity=count))
            failing |= {c.code for c in result.checks if c.status == "fail"}
        failing_codes = tuple(sorted(failing))
    if target_kw is not None:
        power_kw, heat_kw, liquid_kw = target_kw, target_kw, 0.0
    fed = fed_source_ids(ctx)
    liquid_loops = [lp for lp in ctx.loops if lp.kind in LIQUID_KINDS]
    air_loops_kw = sum(
        engine.loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units) for lp in ctx.room.air_loops
    )
    close = [lp for lp in ctx.loops if lp.kind in CLOSE_COUPLED_KINDS]
    room_air_after = room_air_left_kw(ctx.room.other_air_heat_kw, heat_kw - liquid_kw, close)
    weight_kg = ctx.rack.empty_weight_kg + sum(m.weight_kg for m in models)
    supply_limits = [m.max_supply_temp_c for m in models if m.liquid_fraction > 0 and m.max_supply_temp_c is not None]
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
        power_derating=ctx.site.power_derating,
        pdu_sides=tuple(sorted({p.side for p in ctx.pdus if p.side in ("A", "B")})) or ("A", "B"),
        upstream_loads=tuple(
            (s.name, s.kind, s.usable_kw, s.other_load_kw + power_kw) for s in ctx.sources if s.source_id in fed
        ),
        site_load_kw=ctx.site.other_load_kw + power_kw,
        utility_capacity_kw=ctx.site.utility_capacity_kw,
    )
    options = advise_retrofits(inp, config)
    if target_kw is None:
        options = _rechecked(ctx, options, extra, failing_codes, power_kw, config)
    return [_as_dict(o) for o in options]
