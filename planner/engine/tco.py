"""Total cost of ownership for an order: on-premises (with retrofit) vs colocation vs cloud.

``compare_tco(inp, config)`` sums each option over ``horizon_years``:

* on-prem: retrofit capex + hardware capex (if given) + energy, energy = it_kw x utilization x 8760 h x
  years x PUE x price. PUE defaults to the air fleet average 1.54 [S26].
* colocation: it_kw x 12 x years x rent (default $184.06/kW/month, CBRE H2 2024 [S56], billed on the
  contracted kW whatever the utilization) + hardware capex. The CBRE figure is an asking rent and is taken
  as all-in (power included); when ``colo_includes_power`` is False the metered energy (with ``pue_colo``,
  default 1.54) is added at the caller's price.
* cloud: gpu_count x 8760 h x years x utilization x price per GPU-hour (on-demand: pay for used hours).
  No sourced default price exists: without ``cloud_usd_per_gpu_hour`` the cloud option is omitted.

Hardware purchase price is unsourced: optional, and applied equally to on-prem and colocation. Without it
those two totals exclude the hardware that a cloud price includes (noted in the result). Facility
depreciation, staff, maintenance and network are not modelled (unsourced).

Also: a sensitivity table (energy price x utilization steps, default -20 %/0/+20 %) with the cheapest option
per cell, and the unamortized risk: retrofit capex not recovered if the hardware leaves after k years,
with linear amortisation over the horizon. Pure Python, no Django.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.engine.costs import DEFAULT, HOURS_PER_YEAR, MONTHS_PER_YEAR, RetrofitConfig, site_pue

ON_PREM = "on_prem"
COLOCATION = "colocation"
CLOUD = "cloud"
TCO_OPTIONS: tuple[str, ...] = (ON_PREM, COLOCATION, CLOUD)

# CBRE's $184.06 is the average asking rent for 250-500 kW wholesale requirements (§7.3, P [S56]).
_CBRE_REQUIREMENT_KW = (250.0, 500.0)


@dataclass(frozen=True, slots=True)
class TcoInput:
    """An order to compare. Money in USD; energy price per kWh in USD (capex defaults are USD).

    retrofit_capex_usd: None = a retrofit is needed but its cost is unknown (on-prem total then None).
    hardware_capex_usd: None = excluded (unsourced); applies to on-prem and colocation alike.
    pue_onprem / pue_colo: None = air fleet average from config.
    colo_usd_per_kw_month: None = config default (CBRE). cloud_usd_per_gpu_hour: None = no cloud column.
    """

    it_kw: float
    node_count: int
    gpu_count: int
    horizon_years: int
    utilization: float  # 0..1
    energy_price_per_kwh: float
    carbon_kg_per_kwh: float | None = None
    pue_onprem: float | None = None
    retrofit_capex_usd: float | None = 0.0
    hardware_capex_usd: float | None = None
    colo_usd_per_kw_month: float | None = None
    colo_includes_power: bool = True
    pue_colo: float | None = None
    cloud_usd_per_gpu_hour: float | None = None

    def __post_init__(self) -> None:
        for name in ("it_kw", "energy_price_per_kwh"):
            _nonneg(name, getattr(self, name))
        for name in (
            "carbon_kg_per_kwh",
            "retrofit_capex_usd",
            "hardware_capex_usd",
            "colo_usd_per_kw_month",
            "cloud_usd_per_gpu_hour",
        ):
            if getattr(self, name) is not None:
                _nonneg(name, getattr(self, name))
        for name in ("node_count", "gpu_count"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        h = self.horizon_years
        if isinstance(h, bool) or not isinstance(h, int) or h < 1:
            raise ValueError(f"horizon_years must be an integer >= 1, got {h!r}")
        _nonneg("utilization", self.utilization)
        if self.utilization > 1.0:
            raise ValueError(f"utilization must be in 0..1, got {self.utilization!r}")
        for name in ("pue_onprem", "pue_colo"):
            value = getattr(self, name)
            if value is not None:
                _nonneg(name, value)
                if value < 1.0:
                    raise ValueError(f"{name} must be >= 1.0, got {value!r}")


@dataclass(frozen=True, slots=True)
class TcoOptionCost:
    """One option's totals over the horizon (USD, kWh, kg CO2). total_usd None = incomplete."""

    option: str  # "on_prem" | "colocation" | "cloud"
    total_usd: float | None
    capex_usd: float  # retrofit (known part) + hardware
    energy_usd: float  # energy billed separately (on-prem; colo when power is not included)
    rent_usd: float  # colocation rent
    cloud_usd: float  # cloud instance hours
    energy_kwh: float | None  # facility energy (IT x PUE); None for cloud (unknown)
    co2_kg: float | None
    notes: str


@dataclass(frozen=True, slots=True)
class TcoSensitivityCell:
    energy_price_step: float  # e.g. -0.2
    utilization_step: float
    energy_price_per_kwh: float
    utilization: float  # clipped to 0..1
    on_prem_usd: float | None
    colocation_usd: float | None
    cloud_usd: float | None  # None: no cloud price given
    cheapest: str | None


@dataclass(frozen=True, slots=True)
class UnamortizedYear:
    """Retrofit capex not yet recovered if the hardware leaves after years_in_service (linear)."""

    years_in_service: int
    recovered_usd: float
    unrecovered_usd: float


@dataclass(frozen=True, slots=True)
class TcoResult:
    options: tuple[TcoOptionCost, ...]  # in TCO_OPTIONS order; cloud omitted without a price
    cheapest: str | None
    sensitivity: tuple[TcoSensitivityCell, ...]  # energy steps outer, utilization steps inner
    unamortized: tuple[UnamortizedYear, ...]  # years 1..horizon; empty when no known retrofit capex
    assumptions: tuple[str, ...]
    notes: tuple[str, ...]

    def option(self, name: str) -> TcoOptionCost | None:
        return next((o for o in self.options if o.option == name), None)


def compare_tco(inp: TcoInput, config: RetrofitConfig = DEFAULT) -> TcoResult:
    options = _options(inp, config, inp.energy_price_per_kwh, inp.utilization)
    cheapest = _cheapest(options)

    cells: list[TcoSensitivityCell] = []
    for e_step in config.tco_sensitivity_steps:
        price = inp.energy_price_per_kwh * (1.0 + e_step)
        for u_step in config.tco_sensitivity_steps:
            util = min(max(inp.utilization * (1.0 + u_step), 0.0), 1.0)
            row = {o.option: o.total_usd for o in _options(inp, config, price, util)}
            cells.append(
                TcoSensitivityCell(
                    energy_price_step=e_step,
                    utilization_step=u_step,
                    energy_price_per_kwh=price,
                    utilization=util,
                    on_prem_usd=row.get(ON_PREM),
                    colocation_usd=row.get(COLOCATION),
                    cloud_usd=row.get(CLOUD),
                    cheapest=_cheapest_of(row),
                )
            )

    unamortized: tuple[UnamortizedYear, ...] = ()
    capex = inp.retrofit_capex_usd
    if capex is not None and capex > 0:
        n = inp.horizon_years
        unamortized = tuple(UnamortizedYear(k, capex * k / n, capex * (n - k) / n) for k in range(1, n + 1))

    colo_price = _colo_price(inp, config)
    assumptions = [
        f"{HOURS_PER_YEAR:g} h/year; energy at {inp.utilization:.0%} utilization",
        f"on-prem PUE {_pue(inp.pue_onprem, config):g}"
        + ("" if inp.pue_onprem is not None else " (air fleet average 2025, S [S26])"),
        f"colocation ${colo_price:,.2f}/kW/month on {inp.it_kw:g} kW contracted"
        + (" (CBRE NA H2 2024 average asking wholesale rent, P [S56])" if inp.colo_usd_per_kw_month is None else "")
        + (", all-in (power included)" if inp.colo_includes_power else ", power billed separately"),
        "cloud billed per used GPU-hour (on-demand)",
        "unamortized risk: retrofit capex, linear over the horizon; hardware leaves with its capex",
        "not modelled (unsourced): facility depreciation, staff, maintenance, network, colo high-density premium",
    ]
    notes: list[str] = []
    if inp.hardware_capex_usd is None:
        notes.append(
            "hardware purchase excluded from on-prem and colocation (no sourced price; set hardware_capex_usd);"
            " a cloud price includes the hardware, so on-prem and colocation are understated against cloud"
        )
    if inp.cloud_usd_per_gpu_hour is None:
        notes.append("cloud omitted: no sourced GPU-hour price; give cloud_usd_per_gpu_hour")
    if inp.retrofit_capex_usd is None:
        notes.append("retrofit capex unknown (unsourced retrofit cost): on-prem total not computed")
    if inp.colo_usd_per_kw_month is None and not (_CBRE_REQUIREMENT_KW[0] <= inp.it_kw <= _CBRE_REQUIREMENT_KW[1]):
        notes.append(
            f"CBRE's rent is for {_CBRE_REQUIREMENT_KW[0]:g}-{_CBRE_REQUIREMENT_KW[1]:g} kW requirements;"
            f" {inp.it_kw:g} kW may price differently"
        )
    if inp.carbon_kg_per_kwh is None:
        notes.append("no carbon intensity: CO2 not computed")
    return TcoResult(
        options=options,
        cheapest=cheapest,
        sensitivity=tuple(cells),
        unamortized=unamortized,
        assumptions=tuple(assumptions),
        notes=tuple(notes),
    )


def _options(inp: TcoInput, cfg: RetrofitConfig, price: float, util: float) -> tuple[TcoOptionCost, ...]:
    years = inp.horizon_years
    hardware = inp.hardware_capex_usd or 0.0
    it_kwh = inp.it_kw * util * HOURS_PER_YEAR * years
    carbon = inp.carbon_kg_per_kwh

    # On-premises
    onprem_kwh = it_kwh * _pue(inp.pue_onprem, cfg)
    onprem_energy = onprem_kwh * price
    retrofit = inp.retrofit_capex_usd
    onprem_notes = []
    if retrofit is None:
        onprem_total = None
        onprem_notes.append("retrofit capex unknown")
    else:
        onprem_total = retrofit + hardware + onprem_energy
    onprem = TcoOptionCost(
        option=ON_PREM,
        total_usd=onprem_total,
        capex_usd=(retrofit or 0.0) + hardware,
        energy_usd=onprem_energy,
        rent_usd=0.0,
        cloud_usd=0.0,
        energy_kwh=onprem_kwh,
        co2_kg=None if carbon is None else onprem_kwh * carbon,
        notes="; ".join(onprem_notes),
    )

    # Colocation
    rent = inp.it_kw * MONTHS_PER_YEAR * years * _colo_price(inp, cfg)
    colo_kwh = it_kwh * _pue(inp.pue_colo, cfg)
    colo_energy = 0.0 if inp.colo_includes_power else colo_kwh * price
    colo = TcoOptionCost(
        option=COLOCATION,
        total_usd=rent + colo_energy + hardware,
        capex_usd=hardware,
        energy_usd=colo_energy,
        rent_usd=rent,
        cloud_usd=0.0,
        energy_kwh=colo_kwh,
        co2_kg=None if carbon is None else colo_kwh * carbon,
        notes="rent all-in (power included)" if inp.colo_includes_power else "rent + metered power",
    )
    out = [onprem, colo]

    # Cloud
    if inp.cloud_usd_per_gpu_hour is not None:
        cloud_cost = inp.gpu_count * HOURS_PER_YEAR * years * util * inp.cloud_usd_per_gpu_hour
        out.append(
            TcoOptionCost(
                option=CLOUD,
                total_usd=cloud_cost,
                capex_usd=0.0,
                energy_usd=0.0,
                rent_usd=0.0,
                cloud_usd=cloud_cost,
                energy_kwh=None,
                co2_kg=None,
                notes="provider energy and CO2 unknown",
            )
        )
    return tuple(out)


def _cheapest(options: tuple[TcoOptionCost, ...]) -> str | None:
    return _cheapest_of({o.option: o.total_usd for o in options})


def _cheapest_of(totals: dict[str, float | None]) -> str | None:
    """Lowest total; ties go to the earlier option in TCO_OPTIONS order."""
    known = [(total, TCO_OPTIONS.index(name), name) for name, total in totals.items() if total is not None]
    return min(known)[2] if known else None


def _colo_price(inp: TcoInput, cfg: RetrofitConfig) -> float:
    return inp.colo_usd_per_kw_month if inp.colo_usd_per_kw_month is not None else cfg.colo_usd_per_kw_month


def _pue(value: float | None, cfg: RetrofitConfig) -> float:
    return site_pue(value, cfg)[0]


def _nonneg(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
