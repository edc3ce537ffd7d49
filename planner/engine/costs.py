"""Retrofit and TCO defaults, each with its source.

Every default below carries a source tag from ``reference/engineering.md`` (section and [Sxx] id) in its
field metadata (``RetrofitConfig.source_of(name)``). Figures the reference does not give are ``None`` by
default and never invented: containment, in-row cooler and rear-door costs are unsourced, so the options
that need them report ``capex_usd=None`` until an operator sets them.

Tags: P primary, P* primary via transcription, S secondary, T trade/rule of thumb, C computed (see §0.1).

Energy prices are per kWh in the site's currency; every capex and rent default is in US dollars, so the
planner assumes sites price energy in USD.

Pure Python: no Django import. ``RetrofitConfig.from_overrides(settings_dict)`` builds a validated config
from a settings mapping (unknown keys raise ``ValueError``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

HOURS_PER_YEAR = 8760.0  # 365 d x 24 h (leap years ignored)
MONTHS_PER_YEAR = 12


@dataclass(frozen=True, slots=True)
class FluidProperties:
    """Density and specific heat of a technology-cooling-system fluid at 30 C."""

    name: str
    rho_kg_per_l: float
    cp_kj_per_kg_k: float
    source: str


# §4.3, CoolProp 8.0.0 at 30 C, C [S31]. "pg25" = 25 % propylene glycol by mass (INCOMP::MPG-25%).
FLUIDS_30C: dict[str, FluidProperties] = {
    "water": FluidProperties("water", 0.9956, 4.180, "§4.3 C [S31] CoolProp Water at 30 C"),
    "pg25": FluidProperties("pg25", 1.0149, 3.945, "§4.3 C [S31] CoolProp INCOMP::MPG-25% at 30 C"),
}

# §2.2: ASHRAE TC 9.9 (2021) liquid-cooling classes; the number is the maximum facility water supply
# temperature in C (common lower limit 2 C). P* [S22] quoting the 2021 white paper p. 8.
ASHRAE_W_CLASSES_MAX_SUPPLY_C: tuple[float, ...] = (17.0, 27.0, 32.0, 40.0, 45.0)


def _src(text: str) -> dict[str, str]:
    return {"source": text}


@dataclass(frozen=True, slots=True)
class RetrofitConfig:
    """Planner defaults for retrofit advice and TCO. All kW are rack IT (heat) kW."""

    # --- §6 planner default bands: upper edge of each band, inclusive (<= 10, >10-20, ...) ----------
    band_open_air_max_kw: float = field(
        default=10.0, metadata=_src("§6 planner default (from §3: S [S43] 'adequate up to 10 kW')")
    )
    band_containment_max_kw: float = field(
        default=20.0, metadata=_src("§6 planner default (from §3: S [S43] '>= 15 kW needs containment')")
    )
    band_containment_plus_max_kw: float = field(
        default=35.0, metadata=_src("§6 planner default (from §3: passive RDHx up to ~35 kW, T [S47])")
    )
    band_active_rdhx_max_kw: float = field(
        default=60.0, metadata=_src("§6 planner default (from §3: active RDHx, one source up to ~60 kW)")
    )
    band_dlc_max_kw: float = field(
        default=150.0, metadata=_src("§6 planner default (from §3: DLC 50-150 kW/rack typical, T [S45])")
    )

    # --- §3 technology capacity per rack (what each option can carry) -------------------------------
    open_aisle_air_limit_kw: float = field(
        default=10.0,
        metadata=_src("DESIGN rows default (containment none: 10 kW); §3 T [S45] 8-10 kW, S [S43]"),
    )
    contained_air_ceiling_kw: float = field(
        default=25.0,
        metadata=_src(
            "§3 practical contained-air ceiling ~25-30 kW, T [S65]; lower end, equals DESIGN rows "
            "default for contained rows (25 kW)"
        ),
    )
    in_row_max_kw: float = field(
        default=50.0, metadata=_src("§3 in-row coolers 10-50 kW per unit, T [S45]; one unit per rack")
    )
    rear_door_passive_max_kw: float = field(
        default=35.0, metadata=_src("§3 passive RDHx ~10-30 kW, one source up to ~35 kW, T [S46][S47]")
    )
    rear_door_active_max_kw: float = field(
        default=75.0, metadata=_src("§3 active RDHx ~40-75 kW, T [S46]; HPE door families to 75 kW, P* [S48]")
    )
    rear_door_active_families_kw: tuple[tuple[float, float], ...] = field(
        default=((14.0, 35.0), (35.0, 55.0), (55.0, 75.0)),
        metadata=_src("§3 HPE/Motivair active door families 14-35, 35-55, 55-75 kW, P* [S48]"),
    )
    immersion_min_kw: float = field(
        default=100.0,
        metadata=_src(
            "§3 single-phase immersion ~100-150 kW per tank, T [S47]: lower end; below it a tank is "
            "outside its planning band (§6 recommends immersion only above 150 kW)"
        ),
    )
    immersion_single_phase_max_kw: float = field(
        default=150.0, metadata=_src("§3 single-phase immersion ~100-150 kW per tank, T [S47]")
    )
    immersion_two_phase_max_kw: float = field(
        default=250.0, metadata=_src("§3 two-phase immersion ~200-250+ kW per tank, T [S47]")
    )
    dlc_residual_air_fraction_min: float = field(
        default=0.20,
        metadata=_src("§1.2/§3 DLC leaves 20-30 % to air, S [S50]; low end sizes the CDU (80 % liquid)"),
    )
    dlc_residual_air_fraction_max: float = field(
        default=0.30,
        metadata=_src("§1.2/§3 DLC leaves 20-30 % to air, S [S50]; high end sizes the air side"),
    )
    dlc_residual_air_fraction_rack_scale: float = field(
        default=0.13,
        metadata=_src("§1.2 GB200 NVL72: 115 kW liquid / 17 kW air of 132 kW = 12.9 % air, P* [S10], C"),
    )
    dlc_default_w_class_c: float = field(
        default=32.0,
        metadata=_src(
            "planner choice when the node's max supply temperature is unknown: W32 (§2.2, P* [S22]); "
            "colder than LBNL's W45 assumption for AI liquid-cooled IT, so conservative"
        ),
    )
    rear_door_water_supply_c: float = field(
        default=18.0,
        metadata=_src("§2.2 IBM RDHx: 18 +/- 1 C water for ASHRAE A1 rooms, P [S57]"),
    )

    # --- §7.3 capex (USD). None = not in the reference: the option reports capex_usd None ----------
    dlc_capex_usd_per_kw: float | None = field(
        default=2000.0,
        metadata=_src("§7.3 liquid-cooling retrofit ~US$2 M per MW = $2,000/kW, S [S54] STL Partners"),
    )
    immersion_capex_usd_per_kw: float | None = field(
        default=2000.0,
        metadata=_src(
            "§7.3 liquid-cooling retrofit $2,000/kW, S [S54]; a liquid-retrofit figure, not immersion-specific"
        ),
    )
    greenfield_liquid_capex_usd_per_kw: float | None = field(
        default=11000.0,
        metadata=_src("§7.3 greenfield liquid-cooled capacity > US$11 M per MW = $11,000/kW, S [S54]"),
    )
    containment_capex_usd_per_rack: float | None = field(
        default=None, metadata=_src("unsourced (not in the reference): set by the operator")
    )
    in_row_capex_usd_per_kw: float | None = field(
        default=None, metadata=_src("unsourced (not in the reference): set by the operator")
    )
    rear_door_passive_capex_usd_per_rack: float | None = field(
        default=None, metadata=_src("unsourced (not in the reference): set by the operator")
    )
    rear_door_active_capex_usd_per_rack: float | None = field(
        default=None, metadata=_src("unsourced (not in the reference): set by the operator")
    )

    # --- §4.6 / §16 power retrofits ----------------------------------------------------------------
    pdu_target_voltage_v: float = field(
        default=415.0, metadata=_src("§4.6 / §16: 415 V 3-phase 63 A rack PDU, 36.228 kW at 80 %, C")
    )
    pdu_target_current_a: float = field(
        default=63.0, metadata=_src("§4.6 / §16: 415 V 3-phase 63 A rack PDU, 36.228 kW at 80 %, C")
    )
    pdu_target_phases: float = field(default=3.0, metadata=_src("§4.6 / §16: three-phase (1 or 3)"))
    pdu_target_power_factor: float = field(default=1.0, metadata=_src("§4.6 table at PF = 1.0, C"))
    pdu_replacement_usd_per_pdu: float | None = field(
        default=None, metadata=_src("§16 rack PDU upgrade cost: not found (unsourced): set by the operator")
    )
    ups_usd_per_kw: float | None = field(
        default=None, metadata=_src("§16 UPS capex $/kW: not found (unsourced): set by the operator")
    )
    pdu_addition_usd_per_pdu: float | None = field(
        default=None,
        metadata=_src(
            "§16 rack PDU cost (per PDU added with its branch circuit): not found (unsourced): set by the operator"
        ),
    )
    busway_tap_off_usd_each: float | None = field(
        default=None, metadata=_src("§16 busway / tap-off box cost: not found (unsourced): set by the operator")
    )
    switchgear_lead_time_weeks: float = field(
        default=52.0,
        metadata=_src(
            "§16.1 switchgear 'over one year' (electrical contractors, Q2 2023, S [S141d]); 12-18 months (2025, "
            "T [S141e]): the lower bound"
        ),
    )
    utility_transformer_lead_time_weeks: float = field(
        default=128.0,
        metadata=_src("§16.1 large power transformers (US) 128 weeks average, WoodMac Q2 2025, T [S141]"),
    )

    # --- §7.1 PUE -------------------------------------------------------------------------------------
    pue_air_fleet: float = field(
        default=1.54,
        metadata=_src("§7.1 industry average 2025, S [S26] Uptime; used when the site has no design_pue"),
    )
    pue_direct_liquid: float = field(
        default=1.13,
        metadata=_src("§7.1 LBNL Fig. 4.4 'IT liquid cooling + waterside economiser' 1.13, S [S22]"),
    )
    pue_immersion: float = field(
        default=1.10,
        metadata=_src("§7.1 immersion partial PUE ~1.03-1.10, T [S47]; conservative (high) end"),
    )

    # --- §7.3 colocation and TCO -------------------------------------------------------------------
    colo_usd_per_kw_month: float = field(
        default=184.06,
        metadata=_src(
            "§7.3 CBRE NA H2 2024 average asking wholesale rent, 250-500 kW, P [S56]; "
            "treated as all-in (power included) unless the caller says otherwise"
        ),
    )
    tco_sensitivity_steps: tuple[float, ...] = field(
        default=(-0.2, 0.0, 0.2),
        metadata=_src("planner choice: energy price and utilization each -20 % / base / +20 %"),
    )
    colo_power_billed_separately: bool = field(
        default=True,
        metadata=_src(
            "§7.3 CBRE [S56] quotes wholesale rent per kW per month and does not say power is included: "
            "planner choice, power billed on top (metered IT energy x colo PUE x energy price); not checked: unsourced"
        ),
    )
    tco_idle_fraction_of_max: float | None = field(
        default=None,
        metadata=_src(
            "§17.1 / §18 DGX H100/B200 idle power: not found (unsourced): set by the operator; unset, energy is "
            "a range from idle 0 (proportional to utilisation) to max power all year"
        ),
    )
    tco_discount_rate: float = field(
        default=0.0,
        metadata=_src("no sourced rate (not checked: unsourced): planner choice 0 (undiscounted) until set"),
    )
    hardware_life_years: float | None = field(
        default=None,
        metadata=_src(
            "hardware depreciation life: not in the reference (unsourced); unset = the TCO horizon "
            "(straight line, nothing left at the end)"
        ),
    )
    colo_lease_years: float | None = field(
        default=None,
        metadata=_src("colocation lease term: not in the reference (unsourced); unset = the TCO horizon"),
    )
    neocloud_reserved_term_years: float = field(
        default=1.0,
        metadata=_src("§17.2 1-year reserved '35-40 % off on-demand'; CoreWeave 12-36-month contracts, T [S148]"),
    )
    neocloud_reserved_usd_per_gpu_hour: float | None = field(
        default=None,
        metadata=_src("unset: the sourced price of the order's GPU (GPU_HOUR_PRICES, §17.2), else unknown"),
    )
    hyperscaler_on_demand_usd_per_gpu_hour: float | None = field(
        default=None,
        metadata=_src("unset: the sourced price of the order's GPU (GPU_HOUR_PRICES, §17.2), else unknown"),
    )
    tco_tornado_step: float = field(
        default=0.2,
        metadata=_src("planner choice: each tornado input -20 % / +20 % around the base"),
    )

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def source_of(cls, name: str) -> str:
        """The source tag of one config key (``ValueError`` for unknown keys)."""
        for f in fields(cls):
            if f.name == name:
                return str(f.metadata.get("source", ""))
        raise ValueError(f"unknown retrofit config key: {name!r}")

    @classmethod
    def config_keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> RetrofitConfig:
        """Defaults with ``overrides`` applied (e.g. a Django settings dict). Validates everything."""
        if not overrides:
            return cls()
        known = set(cls.config_keys())
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown retrofit config key(s): {', '.join(map(repr, unknown))}")
        converted: dict[str, Any] = {}
        for key, value in overrides.items():
            if key == "rear_door_active_families_kw":
                try:
                    converted[key] = tuple((_num(key, lo), _num(key, hi)) for lo, hi in value)
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"{key}: expected a list of (low_kw, high_kw) pairs") from exc
            elif key == "tco_sensitivity_steps":
                if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                    raise ValueError(f"{key}: expected a list of fractions, e.g. [-0.2, 0, 0.2]")
                converted[key] = tuple(_num(key, v) for v in value)
            elif key == "colo_power_billed_separately":
                if not isinstance(value, bool):
                    raise ValueError(f"{key}: expected true or false, got {value!r}")
                converted[key] = value
            elif value is None:
                converted[key] = None
            else:
                converted[key] = _num(key, value)
        return replace(cls(), **converted)


_OPTIONAL_COST_KEYS = frozenset(
    {
        "dlc_capex_usd_per_kw",
        "immersion_capex_usd_per_kw",
        "greenfield_liquid_capex_usd_per_kw",
        "containment_capex_usd_per_rack",
        "in_row_capex_usd_per_kw",
        "rear_door_passive_capex_usd_per_rack",
        "rear_door_active_capex_usd_per_rack",
        "pdu_replacement_usd_per_pdu",
        "ups_usd_per_kw",
        "pdu_addition_usd_per_pdu",
        "busway_tap_off_usd_each",
        "tco_idle_fraction_of_max",
        "hardware_life_years",
        "colo_lease_years",
        "neocloud_reserved_usd_per_gpu_hour",
        "hyperscaler_on_demand_usd_per_gpu_hour",
    }
)
_FRACTION_KEYS = frozenset(
    {
        "dlc_residual_air_fraction_min",
        "dlc_residual_air_fraction_max",
        "dlc_residual_air_fraction_rack_scale",
    }
)
_PUE_KEYS = frozenset({"pue_air_fleet", "pue_direct_liquid", "pue_immersion"})


def _num(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key}: expected a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{key}: must be finite, got {value!r}")
    return out


def _validate(cfg: RetrofitConfig) -> None:
    for f in fields(cfg):
        name = f.name
        value = getattr(cfg, name)
        if name == "rear_door_active_families_kw":
            if not value:
                raise ValueError(f"{name}: at least one (low_kw, high_kw) family")
            previous_high = 0.0
            for lo, hi in value:
                _num(name, lo)
                _num(name, hi)
                if not 0 <= lo < hi or hi < previous_high:
                    raise ValueError(f"{name}: families must be ascending (low < high), got {value!r}")
                previous_high = hi
            continue
        if name == "tco_sensitivity_steps":
            if not value:
                raise ValueError(f"{name}: at least one step")
            for step in value:
                if _num(name, step) <= -1.0:
                    raise ValueError(f"{name}: steps must be > -1 (i.e. > -100 %), got {step!r}")
            continue
        if name == "colo_power_billed_separately":
            if not isinstance(value, bool):
                raise ValueError(f"{name}: expected true or false, got {value!r}")
            continue
        if value is None:
            if name not in _OPTIONAL_COST_KEYS:
                raise ValueError(f"{name}: may not be None")
            continue
        number = _num(name, value)
        if number < 0:
            raise ValueError(f"{name}: must be >= 0, got {value!r}")
        if name in _FRACTION_KEYS and not number < 1.0:
            raise ValueError(f"{name}: a fraction in [0, 1), got {value!r}")
        if name in _PUE_KEYS and number < 1.0:
            raise ValueError(f"{name}: a PUE is >= 1.0, got {value!r}")
        if name == "pdu_target_phases" and number not in (1.0, 3.0):
            raise ValueError(f"{name}: 1 or 3, got {value!r}")
        if name in ("pdu_target_voltage_v", "pdu_target_current_a", "pdu_target_power_factor") and number <= 0:
            raise ValueError(f"{name}: must be > 0, got {value!r}")
        if name == "pdu_target_power_factor" and number > 1.0:
            raise ValueError(f"{name}: at most 1.0, got {value!r}")
        if name in ("tco_idle_fraction_of_max", "tco_tornado_step") and not number <= 1.0:
            raise ValueError(f"{name}: a fraction in [0, 1], got {value!r}")
        if name == "tco_discount_rate" and not number < 1.0:
            raise ValueError(f"{name}: a yearly rate in [0, 1), got {value!r}")
        if name in ("hardware_life_years", "colo_lease_years", "neocloud_reserved_term_years") and number <= 0:
            raise ValueError(f"{name}: must be > 0 years, got {value!r}")
        if name == "dlc_default_w_class_c" and number not in ASHRAE_W_CLASSES_MAX_SUPPLY_C:
            raise ValueError(f"{name}: one of {ASHRAE_W_CLASSES_MAX_SUPPLY_C}, got {value!r}")
    bands = (
        cfg.band_open_air_max_kw,
        cfg.band_containment_max_kw,
        cfg.band_containment_plus_max_kw,
        cfg.band_active_rdhx_max_kw,
        cfg.band_dlc_max_kw,
    )
    if any(b >= a for a, b in zip(bands[1:], bands[:-1], strict=True)) or bands[0] <= 0:
        raise ValueError(f"band_*_max_kw must be positive and strictly increasing, got {bands!r}")
    if cfg.dlc_residual_air_fraction_min > cfg.dlc_residual_air_fraction_max:
        raise ValueError("dlc_residual_air_fraction_min must be <= dlc_residual_air_fraction_max")
    if not cfg.immersion_min_kw <= cfg.immersion_single_phase_max_kw <= cfg.immersion_two_phase_max_kw:
        raise ValueError("need immersion_min_kw <= immersion_single_phase_max_kw <= immersion_two_phase_max_kw")


DEFAULT = RetrofitConfig()


def site_pue(design_pue: float | None, config: RetrofitConfig) -> tuple[float, str]:
    """(PUE, its basis) of a site: its ``design_pue`` when set, else the configured air fleet average
    (reference §7.1, S [S26]). The one default feasibility energy, the TCO and the reports share."""
    if design_pue is not None:
        return design_pue, "site design PUE"
    return config.pue_air_fleet, "air fleet average 2025, §7.1 S [S26] (the site has no design PUE)"


def draw_fraction_of_max(utilization: float, idle_fraction: float) -> float:
    """Average draw as a share of max power: idle + (max - idle) x utilisation, in units of max
    (``idle_fraction`` = idle draw / max draw; 0 = energy proportional to utilisation)."""
    return idle_fraction + (1.0 - idle_fraction) * utilization


def facility_energy_kwh(
    max_kw: float, hours: float, pue: float, utilization: float = 1.0, idle_fraction: float = 0.0
) -> float:
    """Facility energy of IT drawing ``max_kw`` at full load: max_kw x (idle + (1 - idle) x u) x hours x PUE.
    The one energy formula feasibility, the TCO and the reports share."""
    return max_kw * draw_fraction_of_max(utilization, idle_fraction) * hours * pue


@dataclass(frozen=True, slots=True)
class GpuHourPrice:
    usd_per_gpu_hour: float
    date: str
    source: str


NEOCLOUD_RESERVED = "neocloud_reserved"
HYPERSCALER_ON_DEMAND = "hyperscaler_on_demand"
GPU_HOUR_TIERS: tuple[str, ...] = (NEOCLOUD_RESERVED, HYPERSCALER_ON_DEMAND)

# §17.2 GPU-hour prices (volatile: stored with their date). A GPU and tier missing here has no sourced price.
GPU_HOUR_PRICES: dict[str, dict[str, GpuHourPrice]] = {
    "H100": {
        NEOCLOUD_RESERVED: GpuHourPrice(
            2.00,
            "Q1 2026",
            "§17.2 CoreWeave 12-36-month contracts $14-18/h per 8-GPU instance = $1.75-2.25/GPU-h (C, "
            "interpretation), T [S148]; midpoint",
        ),
        HYPERSCALER_ON_DEMAND: GpuHourPrice(3.90, "Mar 2026", "§17.2 AWS P5 on-demand after the cuts, T [S148]"),
    },
    "H200": {
        HYPERSCALER_ON_DEMAND: GpuHourPrice(
            7.912, "6 Aug 2026", "§17.2 AWS p5en.48xlarge on-demand $63.296/instance-h / 8 (C), S [S147b]"
        ),
    },
}

# The GPU of each catalogue system (DESIGN node-models; names per reference §1.1).
GPU_FAMILY_BY_MODEL_SLUG: dict[str, str] = {
    "dgx-a100": "A100",
    "dgx-h100": "H100",
    "hgx-h100-8gpu": "H100",
    "dgx-h200": "H200",
    "dgx-b200": "B200",
    "dgx-b300": "B300",
    "gb200-nvl72": "GB200",
    "gb300-nvl72": "GB300",
}
