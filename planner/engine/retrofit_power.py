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

* ``add_pdus``: keep the rack's PDUs and add, on each side, ``n = ceil((target_kw - side usable kW) / usable
  kW of the side's largest PDU)`` more of that rating on the side's existing source, where the sources feeding
  the rack have the headroom (``planner.engine.flow.source_headroom_kw`` >= target_kw: the engine charges the
  whole rack load to every source on its chain). Resolves ``POWER_RACK``.
* ``busway_tap_off``: re-feed the rack from tap-off boxes on a site busway with headroom >= target_kw (two
  busways when there are, one for each side; one shared busway is a single point of failure that
  POWER_REDUNDANCY warns about): ``n`` PDUs of the target rating per side as for ``replace_pdus`` (busways
  are typically 415/240 V, 250-1,200 A, UL 857, §16 T [S141c]) when POWER_RACK fails, else the rack's PDUs
  moved onto tap-offs. Resolves ``POWER_RACK`` and ``POWER_UPSTREAM`` (the rack leaves its sources).
  Lead time: §16.1 copper busway "figure not captured" [S141f], so None.
* ``combine``: a power option and a cooling option done together; the caller re-checks it on one context.

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
        _add_pdus(inp, config, failing),
        _busway_tap_off(inp, config, failing),
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
    # A panel or busway short of capacity means new switchgear (§16.1 gives a lead time); a UPS alone has none
    # in weeks ("stabilized" in 2023, "routinely delayed into the following year" in 2025, [S141d], [S141e]).
    weeks = None
    if any(k in ("panel", "busway") for _name, k, _usable, _load in over):
        weeks = cfg.switchgear_lead_time_weeks
        notes.append(
            f"lead time at least {weeks:g} weeks for switchgear: 'over one year' (§16.1, Q2 2023, S [S141d]); "
            "12-18 months (2025, T [S141e])"
        )
    else:
        notes.append("lead time: not in the reference (§16.1 UPS: no figure in weeks)")
    return _option(
        kind,
        failing,
        {POWER_UPSTREAM},
        lead_time_weeks=weeks,
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


def _add_pdus(inp: RetrofitInput, cfg: RetrofitConfig, failing: tuple[str, ...]) -> RetrofitOption:
    kind = "add_pdus"
    if POWER_RACK not in failing:
        return _not_applicable(kind, failing, "POWER_RACK passes: the rack's PDUs carry the load", inp.target_kw)
    if not inp.existing_pdus:
        return _not_applicable(kind, failing, "no PDUs recorded: nothing to add to (see replace_pdus)", inp.target_kw)
    head = inp.source_headroom_kw
    if head is not None and head < inp.target_kw - 1e-9:
        why = (
            f"the sources feeding the rack have {max(head, 0.0):.2f} kW headroom (usable - other racks' load, "
            f"load flow) < {inp.target_kw:.2f} kW: no room for more PDUs on them (see busway_tap_off, "
            "upstream_capacity)"
        )
        return _not_applicable(kind, failing, why, inp.target_kw)
    largest = max(kw for _, kw in inp.existing_pdus)
    if largest <= 0:
        return _not_applicable(kind, failing, "the rack's PDUs have no usable kW to copy", inp.target_kw)
    sides = inp.pdu_sides or ("A", "B")
    lines = []
    added: list[tuple[str, int]] = []
    for side in sides:
        mine = [kw for s, kw in inp.existing_pdus if s == side]
        # A side whose PDUs have no usable kW (unknown rating) gets copies of the largest PDU of the rack.
        unit = max(mine) if mine and max(mine) > 0 else largest
        now = sum(mine)
        n = max(0, math.ceil((inp.target_kw - now) / unit - 1e-9))
        added.append((side, n))
        lines.append(
            f"side {side}: {now:.2f} kW usable now + n = ceil(({inp.target_kw:.2f} - {now:.2f}) / {unit:.2f}) = {n} "
            f"x {unit:.2f} kW = {now + n * unit:.2f} kW"
        )
    total = sum(n for _, n in added)
    notes = [
        "add PDUs of the rating already on each side, on the side's existing source: "
        + "; ".join(lines)
        + " (each side carries the whole load alone, §4.7)"
    ]
    if head is None:
        notes.append("source headroom not checked: no upstream sources recorded")
    else:
        notes.append(f"the sources feeding the rack have {head:.2f} kW headroom >= {inp.target_kw:.2f} kW (load flow)")
    capex = None
    if cfg.pdu_addition_usd_per_pdu is None:
        notes.append(_unsourced("pdu_addition_usd_per_pdu"))
    else:
        capex = cfg.pdu_addition_usd_per_pdu * total
        notes.append(f"capex {total} PDU(s) x ${cfg.pdu_addition_usd_per_pdu:,.0f} (configured)")
    notes.append("lead time: not in the reference (§16.1 has no rack PDU figure)")
    most = max(n for _, n in added)
    per_side = max(n + sum(1 for s, _ in inp.existing_pdus if s == side) for side, n in added)
    prereqs = [
        f"a branch circuit (whip) per added PDU from the side's existing source, {total} in all",
        f"room in the rack for {per_side} PDUs per side (not checked: unsourced)",
        "receptacles matching the nodes' cords (not checked here)",
    ]
    return _option(
        kind,
        failing,
        {POWER_RACK},
        capex=capex,
        notes=notes,
        prerequisites=prereqs,
        carried_kw=inp.target_kw,
        pdus_per_side=most,
        pdu_usable_kw=largest,
        pdus_added_per_side=tuple(added),
    )


def _busway_tap_off(inp: RetrofitInput, cfg: RetrofitConfig, failing: tuple[str, ...]) -> RetrofitOption:
    kind = "busway_tap_off"
    if POWER_RACK not in failing and POWER_UPSTREAM not in failing:
        return _not_applicable(
            kind, failing, "POWER_RACK and POWER_UPSTREAM pass: the rack's feeds carry it", inp.target_kw
        )
    if not inp.busways:
        return _not_applicable(kind, failing, "no busway source recorded on the site", inp.target_kw)
    fits = [(name, head) for name, head in inp.busways if head >= inp.target_kw - 1e-9]
    if not fits:
        listed = "; ".join(f"{name} {max(head, 0.0):.2f} kW" for name, head in inp.busways)
        why = f"no busway with {inp.target_kw:.2f} kW headroom (usable - other racks' load, load flow): {listed}"
        return _not_applicable(kind, failing, why, inp.target_kw)
    sides = inp.pdu_sides or ("A", "B")
    chosen = [fits[i if i < len(fits) else 0][0] for i in range(len(sides))]
    heads = dict(fits)
    rating = pdu_rating_text(cfg)
    notes = [
        "re-feed the rack from busway tap-off boxes: "
        + "; ".join(
            f"side {side} from {name} ({heads[name]:.2f} kW headroom)" for side, name in zip(sides, chosen, strict=True)
        )
        + " (busways typically 415/240 V, 250-1,200 A, UL 857, §16 T [S141c])"
    ]
    prereqs = [f"the rack within reach of the busway run ({', '.join(dict.fromkeys(chosen))}; not checked)"]
    if len(set(chosen)) < len(chosen):
        prereqs.append(
            f"A and B share busway {chosen[0]}: a single point of failure (POWER_REDUNDANCY warns); a second "
            "busway for side B"
        )
    n = None
    usable = None
    pdu_cost_key = None
    if POWER_RACK in failing:
        usable = target_pdu_usable_kw(inp.power_derating, cfg)
        n = pdus_per_side(inp.target_kw, inp.power_derating, cfg)
        root = " x sqrt(3)" if int(cfg.pdu_target_phases) == 3 else ""
        notes.append(
            f"{n} x {rating} PDU per side, one tap-off each: {cfg.pdu_target_voltage_v:g} V x "
            f"{cfg.pdu_target_current_a:g} A{root} x {inp.power_derating:g} x PF {cfg.pdu_target_power_factor:g} = "
            f"{usable:.2f} kW each (§4.6 C); n = ceil({inp.target_kw:.2f} / {usable:.2f}) = {n}"
        )
        taps = n * len(sides)
        pdu_cost_key = "pdu_replacement_usd_per_pdu"
    else:
        taps = len(inp.existing_pdus) or len(sides)
        notes.append(f"the rack's {taps} PDU(s) moved onto one tap-off each")
    capex = None
    missing = [k for k in ("busway_tap_off_usd_each", pdu_cost_key) if k and getattr(cfg, k) is None]
    if missing:
        notes.extend(_unsourced(k) for k in missing)
    else:
        capex = cfg.busway_tap_off_usd_each * taps
        text = f"capex {taps} tap-off(s) x ${cfg.busway_tap_off_usd_each:,.0f}"
        if pdu_cost_key:
            capex += cfg.pdu_replacement_usd_per_pdu * taps
            text += f" + {taps} PDU(s) x ${cfg.pdu_replacement_usd_per_pdu:,.0f}"
        notes.append(text + " (configured)")
    notes.append("lead time: not in the reference (§16.1 copper busway: figure not captured, T [S141f])")
    return _option(
        kind,
        failing,
        {POWER_RACK, POWER_UPSTREAM},
        capex=capex,
        notes=notes,
        prerequisites=prereqs,
        carried_kw=inp.target_kw,
        pdus_per_side=n,
        pdu_usable_kw=usable,
        busways=tuple(chosen),
    )


def combine(power: RetrofitOption, cooling: RetrofitOption, failing: tuple[str, ...]) -> RetrofitOption:
    """``power`` and ``cooling`` done together: resolves what either claims (the caller re-checks it with the
    engine on one context), capex the sum (None when a part's is), lead time the longer known one, PUE and
    energy the cooling part's; the cooling part's prerequisites about rules the power part resolves drop."""
    failing = tuple(dict.fromkeys(failing))
    claimed = set(power.resolves) | set(cooling.resolves)
    notes = [f"{power.kind} + {cooling.kind} together"]
    if power.capex_usd is None or cooling.capex_usd is None:
        capex = None
        unknown = [o.kind for o in (power, cooling) if o.capex_usd is None]
        notes.append(f"capex not checked: {' and '.join(unknown)} capex unknown (see each option)")
    else:
        capex = power.capex_usd + cooling.capex_usd
        notes.append(f"capex ${power.capex_usd:,.0f} + ${cooling.capex_usd:,.0f} = ${capex:,.0f}")
    weeks = [o.lead_time_weeks for o in (power, cooling) if o.lead_time_weeks is not None]
    lead = max(weeks) if weeks else None
    for o in (power, cooling):
        if o.lead_time_weeks is None:
            notes.append(f"lead time of {o.kind}: not in the reference")
    notes.append(f"power: {_part_notes(power.notes)}")
    notes.append(f"cooling: {_part_notes(cooling.notes)}")
    prereqs = list(power.prerequisites) + [
        p
        for p in cooling.prerequisites
        if not any(code in p for code in power.resolves) and p not in power.prerequisites
    ]
    resolves = tuple(c for c in failing if c in claimed)
    still = tuple(c for c in failing if c not in claimed)
    return RetrofitOption(
        kind="combined",
        resolves=resolves,
        capex_usd=capex,
        pue_after=cooling.pue_after,
        annual_energy_cost_delta=cooling.annual_energy_cost_delta,
        annual_co2_kg_delta=cooling.annual_co2_kg_delta,
        notes="; ".join(notes),
        prerequisites=tuple(prereqs),
        cdu=cooling.cdu,
        applicable=True,
        resolves_all_failing_cooling=not any(c.startswith("COOLING_") for c in still),
        recommended=cooling.recommended and bool(resolves),
        carried_kw=max(power.carried_kw, cooling.carried_kw),
        still_failing=still,
        resolves_all_failing=bool(failing) and not still,
        lead_time_weeks=lead,
        pdus_per_side=power.pdus_per_side,
        pdu_usable_kw=power.pdu_usable_kw,
        added_kw=power.added_kw,
        pdus_added_per_side=power.pdus_added_per_side,
        busways=power.busways,
        combines=(power.kind, cooling.kind),
    )


_PART_ONLY = ("still failing after this option", "re-checked by the engine")


def _part_notes(notes: str) -> str:
    """A part's notes without what it says about itself alone (what still fails, its own re-check)."""
    return "; ".join(n for n in notes.split("; ") if not n.startswith(_PART_ONLY))
