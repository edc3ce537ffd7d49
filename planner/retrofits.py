"""Glue between rack contexts and the engine's headroom and retrofit advisor (plain dicts for the API/UI)."""

from __future__ import annotations

import dataclasses
from functools import cache

from django.conf import settings

from planner import engine, selectors
from planner.engine.costs import RetrofitConfig
from planner.engine.flow import heat_split_kw, immersed, rack_heat_kw, room_air_left_kw
from planner.engine.inputs import NodeModelSpec, Placement, RackContext
from planner.engine.retrofit import RetrofitInput, advise_retrofits
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
    return out


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
    )
    return [_as_dict(o) for o in advise_retrofits(inp, config)]
