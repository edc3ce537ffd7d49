"""Cooling-retrofit advice for one rack: which retrofit would unlock a proposed load, and at what cost.

``advise_retrofits(inp, config)`` returns every retrofit kind of the REST contract (``racks/{id}/retrofits/``),
best first. Decisions (see also ``RetrofitConfig`` for every default and its source):

* Every kind is returned. Options that cannot carry the rack's heat within their §3 band (or cannot apply:
  air-only hardware for direct liquid, an already contained row, cold-plate hardware in a tank) are listed
  at the end with ``applicable=False`` and ``why_not``; callers that want only feasible options filter on
  ``applicable`` (``applicable_options``). Bands are upper limits, except two lower edges that keep the
  only sourced costs from outranking the §6 answer for small racks: immersion below its per-tank band
  (100 kW, §3) and direct liquid below the §6 DLC band (<= 35 kW) when the hardware is unknown (known
  liquid-capable hardware always qualifies for direct liquid).
* Air-side options (containment, in-row, rear doors) are sized against the rack's **air** heat, which for an
  air-cooled rack equals ``target_kw``; for a hybrid rack it is the residual air of its liquid-cooled nodes.
  Direct liquid is sized against ``target_kw`` split into liquid and residual air; immersion against the
  whole ``target_kw``.
* A node that is liquid-cooled by design (``liquid_required``) always needs ``direct_liquid``: only that
  option resolves ``COOLING_LIQUID``/``COOLING_FLOW``, and immersion does not apply to cold-plate hardware
  (cold plates = liquid by design, or liquid heat in a rack not already in an immersion tank; an immersed
  rack may get more tank capacity, which resolves ``COOLING_LIQUID``).
* ``resolves`` assumes the option's ``prerequisites`` are met (e.g. direct liquid whose residual air needs
  containment lists containment as a prerequisite and then counts ``COOLING_AIR_RACK`` as resolved).
  ``COOLING_AIR_ROOM`` is claimed only when the caller gives ``room_air_deficit_kw`` and the option takes at
  least that much heat off the room air. No option claims ``COOLING_TEMPERATURE`` (it depends on facility
  water, listed as a prerequisite) or any power/floor/space code.
* Power options (``replace_pdus``, ``add_pdus``, ``busway_tap_off``, ``upstream_capacity``,
  ``utility_upgrade``) come from ``planner.engine.retrofit_power``; ``planner.retrofits`` re-checks them with
  the engine, and when no single option resolves every failing rule it adds ``combined`` plans (a power
  option with a cooling option, ``retrofit_power.combine``), re-checked together on one context.
* Order (``option_sort_key``): applicable first; an option resolving no failing rule after every one that
  resolves some (and never ``recommended``); then options resolving every failing code; then the number
  resolved; at equal count power before cooling; then every failing ``COOLING_*`` code resolved; then capex
  (None last); then PUE after; then the §6 recommendation for the rack's kW; then the §3 progression
  (containment, in-row, passive door, active door, direct liquid, immersion), then the power kinds.
* PUE before = site design PUE, else the air fleet average 1.54 [S26]. Air-side options keep it (no sourced
  PUE change); liquid options take ``min(before, liquid PUE)`` so a site already below the liquid median is
  not made worse. Energy deltas are at ``target_kw`` all year (the planner budgets at max power).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.engine.costs import (
    ASHRAE_W_CLASSES_MAX_SUPPLY_C,
    DEFAULT,
    FLUIDS_30C,
    HOURS_PER_YEAR,
    RetrofitConfig,
)

KINDS: tuple[str, ...] = (
    "containment",
    "in_row",
    "rear_door_passive",
    "rear_door_active",
    "direct_liquid",
    "immersion",
    "replace_pdus",
    "add_pdus",
    "busway_tap_off",
    "upstream_capacity",
    "utility_upgrade",
)
POWER_KINDS: tuple[str, ...] = ("replace_pdus", "add_pdus", "busway_tap_off", "upstream_capacity", "utility_upgrade")
COMBINED = "combined"  # a power option and a cooling option together (planner.engine.retrofit_power.combine)
_KIND_RANK = {kind: i for i, kind in enumerate((*KINDS, COMBINED))}
CONTAINMENTS = ("none", "cold_aisle", "hot_aisle")
COOLING_PREFIX = "COOLING_"

AIR_RACK = "COOLING_AIR_RACK"
AIR_ROOM = "COOLING_AIR_ROOM"
LIQUID = "COOLING_LIQUID"
FLOW = "COOLING_FLOW"


@dataclass(frozen=True, slots=True)
class RetrofitInput:
    """One rack after the proposed change, and what fails now.

    target_kw: rack IT load after the change. air_heat_kw / liquid_heat_kw: its split by the nodes'
    liquid fractions (air None: ``target_kw - liquid_heat_kw``). air_kw_per_rack_limit_kw: the row's air
    limit (None: DESIGN default by containment, 10 kW open / 25 kW contained). room_air_deficit_kw: how far
    the room's air heat exceeds its air-loop capacity (None: unknown, ``COOLING_AIR_ROOM`` never claimed).
    hardware_liquid_capable: some node is liquid/hybrid (None: unknown, e.g. a bare ``?target_kw=``
    query). node_max_supply_temp_c: lowest ``max_supply_temp_c`` of the liquid nodes (picks the W class).
    energy_price_per_kwh / carbon_kg_per_kwh: None gives None deltas with a note.
    """

    target_kw: float
    air_heat_kw: float | None = None
    liquid_heat_kw: float = 0.0
    failing_codes: tuple[str, ...] = ()
    containment: str = "none"
    air_kw_per_rack_limit_kw: float | None = None
    hardware_liquid_capable: bool | None = None
    liquid_required: bool = False
    existing_loop_kinds: tuple[str, ...] = ()
    rack_scale: bool = False
    floor_rated_load_kg_m2: float | None = None
    rack_weight_kg: float | None = None
    rack_footprint_m2: float | None = None
    loop_fluid: str = "water"
    loop_delta_t_c: float = 10.0
    facility_supply_temp_c: float | None = None
    node_max_supply_temp_c: float | None = None
    room_air_deficit_kw: float | None = None
    design_pue: float | None = None
    energy_price_per_kwh: float | None = None
    carbon_kg_per_kwh: float | None = None
    # power side (planner/engine/retrofit_power.py): the site's continuous-load derating, the rack's PDU
    # sides, each upstream source feeding the rack as (name, kind, usable kW, load kW incl. target_kw),
    # and the site's load incl. target_kw against its utility capacity (None: unlimited / unknown)
    power_derating: float = 0.8
    pdu_sides: tuple[str, ...] = ("A", "B")
    upstream_loads: tuple[tuple[str, str, float, float], ...] = ()
    site_load_kw: float | None = None
    utility_capacity_kw: float | None = None
    # the rack's PDUs now as (side, usable kW of that PDU) (add_pdus adds more of the largest rating on a
    # side), the headroom of the sources feeding it (planner.engine.flow.source_headroom_kw; None: no
    # sources recorded), and the site's busways with headroom as (name, headroom kW) (busway_tap_off)
    existing_pdus: tuple[tuple[str, float], ...] = ()
    source_headroom_kw: float | None = None
    busways: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        _finite_nonneg("target_kw", self.target_kw)
        _finite_nonneg("liquid_heat_kw", self.liquid_heat_kw)
        for name in (
            "air_heat_kw",
            "air_kw_per_rack_limit_kw",
            "floor_rated_load_kg_m2",
            "rack_weight_kg",
            "room_air_deficit_kw",
            "energy_price_per_kwh",
            "carbon_kg_per_kwh",
        ):
            value = getattr(self, name)
            if value is not None:
                _finite_nonneg(name, value)
        if self.rack_footprint_m2 is not None:
            _finite_nonneg("rack_footprint_m2", self.rack_footprint_m2)
        if not (math.isfinite(self.loop_delta_t_c) and self.loop_delta_t_c > 0):
            raise ValueError(f"loop_delta_t_c must be > 0, got {self.loop_delta_t_c!r}")
        for name in ("facility_supply_temp_c", "node_max_supply_temp_c"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
        if self.design_pue is not None and not (math.isfinite(self.design_pue) and self.design_pue >= 1.0):
            raise ValueError(f"design_pue must be >= 1.0, got {self.design_pue!r}")
        if self.containment not in CONTAINMENTS:
            raise ValueError(f"containment must be one of {CONTAINMENTS}, got {self.containment!r}")
        if self.loop_fluid not in FLUIDS_30C:
            raise ValueError(f"loop_fluid must be one of {tuple(FLUIDS_30C)}, got {self.loop_fluid!r}")

    @property
    def effective_air_heat_kw(self) -> float:
        if self.air_heat_kw is not None:
            return self.air_heat_kw
        return max(self.target_kw - self.liquid_heat_kw, 0.0)

    @property
    def liquid_capable(self) -> bool | None:
        """True/False/None (unknown); a liquid-by-design node makes the hardware liquid capable."""
        return True if self.liquid_required else self.hardware_liquid_capable

    @property
    def has_cold_plates(self) -> bool:
        """Some node is cooled by cold plates: liquid by design, or liquid heat outside an immersion tank."""
        return self.liquid_required or (self.liquid_heat_kw > 0 and "immersion" not in self.existing_loop_kinds)

    @property
    def failing_cooling_codes(self) -> tuple[str, ...]:
        return tuple(c for c in self.failing_codes if c.startswith(COOLING_PREFIX))


@dataclass(frozen=True, slots=True)
class CduSizing:
    """The CDU a direct-liquid retrofit needs: liquid heat, TCS flow for the fluid, residual air."""

    liquid_kw: float
    flow_lpm: float
    residual_air_kw: float
    fluid: str
    delta_t_c: float
    rho_kg_per_l: float
    cp_kj_per_kg_k: float
    basis: str  # where the liquid/air split came from


@dataclass(frozen=True, slots=True)
class RetrofitOption:
    """One retrofit. The first seven fields are the REST contract; the rest are additions."""

    kind: str
    resolves: tuple[str, ...]
    capex_usd: float | None
    pue_after: float | None
    annual_energy_cost_delta: float | None  # site currency per year; negative = saving
    annual_co2_kg_delta: float | None  # kg CO2 per year; negative = saving
    notes: str
    prerequisites: tuple[str, ...] = ()
    cdu: CduSizing | None = None
    applicable: bool = True
    why_not: str = ""
    resolves_all_failing_cooling: bool = False
    recommended: bool = False  # in the §6 default band for target_kw (or liquid by design)
    carried_kw: float = 0.0  # heat this option is sized to carry
    still_failing: tuple[str, ...] = ()  # failing codes this option does not resolve
    resolves_all_failing: bool = False  # every failing code (cooling, power, ...) resolved
    lead_time_weeks: float | None = None  # where the reference has a figure (§16.1), else None
    pdus_per_side: int | None = None  # replace_pdus: PDUs of the target rating on each side
    pdu_usable_kw: float | None = None  # replace_pdus: usable kW of one target PDU
    added_kw: float | None = None  # upstream_capacity / utility_upgrade: shortfall to add
    pdus_added_per_side: tuple[tuple[str, int], ...] = ()  # add_pdus: (side, PDUs added) of each side
    busways: tuple[str, ...] = ()  # busway_tap_off: the busway(s) tapped (side A's first)
    combines: tuple[str, ...] = ()  # combined: the kinds done together (power first)


@dataclass(frozen=True, slots=True)
class RecommendedBand:
    """§6 default recommendation for a rack kW: the band (lower exclusive, upper inclusive) and kinds."""

    lower_kw: float  # exclusive (0 for the first band)
    upper_kw: float | None  # inclusive; None = open-ended
    text: str
    kinds: tuple[str, ...]


def recommended_band(rack_kw: float, config: RetrofitConfig = DEFAULT) -> RecommendedBand:
    """The §6 planner default for a rack of ``rack_kw`` (edges inclusive at the top of each band)."""
    c = config
    if rack_kw <= c.band_open_air_max_kw:
        return RecommendedBand(0.0, c.band_open_air_max_kw, "raised-floor CRAC/CRAH, open aisles OK (no retrofit)", ())
    if rack_kw <= c.band_containment_max_kw:
        return RecommendedBand(
            c.band_open_air_max_kw,
            c.band_containment_max_kw,
            "add hot/cold-aisle containment",
            ("containment",),
        )
    if rack_kw <= c.band_containment_plus_max_kw:
        return RecommendedBand(
            c.band_containment_max_kw,
            c.band_containment_plus_max_kw,
            "containment + in-row coolers, or passive rear-door heat exchanger",
            ("containment", "in_row", "rear_door_passive"),
        )
    if rack_kw <= c.band_active_rdhx_max_kw:
        return RecommendedBand(
            c.band_containment_plus_max_kw,
            c.band_active_rdhx_max_kw,
            "active rear-door heat exchanger, or direct liquid if the hardware supports it",
            ("rear_door_active", "direct_liquid"),
        )
    if rack_kw <= c.band_dlc_max_kw:
        return RecommendedBand(
            c.band_active_rdhx_max_kw,
            c.band_dlc_max_kw,
            (
                f"direct liquid with CDU (plan residual air {_pct(c.dlc_residual_air_fraction_min)}-"
                f"{_pct(c.dlc_residual_air_fraction_max)}, or ~{_pct(c.dlc_residual_air_fraction_rack_scale)} "
                "for NVL72-class racks)"
            ),
            ("direct_liquid",),
        )
    return RecommendedBand(
        c.band_dlc_max_kw, None, "high-capacity direct liquid or immersion", ("direct_liquid", "immersion")
    )


def required_w_class_c(node_max_supply_temp_c: float | None, config: RetrofitConfig = DEFAULT) -> float:
    """Warmest ASHRAE W class (max facility supply, C) that keeps supply <= the node's limit.

    Unknown limit: the configured default class. Below W17: the node's limit itself (colder than W17).
    """
    if node_max_supply_temp_c is None:
        return config.dlc_default_w_class_c
    fitting = [w for w in ASHRAE_W_CLASSES_MAX_SUPPLY_C if w <= node_max_supply_temp_c]
    return max(fitting) if fitting else node_max_supply_temp_c


def flow_lpm(liquid_kw: float, fluid: str, delta_t_c: float) -> float:
    """§4.3: L/min = kW x 60 / (rho [kg/L] x cp [kJ/(kg K)] x dT [K]), properties at 30 C."""
    props = FLUIDS_30C[fluid]
    return liquid_kw * 60.0 / (props.rho_kg_per_l * props.cp_kj_per_kg_k * delta_t_c)


def size_cdu(inp: RetrofitInput, config: RetrofitConfig = DEFAULT) -> CduSizing:
    """Split ``target_kw`` into CDU liquid heat and residual air.

    The nodes' own split when the caller gives liquid heat; else ~13 % residual for rack-scale (NVL72)
    systems; else the 20-30 % range with each side at its worst case: the CDU at 80 % liquid and the air
    side at 30 % residual (together 110 % of IT load, on purpose).
    """
    c = config
    if inp.liquid_heat_kw > 0:
        liquid = inp.liquid_heat_kw
        residual = inp.effective_air_heat_kw
        basis = "the nodes' liquid fractions"
    elif inp.rack_scale:
        liquid = inp.target_kw * (1.0 - c.dlc_residual_air_fraction_rack_scale)
        residual = inp.target_kw * c.dlc_residual_air_fraction_rack_scale
        basis = (
            f"rack-scale residual air {_pct(c.dlc_residual_air_fraction_rack_scale)} (GB200 NVL72 115/17 kW, P* [S10])"
        )
    else:
        liquid = inp.target_kw * (1.0 - c.dlc_residual_air_fraction_min)
        residual = inp.target_kw * c.dlc_residual_air_fraction_max
        basis = (
            f"DLC residual air {_pct(c.dlc_residual_air_fraction_min)}-{_pct(c.dlc_residual_air_fraction_max)} "
            f"[S50]: CDU at {_pct(1 - c.dlc_residual_air_fraction_min)} liquid, air side at "
            f"{_pct(c.dlc_residual_air_fraction_max)}"
        )
    props = FLUIDS_30C[inp.loop_fluid]
    return CduSizing(
        liquid_kw=liquid,
        flow_lpm=flow_lpm(liquid, inp.loop_fluid, inp.loop_delta_t_c),
        residual_air_kw=residual,
        fluid=inp.loop_fluid,
        delta_t_c=inp.loop_delta_t_c,
        rho_kg_per_l=props.rho_kg_per_l,
        cp_kj_per_kg_k=props.cp_kj_per_kg_k,
        basis=basis,
    )


def pue_before(inp: RetrofitInput, config: RetrofitConfig = DEFAULT) -> float:
    return inp.design_pue if inp.design_pue is not None else config.pue_air_fleet


def advise_retrofits(inp: RetrofitInput, config: RetrofitConfig = DEFAULT) -> tuple[RetrofitOption, ...]:
    """Every retrofit kind for the rack, best first (applicable ones first; see the module docstring)."""
    from planner.engine.retrofit_power import power_options

    ctx = _Ctx(inp, config)
    options = (
        _containment(ctx),
        _in_row(ctx),
        _rear_door(ctx, active=False),
        _rear_door(ctx, active=True),
        _direct_liquid(ctx),
        _immersion(ctx),
        *power_options(inp, config),
    )
    return tuple(sorted(options, key=option_sort_key))


def option_sort_key(option: RetrofitOption) -> tuple:
    """Best first: applicable; resolves some failing rule (an option that resolves none is never first);
    resolves every failing rule; how many it resolves; at equal count power before cooling (a cooling
    retrofit does not help a rack that cannot be powered); resolves every failing cooling rule; capex (None
    last); PUE; §6; kind."""
    return (
        not option.applicable,
        not option.resolves,
        not option.resolves_all_failing,
        -len(option.resolves),
        not any(c.startswith("POWER_") for c in option.resolves),
        not option.resolves_all_failing_cooling,
        option.capex_usd is None,
        option.capex_usd if option.capex_usd is not None else 0.0,
        option.pue_after if option.pue_after is not None else math.inf,
        not option.recommended,
        _KIND_RANK[option.kind],
    )


def applicable_options(options: tuple[RetrofitOption, ...]) -> tuple[RetrofitOption, ...]:
    return tuple(o for o in options if o.applicable)


# ---------------------------------------------------------------------------------------------------


class _Ctx:
    """Values shared by the option builders (computed once)."""

    __slots__ = (
        "air_kw",
        "air_limit_kw",
        "band",
        "cfg",
        "common_prereqs",
        "failing",
        "failing_cooling",
        "inp",
        "pue_before",
    )

    def __init__(self, inp: RetrofitInput, cfg: RetrofitConfig) -> None:
        self.inp = inp
        self.cfg = cfg
        self.air_kw = inp.effective_air_heat_kw
        if inp.air_kw_per_rack_limit_kw is not None:
            self.air_limit_kw = inp.air_kw_per_rack_limit_kw
        elif inp.containment == "none":
            self.air_limit_kw = cfg.open_aisle_air_limit_kw
        else:
            self.air_limit_kw = cfg.contained_air_ceiling_kw
        self.band = recommended_band(inp.target_kw, cfg)
        self.failing = tuple(dict.fromkeys(inp.failing_codes))
        self.failing_cooling = tuple(c for c in self.failing if c.startswith(COOLING_PREFIX))
        self.pue_before = pue_before(inp, cfg)
        prereqs: list[str] = []
        if "POWER_RACK" in self.failing:
            prereqs.append(f"rack power for {_kw(inp.target_kw)} (POWER_RACK fails now: see replace_pdus)")
        for code in self.failing:
            if code.startswith(COOLING_PREFIX) or code == "POWER_RACK":
                continue
            if code.startswith("FLOOR_"):
                prereqs.append(f"floor reinforcement or lighter load ({code} fails now)")
            elif code.startswith("POWER_"):
                prereqs.append(f"upstream power ({code} fails now; not fixed by a cooling retrofit)")
            else:
                prereqs.append(f"{code} fails now; not fixed by a cooling retrofit")
        self.common_prereqs = tuple(prereqs)

    def recommended(self, kind: str) -> bool:
        if kind == "direct_liquid" and self.inp.liquid_required:
            return True
        return kind in self.band.kinds

    def air_room_resolved(self, removed_kw: float) -> bool:
        deficit = self.inp.room_air_deficit_kw
        return deficit is not None and removed_kw >= deficit

    def finish(
        self,
        kind: str,
        *,
        resolved: set[str],
        capex_usd: float | None,
        pue_after: float,
        notes: list[str],
        prerequisites: list[str],
        carried_kw: float,
        cdu: CduSizing | None = None,
    ) -> RetrofitOption:
        inp = self.inp
        resolves = tuple(c for c in self.failing if c in resolved)
        if AIR_ROOM in self.failing and AIR_ROOM not in resolved and inp.room_air_deficit_kw is None:
            notes.append("COOLING_AIR_ROOM not claimed: room air deficit unknown")
        left = ", ".join(c for c in self.failing_cooling if c not in resolved)
        if left:
            notes.append(f"still failing after this option: {left}")
        delta_pue = pue_after - self.pue_before
        annual_kwh_delta = inp.target_kw * HOURS_PER_YEAR * delta_pue
        if inp.energy_price_per_kwh is None:
            cost_delta = None
            notes.append("no energy price: set the site's energy_price_per_kwh")
        else:
            cost_delta = annual_kwh_delta * inp.energy_price_per_kwh
        if inp.carbon_kg_per_kwh is None:
            co2_delta = None
            notes.append("no carbon intensity: set the site's carbon_kg_per_kwh")
        else:
            co2_delta = annual_kwh_delta * inp.carbon_kg_per_kwh
        recommended = self.recommended(kind) and bool(resolves)
        if recommended:
            notes.insert(0, f"§6 default for {_kw(inp.target_kw)}: {self.band.text}")
        return RetrofitOption(
            kind=kind,
            resolves=resolves,
            capex_usd=capex_usd,
            pue_after=pue_after,
            annual_energy_cost_delta=cost_delta,
            annual_co2_kg_delta=co2_delta,
            notes="; ".join(notes),
            prerequisites=tuple(prerequisites) + self.common_prereqs,
            cdu=cdu,
            applicable=True,
            why_not="",
            resolves_all_failing_cooling=all(c in resolved for c in self.failing_cooling),
            recommended=recommended,
            carried_kw=carried_kw,
            still_failing=tuple(c for c in self.failing if c not in resolved),
            resolves_all_failing=bool(self.failing) and all(c in resolved for c in self.failing),
        )

    def not_applicable(self, kind: str, why: str, carried_kw: float) -> RetrofitOption:
        return RetrofitOption(
            kind=kind,
            resolves=(),
            capex_usd=None,
            pue_after=None,
            annual_energy_cost_delta=None,
            annual_co2_kg_delta=None,
            notes=why,
            prerequisites=(),
            cdu=None,
            applicable=False,
            why_not=why,
            resolves_all_failing_cooling=False,
            recommended=False,
            carried_kw=carried_kw,
            still_failing=self.failing,
        )

    def liquid_note(self) -> str | None:
        if self.inp.has_cold_plates:
            return "does not cool the liquid-cooled nodes: direct_liquid is still required for them"
        return None


def _no_cost(key: str) -> str:
    return f"no sourced cost; set {key}"


def _containment(ctx: _Ctx) -> RetrofitOption:
    inp, cfg, kind = ctx.inp, ctx.cfg, "containment"
    if inp.containment != "none":
        return ctx.not_applicable(kind, f"row already has {inp.containment} containment", ctx.air_kw)
    ceiling = cfg.contained_air_ceiling_kw
    if ctx.air_kw > ceiling:
        return ctx.not_applicable(
            kind,
            f"air heat {_kw(ctx.air_kw)} is above the contained-air ceiling {_kw(ceiling)} (§3, T [S65])",
            ctx.air_kw,
        )
    notes = [f"hot/cold-aisle containment raises the row's air limit to {_kw(ceiling)} per rack (§3 [S65])"]
    if (liquid := ctx.liquid_note()) is not None:
        notes.append(liquid)
    capex = cfg.containment_capex_usd_per_rack
    if capex is None:
        notes.append(_no_cost("containment_capex_usd_per_rack"))
    return ctx.finish(
        kind,
        resolved={AIR_RACK},
        capex_usd=capex,
        pue_after=ctx.pue_before,
        notes=notes,
        prerequisites=["room air loops (CRAH) sized for the contained aisle's total heat"],
        carried_kw=ctx.air_kw,
    )


def _in_row(ctx: _Ctx) -> RetrofitOption:
    inp, cfg, kind = ctx.inp, ctx.cfg, "in_row"
    cap = cfg.in_row_max_kw
    if ctx.air_kw > cap:
        return ctx.not_applicable(
            kind, f"air heat {_kw(ctx.air_kw)} is above one in-row unit's {_kw(cap)} (§3, T [S45])", ctx.air_kw
        )
    notes = [f"in-row cooler(s) for {_kw(ctx.air_kw)} of air heat (units 10-{cap:g} kW each, §3 T [S45])"]
    prereqs = ["chilled water (or DX refrigerant) piped to the row; supply temperature per vendor (unsourced)"]
    capex: float | None = None
    if cfg.in_row_capex_usd_per_kw is None:
        notes.append(_no_cost("in_row_capex_usd_per_kw"))
    else:
        capex = cfg.in_row_capex_usd_per_kw * ctx.air_kw
    if inp.containment == "none":
        prereqs.insert(0, "hot/cold-aisle containment (§6: containment + in-row)")
        if cfg.containment_capex_usd_per_rack is None:
            notes.append("capex excludes containment (" + _no_cost("containment_capex_usd_per_rack") + ")")
        elif capex is not None:
            capex += cfg.containment_capex_usd_per_rack
    if "in_row" in inp.existing_loop_kinds:
        notes.append("rack already has an in-row loop: this adds or upsizes units")
    if (liquid := ctx.liquid_note()) is not None:
        notes.append(liquid)
    return ctx.finish(
        kind,
        resolved={AIR_RACK} | ({AIR_ROOM} if ctx.air_room_resolved(ctx.air_kw) else set()),
        capex_usd=capex,
        pue_after=ctx.pue_before,
        notes=notes,
        prerequisites=prereqs,
        carried_kw=ctx.air_kw,
    )


def _rear_door_water(ctx: _Ctx) -> tuple[str, str | None]:
    supply = ctx.cfg.rear_door_water_supply_c
    text = (
        f"facility chilled water ~{supply:g} C (IBM RDHx for ASHRAE A1 rooms, P [S57]), "
        "kept >= 2 C above the room's max dew point [S48]"
    )
    fac = ctx.inp.facility_supply_temp_c
    if fac is None:
        return text, None
    if fac > supply + 1.0:
        return text, f"facility supply {fac:g} C is warmer than the doors' ~{supply:g} C +/- 1 C specification"
    return text, None


def _rear_door(ctx: _Ctx, *, active: bool) -> RetrofitOption:
    inp, cfg = ctx.inp, ctx.cfg
    kind = "rear_door_active" if active else "rear_door_passive"
    cap = cfg.rear_door_active_max_kw if active else cfg.rear_door_passive_max_kw
    src = "§3 T [S46][S47], P* [S48]" if active else "§3 T [S46][S47]"
    if ctx.air_kw > cap:
        return ctx.not_applicable(
            kind,
            f"air heat {_kw(ctx.air_kw)} is above the {'active' if active else 'passive'} door's {_kw(cap)} ({src})",
            ctx.air_kw,
        )
    water, water_warn = _rear_door_water(ctx)
    prereqs = [water]
    if active:
        family = next(
            (f for f in cfg.rear_door_active_families_kw if ctx.air_kw <= f[1]), cfg.rear_door_active_families_kw[-1]
        )
        notes = [
            f"fan-assisted rear door for {_kw(ctx.air_kw)}: door family rated {family[0]:g}-{family[1]:g} kW "
            "(HPE/Motivair, P* [S48])"
        ]
        prereqs.append("rack power for the door fans (fan power per vendor; unsourced)")
        cost_key = "rear_door_active_capex_usd_per_rack"
        capex = cfg.rear_door_active_capex_usd_per_rack
    else:
        notes = [
            f"passive rear door for {_kw(ctx.air_kw)}: server fans push air through the coil, no added fan power (§3)"
        ]
        cost_key = "rear_door_passive_capex_usd_per_rack"
        capex = cfg.rear_door_passive_capex_usd_per_rack
    if water_warn:
        notes.append(water_warn)
    if "rear_door" in inp.existing_loop_kinds:
        notes.append("rack already has a rear-door loop: this replaces or upsizes the door")
    if (liquid := ctx.liquid_note()) is not None:
        notes.append(liquid)
    if capex is None:
        notes.append(_no_cost(cost_key))
    return ctx.finish(
        kind,
        resolved={AIR_RACK} | ({AIR_ROOM} if ctx.air_room_resolved(ctx.air_kw) else set()),
        capex_usd=capex,
        pue_after=ctx.pue_before,
        notes=notes,
        prerequisites=prereqs,
        carried_kw=ctx.air_kw,
    )


def _facility_water_prereq(ctx: _Ctx) -> tuple[str, str | None]:
    inp = ctx.inp
    w = required_w_class_c(inp.node_max_supply_temp_c, ctx.cfg)
    if w in ASHRAE_W_CLASSES_MAX_SUPPLY_C:
        text = f"facility water W{w:g} or colder (supply <= {w:g} C)"
    else:
        text = f"facility water colder than W17 (supply <= {w:g} C)"
    if inp.node_max_supply_temp_c is None:
        text += f"; node max supply temperature unknown, planner default W{w:g}"
    else:
        text += f"; from the node's max supply {inp.node_max_supply_temp_c:g} C"
    text += "; CDU approach temperature on top (vendor)"
    warn = None
    if inp.facility_supply_temp_c is not None and inp.facility_supply_temp_c > w:
        warn = f"facility supply {inp.facility_supply_temp_c:g} C is warmer than {w:g} C: needs chiller trim"
    return text, warn


def _direct_liquid(ctx: _Ctx) -> RetrofitOption:
    inp, cfg, kind = ctx.inp, ctx.cfg, "direct_liquid"
    if inp.liquid_capable is False:
        return ctx.not_applicable(
            kind,
            "hardware is air-cooled: direct liquid needs liquid-capable (cold-plate) nodes",
            inp.target_kw,
        )
    if inp.liquid_capable is None and inp.target_kw <= cfg.band_containment_plus_max_kw:
        return ctx.not_applicable(
            kind,
            f"hardware unknown and {_kw(inp.target_kw)} is below the §6 direct-liquid band "
            f"(> {cfg.band_containment_plus_max_kw:g} kW); liquid-capable hardware always qualifies",
            inp.target_kw,
        )
    cdu = size_cdu(inp, cfg)
    residual = cdu.residual_air_kw
    prereqs: list[str] = []
    notes: list[str] = []
    resolved = {LIQUID, FLOW}
    capex: float | None = None
    if cfg.dlc_capex_usd_per_kw is None:
        notes.append(_no_cost("dlc_capex_usd_per_kw"))
    else:
        capex = cfg.dlc_capex_usd_per_kw * cdu.liquid_kw
    # Residual air: where does it go?
    if residual <= ctx.air_limit_kw:
        resolved.add(AIR_RACK)
    elif inp.containment == "none" and residual <= cfg.contained_air_ceiling_kw:
        resolved.add(AIR_RACK)
        prereqs.append(
            f"hot/cold-aisle containment for {_kw(residual)} residual air (ceiling {_kw(cfg.contained_air_ceiling_kw)})"
        )
        if cfg.containment_capex_usd_per_rack is None:
            notes.append("capex excludes containment (" + _no_cost("containment_capex_usd_per_rack") + ")")
        elif capex is not None:
            capex += cfg.containment_capex_usd_per_rack
    elif residual <= cfg.rear_door_active_max_kw:
        resolved.add(AIR_RACK)
        door = "passive" if residual <= cfg.rear_door_passive_max_kw else "active"
        key = f"rear_door_{door}_capex_usd_per_rack"
        prereqs.append(f"{door} rear door for {_kw(residual)} residual air")
        door_capex = getattr(cfg, key)
        if door_capex is None:
            notes.append(f"capex excludes the rear door ({_no_cost(key)})")
        elif capex is not None:
            capex += door_capex
    else:
        return ctx.not_applicable(
            kind,
            f"residual air {_kw(residual)} exceeds every air-side option "
            f"(active door {_kw(cfg.rear_door_active_max_kw)})",
            inp.target_kw,
        )
    removed = max(ctx.air_kw - residual, 0.0)
    if ctx.air_room_resolved(removed):
        resolved.add(AIR_ROOM)
    water, water_warn = _facility_water_prereq(ctx)
    prereqs.insert(0, water)
    prereqs.insert(
        1,
        f"CDU for {_kw(cdu.liquid_kw)} at {cdu.flow_lpm:.1f} L/min {cdu.fluid} (dT {cdu.delta_t_c:g} K; "
        "size for liquid heat only, N+1 common, §3)",
    )
    prereqs.append("power for CDU pumps (per vendor; unsourced)")
    if inp.liquid_capable is None:
        prereqs.insert(0, "liquid-capable (cold-plate) hardware; the rack's hardware is unknown")
    notes.insert(
        0,
        f"cold-plate liquid: {_kw(cdu.liquid_kw)} to liquid, {_kw(residual)} residual air ({cdu.basis})",
    )
    if capex is not None and cfg.dlc_capex_usd_per_kw is not None:
        notes.append(f"capex ${cfg.dlc_capex_usd_per_kw:,.0f}/kW of liquid heat (retrofit, S [S54])")
        if cfg.greenfield_liquid_capex_usd_per_kw is not None:
            notes.append(f"greenfield liquid capacity > ${cfg.greenfield_liquid_capex_usd_per_kw:,.0f}/kW [S54]")
    if inp.target_kw > cfg.band_dlc_max_kw:
        notes.append(f"above {_kw(cfg.band_dlc_max_kw)}: high-capacity DLC (§6)")
    if "direct_liquid" in inp.existing_loop_kinds:
        notes.append("rack already has a direct-liquid loop: this adds CDU capacity for the rack's liquid heat")
    if water_warn:
        notes.append(water_warn)
    pue_after = min(ctx.pue_before, cfg.pue_direct_liquid)
    notes.append(f"PUE {pue_after:g} (LBNL IT liquid cooling + waterside economiser 1.13, S [S22])")
    return ctx.finish(
        kind,
        resolved=resolved,
        capex_usd=capex,
        pue_after=pue_after,
        notes=notes,
        prerequisites=prereqs,
        carried_kw=inp.target_kw,
        cdu=cdu,
    )


def _immersion(ctx: _Ctx) -> RetrofitOption:
    inp, cfg, kind = ctx.inp, ctx.cfg, "immersion"
    if inp.has_cold_plates:
        return ctx.not_applicable(
            kind,
            "the rack has cold-plate (liquid-cooled) nodes: they need direct_liquid, not a tank",
            inp.target_kw,
        )
    if inp.target_kw < cfg.immersion_min_kw:
        return ctx.not_applicable(
            kind,
            f"{_kw(inp.target_kw)} is below the immersion planning band ({cfg.immersion_min_kw:g}-"
            f"{cfg.immersion_two_phase_max_kw:g} kW per tank, §3 T [S47])",
            inp.target_kw,
        )
    if inp.target_kw > cfg.immersion_two_phase_max_kw:
        return ctx.not_applicable(
            kind,
            f"{_kw(inp.target_kw)} is above a two-phase tank's {_kw(cfg.immersion_two_phase_max_kw)} (§3, T [S47])",
            inp.target_kw,
        )
    if inp.target_kw <= cfg.immersion_single_phase_max_kw:
        notes = [f"single-phase immersion tank (~100-{cfg.immersion_single_phase_max_kw:g} kW per tank, §3 T [S47])"]
    else:
        notes = [
            f"two-phase immersion tank (~200-{cfg.immersion_two_phase_max_kw:g} kW per tank, §3 T [S47]); "
            "fluorocarbon fluids face PFAS restrictions"
        ]
    notes.append("hardware must be qualified by its vendor for immersion (not in the catalogue data)")
    if "immersion" in inp.existing_loop_kinds:
        notes.append("rack is already served by an immersion loop: this adds or upsizes tank capacity")
    floor = (
        "floor rated for a filled tank: tank + fluid weight per vendor (unsourced; 'multi-ton point loads', T [S71])"
    )
    if inp.floor_rated_load_kg_m2 is not None:
        floor += f"; room rating {inp.floor_rated_load_kg_m2:g} kg/m2"
        if inp.rack_weight_kg is not None and inp.rack_footprint_m2:
            floor += f", current rack {inp.rack_weight_kg / inp.rack_footprint_m2:.0f} kg/m2"
    prereqs = [
        floor,
        "facility water to the tank's heat exchanger (supply temperature per vendor; unsourced)",
        "power for tank pumps (per vendor; unsourced)",
    ]
    capex: float | None = None
    if cfg.immersion_capex_usd_per_kw is None:
        notes.append(_no_cost("immersion_capex_usd_per_kw"))
    else:
        capex = cfg.immersion_capex_usd_per_kw * inp.target_kw
        notes.append(
            f"capex ${cfg.immersion_capex_usd_per_kw:,.0f}/kW: the liquid-retrofit figure [S54], not immersion-specific"
        )
    pue_after = min(ctx.pue_before, cfg.pue_immersion)
    notes.append(f"PUE {pue_after:g} (immersion partial PUE 1.03-1.10, conservative end, T [S47])")
    resolved = {AIR_RACK} | ({AIR_ROOM} if ctx.air_room_resolved(ctx.air_kw) else set())
    if "immersion" in inp.existing_loop_kinds:
        resolved.add(LIQUID)  # the added tank capacity is sized for the whole rack
    return ctx.finish(
        kind,
        resolved=resolved,
        capex_usd=capex,
        pue_after=pue_after,
        notes=notes,
        prerequisites=prereqs,
        carried_kw=inp.target_kw,
    )


def _finite_nonneg(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _kw(value: float) -> str:
    return f"{value:.1f} kW"


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.0f} %"
