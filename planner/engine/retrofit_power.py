"""Power-side retrofits for one rack: replace its PDUs, add upstream capacity, upgrade the utility.

Pure sizing (no Django): the caller (``planner.retrofits``) re-checks each option with the engine's own
rules on a modified rack context and overwrites ``resolves`` / ``still_failing`` with what the engine says.

* ``replace_pdus``: per side, ``n = ceil(target_kw / usable kW of one target PDU)`` PDUs of the configured
  rating (default 415 V 3-phase 63 A, PF 1.0, §4.6 / §16: 36.228 kW at 80 %), so that each side alone carries
  the whole load (§4.7 2N, as POWER_RACK checks). Resolves ``POWER_RACK``.
* ``upstream_capacity``: for every source over capacity (``POWER_UPSTREAM``), the shortfall kW = load incl.
  the rack - usable kW. Capex ``ups_usd_per_kw`` x shortfall when configured. Lead time: none in §16.1 for
  UPS/panels ("stabilized" / "routinely delayed", no figure), so None.
* ``utility_upgrade``: when ``POWER_SITE`` binds: the shortfall kW over the utility capacity; no cost; lead
  time of large power transformers (128 weeks, §16.1 T [S141]).

Capex: the reference has no PDU, busway or UPS cost (§16 "not found"): ``capex_usd`` is None with the
reason unless the operator sets ``RETROFIT_CONFIG``. Options that do not apply (their rule passes) are
listed with ``applicable=False``.
"""

from __future__ import annotations

import math

from planner.engine.costs import RetrofitConfig
from planner.engine.retrofit import RetrofitInput, RetrofitOption
from planner.engine.units import pdu_usable_kw

POWER_RACK = "POWER_RACK"
POWER_UPSTREAM = "POWER_UPSTREAM"
POWER_SITE = "POWER_SITE"


def target_pdu_usable_kw(derating: float, config: RetrofitConfig) -> float:
    """Usable kW of one PDU of the configured target rating at the site's derating (§4.4 / §4.6)."""
    return pdu_usable_kw(
        config.pdu_target_voltage_v,
        config.pdu_target_current_a,
        int(config.pdu_target_phases),
        derating,
        config.pdu_target_power_factor,
    )


def pdu_rating_text(config: RetrofitConfig) -> str:
    phases = "three-phase" if int(config.pdu_target_phases) == 3 else "single-phase"
    return f"{config.pdu_target_voltage_v:g} V {config.pdu_target_current_a:g} A {phases}"


def pdus_per_side(target_kw: float, derating: float, config: RetrofitConfig) -> int:
    """n = ceil(target_kw / usable kW per PDU), at least 1 (each side carries the whole load alone)."""
    usable = target_pdu_usable_kw(derating, config)
    if usable <= 0:
        raise ValueError("target PDU usable kW must be > 0")
    return max(1, math.ceil(target_kw / usable - 1e-9))


def power_options(inp: RetrofitInput, config: RetrofitConfig) -> tuple[RetrofitOption, ...]:
    failing = tuple(dict.fromkeys(inp.failing_codes))
    return (
        _replace_pdus(inp, config, failing),
        _upstream(inp, config, failing),
        _utility(inp, config, failing),
    )


def _unsourced(key: str) -> str:
    return f"capex not checked: unsourced (§16 'not found'); set RETROFIT_CONFIG['{key}']"


def _option(
    kind: str,
    failing: tuple[str, ...],
    resolved: set[str],
    *,
    capex: float | None,
    notes: list[str],
    prerequisites: list[str],
    carried_kw: float,
    lead_time_weeks: float | None = None,
    **extra,
) -> RetrofitOption:
    resolves = tuple(c for c in failing if c in resolved)
    still = tuple(c for c in failing if c not in resolved)
    if still:
        notes.append(f"still failing after this option: {', '.join(still)}")
    return RetrofitOption(
        kind=kind,
        resolves=resolves,
        capex_usd=capex,
        pue_after=None,
        annual_energy_cost_delta=None,
        annual_co2_kg_delta=None,
        notes="; ".join(notes),
        prerequisites=tuple(prerequisites),
        applicable=True,
        resolves_all_failing_cooling=not any(c.startswith("COOLING_") for c in still),
        recommended=False,
        carried_kw=carried_kw,
        still_failing=still,
        resolves_all_failing=bool(failing) and not still,
        lead_time_weeks=lead_time_weeks,
        **extra,
    )


def _not_applicable(kind: str, failing: tuple[str, ...], why: str, carried_kw: float) -> RetrofitOption:
    return RetrofitOption(
        kind=kind,
        resolves=(),
        capex_usd=None,
        pue_after=None,
        annual_energy_cost_delta=None,
        annual_co2_kg_delta=None,
        notes=why,
        applicable=False,
        why_not=why,
        carried_kw=carried_kw,
        still_failing=failing,
    )


def _replace_pdus(inp: RetrofitInput, cfg: RetrofitConfig, failing: tuple[str, ...]) -> RetrofitOption:
    kind = "replace_pdus"
    if POWER_RACK not in failing:
        return _not_applicable(kind, failing, "POWER_RACK passes: the rack's PDUs carry the load", inp.target_kw)
    usable = target_pdu_usable_kw(inp.power_derating, cfg)
    n = pdus_per_side(inp.target_kw, inp.power_derating, cfg)
    sides = inp.pdu_sides or ("A", "B")
    rating = pdu_rating_text(cfg)
    root = " x sqrt(3)" if int(cfg.pdu_target_phases) == 3 else ""
    notes = [
        f"replace the rack PDUs with {n} x {rating} per side ({', '.join(sides)}): "
        f"{cfg.pdu_target_voltage_v:g} V x {cfg.pdu_target_current_a:g} A{root} x {inp.power_derating:g} x PF "
        f"{cfg.pdu_target_power_factor:g} = {usable:.2f} kW each (§4.6 C); n = ceil({inp.target_kw:.2f} / "
        f"{usable:.2f}) = {n}, each side carries the whole load alone (§4.7)"
    ]
    total = n * len(sides)
    capex = None
    if cfg.pdu_replacement_usd_per_pdu is None:
        notes.append(_unsourced("pdu_replacement_usd_per_pdu"))
    else:
        capex = cfg.pdu_replacement_usd_per_pdu * total
        notes.append(f"capex {total} PDU(s) x ${cfg.pdu_replacement_usd_per_pdu:,.0f} (configured)")
    notes.append("lead time: not in the reference (§16.1 has no rack PDU figure)")
    prereqs = [
        f"a {rating} branch circuit (whip) per new PDU from the existing sources, {total} in all",
        "receptacles matching the nodes' cords (not checked here)",
    ]
    resolved = {POWER_RACK}
    return _option(
        kind,
        failing,
        resolved,
        capex=capex,
        notes=notes,
        prerequisites=prereqs,
        carried_kw=inp.target_kw,
        pdus_per_side=n,
        pdu_usable_kw=usable,
    )


def _upstream(inp: RetrofitInput, cfg: RetrofitConfig, failing: tuple[str, ...]) -> RetrofitOption:
    kind = "upstream_capacity"
    if POWER_UPSTREAM not in failing:
        return _not_applicable(kind, failing, "POWER_UPSTREAM passes (or no sources recorded)", inp.target_kw)
    over = [(name, k, usable, load) for name, k, usable, load in inp.upstream_loads if load > usable]
    if not over:
        return _not_applicable(
            kind, failing, "POWER_UPSTREAM fails but no over-capacity source feeds this rack", inp.target_kw
        )
    lines = [
        f"{name} ({k}): {load:.2f} kW load - {usable:.2f} kW usable = {load - usable:.2f} kW"
        for name, k, usable, load in over
    ]
    added = sum(load - usable for _, _, usable, load in over)
    notes = ["add upstream UPS / panel / busway capacity: " + "; ".join(lines)]
    capex = None
    if cfg.ups_usd_per_kw is None:
        notes.append(_unsourced("ups_usd_per_kw"))
    else:
        capex = cfg.ups_usd_per_kw * added
        notes.append(f"capex {added:.2f} kW x ${cfg.ups_usd_per_kw:,.0f}/kW (configured)")
    notes.append("lead time: not in the reference (§16.1 UPS/switchgear: no figure in weeks)")
    return _option(
        kind,
        failing,
        {POWER_UPSTREAM},
        capex=capex,
        notes=notes,
        prerequisites=["upstream of each upgraded source: its own parent within capacity"],
        carried_kw=inp.target_kw,
        added_kw=added,
    )


def _utility(inp: RetrofitInput, cfg: RetrofitConfig, failing: tuple[str, ...]) -> RetrofitOption:
    kind = "utility_upgrade"
    if POWER_SITE not in failing or inp.site_load_kw is None or inp.utility_capacity_kw is None:
        return _not_applicable(
            kind, failing, "POWER_SITE passes (or the utility capacity is not recorded)", inp.target_kw
        )
    added = max(inp.site_load_kw - inp.utility_capacity_kw, 0.0)
    weeks = cfg.utility_transformer_lead_time_weeks
    notes = [
        f"utility upgrade: site load {inp.site_load_kw:.2f} kW - {inp.utility_capacity_kw:.2f} kW utility = "
        f"{added:.2f} kW short",
        f"lead time ~{weeks:g} weeks for large power transformers (§16.1, WoodMac Q2 2025, T [S141])",
        "capex not checked: unsourced (§16 switchgear / transformer 'not found'); a utility matter",
    ]
    return _option(
        kind,
        failing,
        {POWER_SITE},
        capex=None,
        notes=notes,
        prerequisites=["utility service agreement for the added capacity"],
        carried_kw=inp.target_kw,
        lead_time_weeks=weeks,
        added_kw=added,
    )
