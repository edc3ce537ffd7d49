"""Total cost of ownership for an order: on-premises (with retrofit) vs colocation vs GPU-hour clouds.

``compare_tco(inp, config)`` sums each option over ``horizon_years`` and discounts it (NPV):

* energy (one formula, ``costs.facility_energy_kwh``): max_kw x (idle + (1 - idle) x utilisation) x 8760 h x
  PUE. On-prem PUE is the site's (``costs.site_pue``: design PUE, else the air fleet average 1.54 [S26], the
  default feasibility and the reports share). DGX idle power is not in the reference (§17.1, §18): unless
  the operator sets ``idle_fraction``, energy is a range from idle 0 (the point figures) to max power all
  year (``total_usd_high``), with its reason.
* on-prem: retrofit capex + hardware capex (straight-line depreciation over ``hardware_life_years``, default
  the horizon; book value left at the end is credited) + energy at the site price.
* colocation: it_kw x 12 x rent (default $184.06/kW/month, CBRE H2 2024 [S56], on the contracted kW whatever
  the utilisation) + hardware; power billed on top by default (``colo_power_billed_separately``: metered IT
  energy x colo PUE x the site price).
* clouds, per GPU-hour: ``cloud`` (the caller's own price, pay per used hour; omitted without a price),
  ``neocloud_reserved`` (committed: every hour of the horizon is paid) and ``hyperscaler_on_demand`` (per used
  hour). Tier prices default to the sourced price of the order's GPU (``costs.GPU_HOUR_PRICES``, §17.2, with
  date); a GPU without one gets a null total and its reason.

A cost that is not known is null (or a range) with its reason, never 0.0 in a total: without a hardware
price the on-prem and colocation totals, NPVs, paybacks, break-evens and the tornado are null; their known
components (energy, rent, retrofit) stay numbers.

Also: NPV at ``discount_rate`` (cash flows: capex at year 0, opex at the end of years 1..n); the undiscounted
payback of on-prem against each option; the break-even utilisation ("on-prem beats X above u %", NPV basis,
every total is linear in u); a sensitivity grid (energy price x utilisation); a tornado of on-prem NPV minus
the cheapest cloud's over energy price, utilisation, PUE, GPU-hour price and capex; and the unamortized
capacity at risk if the hardware leaves after k years (retrofit, hardware book value, colo lease, reserved
commitment). Pure Python, no Django.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from planner.engine.costs import (
    DEFAULT,
    GPU_HOUR_PRICES,
    HOURS_PER_YEAR,
    HYPERSCALER_ON_DEMAND,
    MONTHS_PER_YEAR,
    NEOCLOUD_RESERVED,
    RetrofitConfig,
    draw_fraction_of_max,
    site_pue,
)

ON_PREM = "on_prem"
COLOCATION = "colocation"
CLOUD = "cloud"
TCO_OPTIONS: tuple[str, ...] = (ON_PREM, COLOCATION, CLOUD, NEOCLOUD_RESERVED, HYPERSCALER_ON_DEMAND)
CLOUD_OPTIONS: tuple[str, ...] = (CLOUD, NEOCLOUD_RESERVED, HYPERSCALER_ON_DEMAND)
TORNADO_VARIABLES: tuple[str, ...] = ("energy_price", "utilization", "pue", "gpu_hour_price", "capex")

# CBRE's $184.06 is the average asking rent for 250-500 kW wholesale requirements (§7.3, P [S56]).
_CBRE_REQUIREMENT_KW = (250.0, 500.0)
_HARDWARE_UNKNOWN = "hardware price unknown (no sourced price): give hardware_capex_usd"
_RETROFIT_UNKNOWN = "retrofit capex unknown"


@dataclass(frozen=True, slots=True)
class TcoInput:
    """An order to compare. Money in USD; energy price per kWh in USD (capex defaults are USD).

    retrofit_capex_usd: None = a retrofit is needed but its cost is unknown (on-prem total then None).
    hardware_capex_usd: None = unknown (unsourced): on-prem and colocation totals None.
    pue_onprem / pue_colo: None = air fleet average from config.
    colo_usd_per_kw_month: None = config default (CBRE). cloud_usd_per_gpu_hour: None = no cloud column.
    colo_includes_power, idle_fraction, discount_rate, hardware_life_years, colo_lease_years and the tier prices:
    None = the config's value. gpu_family (e.g. "H100") picks the sourced tier prices.
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
    colo_includes_power: bool | None = None
    pue_colo: float | None = None
    cloud_usd_per_gpu_hour: float | None = None
    idle_fraction: float | None = None
    discount_rate: float | None = None
    hardware_life_years: float | None = None
    colo_lease_years: float | None = None
    gpu_family: str | None = None
    neocloud_reserved_usd_per_gpu_hour: float | None = None
    hyperscaler_on_demand_usd_per_gpu_hour: float | None = None

    def __post_init__(self) -> None:
        for name in ("it_kw", "energy_price_per_kwh"):
            _nonneg(name, getattr(self, name))
        for name in (
            "carbon_kg_per_kwh",
            "retrofit_capex_usd",
            "hardware_capex_usd",
            "colo_usd_per_kw_month",
            "cloud_usd_per_gpu_hour",
            "neocloud_reserved_usd_per_gpu_hour",
            "hyperscaler_on_demand_usd_per_gpu_hour",
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
        for name in ("utilization", "idle_fraction"):
            value = getattr(self, name)
            if value is not None:
                _nonneg(name, value)
                if value > 1.0:
                    raise ValueError(f"{name} must be in 0..1, got {value!r}")
        if self.discount_rate is not None:
            _nonneg("discount_rate", self.discount_rate)
            if self.discount_rate >= 1.0:
                raise ValueError(f"discount_rate must be in [0, 1), got {self.discount_rate!r}")
        for name in ("hardware_life_years", "colo_lease_years"):
            value = getattr(self, name)
            if value is not None:
                _nonneg(name, value)
                if value <= 0:
                    raise ValueError(f"{name} must be > 0, got {value!r}")
        for name in ("pue_onprem", "pue_colo"):
            value = getattr(self, name)
            if value is not None:
                _nonneg(name, value)
                if value < 1.0:
                    raise ValueError(f"{name} must be >= 1.0, got {value!r}")


@dataclass(frozen=True, slots=True)
class TcoOptionCost:
    """One option's totals over the horizon (USD, kWh, kg CO2). total_usd None = unknown (total_reason)."""

    option: str  # one of TCO_OPTIONS
    total_usd: float | None
    capex_usd: float  # known capex: retrofit (known part) + hardware (known)
    energy_usd: float  # energy billed separately (on-prem; colo when power is billed on top)
    rent_usd: float  # colocation rent
    cloud_usd: float  # GPU-hours
    energy_kwh: float | None  # facility energy (IT x PUE); None for clouds (unknown)
    co2_kg: float | None
    notes: str
    npv_usd: float | None = None  # present value of the costs at the discount rate
    annual_opex_usd: float = 0.0  # energy + rent + GPU-hours per year
    hardware_capex_usd: float | None = None  # None: unknown (on-prem, colo); 0 for clouds
    hardware_residual_usd: float | None = None  # book value left at the end of the horizon (credited)
    total_usd_low: float | None = None  # a range when a cost is uncertain (range_reason); else None
    total_usd_high: float | None = None
    energy_kwh_high: float | None = None
    range_reason: str = ""
    total_reason: str = ""  # why total_usd is None
    usd_per_gpu_hour: float | None = None  # clouds: the price used
    price_basis: str = ""  # clouds: where the price comes from (source, date)


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
    neocloud_reserved_usd: float | None = None
    hyperscaler_on_demand_usd: float | None = None


@dataclass(frozen=True, slots=True)
class UnamortizedYear:
    """What is not recovered if the hardware leaves after years_in_service. recovered/unrecovered: the
    retrofit capex, linear over the horizon (None: unknown). The rest: see the field names (None: unknown)."""

    years_in_service: int
    recovered_usd: float | None
    unrecovered_usd: float | None
    hardware_book_value_usd: float | None = None
    colo_lease_remaining_usd: float | None = None
    reserved_commitment_remaining_usd: float | None = None
    on_prem_at_risk_usd: float | None = None  # retrofit unrecovered + hardware book value
    colocation_at_risk_usd: float | None = None  # hardware book value + lease left
    neocloud_reserved_at_risk_usd: float | None = None  # reserved GPU-hours still owed


@dataclass(frozen=True, slots=True)
class Payback:
    """Years until on-prem's extra capex is recovered by its lower yearly cost (undiscounted)."""

    alternative: str
    payback_years: float | None  # None: never (or unknown: reason)
    within_horizon: bool | None
    reason: str


@dataclass(frozen=True, slots=True)
class BreakEven:
    """On-prem against one option by NPV as utilisation varies: cheaper "above" or "below" utilization,
    "always" or "never" (utilization None), or None with its reason when a total is unknown."""

    alternative: str
    utilization: float | None
    on_prem_cheaper: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class TornadoBar:
    """On-prem NPV minus the reference option's NPV with one input at its low and high value."""

    variable: str
    low_input: float
    high_input: float
    low_usd: float
    high_usd: float
    swing_usd: float


@dataclass(frozen=True, slots=True)
class TcoResult:
    options: tuple[TcoOptionCost, ...]  # in TCO_OPTIONS order; cloud omitted without a price
    cheapest: str | None
    sensitivity: tuple[TcoSensitivityCell, ...]  # energy steps outer, utilization steps inner
    unamortized: tuple[UnamortizedYear, ...]  # years 1..horizon
    assumptions: tuple[str, ...]
    notes: tuple[str, ...]
    discount_rate: float = 0.0
    idle_fraction: float | None = None  # None: unknown (energy is a range)
    payback: tuple[Payback, ...] = ()
    break_even: tuple[BreakEven, ...] = ()
    tornado: tuple[TornadoBar, ...] = ()  # widest swing first; empty when on-prem or the reference is unknown
    tornado_reference: str | None = None
    tornado_base_usd: float | None = None
    tornado_reason: str = ""

    def option(self, name: str) -> TcoOptionCost | None:
        return next((o for o in self.options if o.option == name), None)


@dataclass(frozen=True, slots=True)
class _Point:
    """The inputs the sensitivity and the tornado move."""

    price: float
    util: float
    pue_onprem: float
    gpu_scale: float = 1.0
    capex_scale: float = 1.0


@dataclass(frozen=True, slots=True)
class _Resolved:
    idle: float | None
    rate: float
    life_years: float
    lease_years: float
    power_on_top: bool
    reserved_term_years: float
    pue_colo: float
    colo_price: float
    tiers: dict  # option -> (usd per GPU-hour | None, basis)


def compare_tco(inp: TcoInput, config: RetrofitConfig = DEFAULT) -> TcoResult:
    rs = _resolve(inp, config)
    base = _Point(inp.energy_price_per_kwh, inp.utilization, _pue(inp.pue_onprem, config))
    options = _options(inp, rs, base)
    cheapest = _cheapest(options)

    cells: list[TcoSensitivityCell] = []
    for e_step in config.tco_sensitivity_steps:
        price = inp.energy_price_per_kwh * (1.0 + e_step)
        for u_step in config.tco_sensitivity_steps:
            util = _clip01(inp.utilization * (1.0 + u_step))
            row = {o.option: o.total_usd for o in _options(inp, rs, replace(base, price=price, util=util))}
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
                    neocloud_reserved_usd=row.get(NEOCLOUD_RESERVED),
                    hyperscaler_on_demand_usd=row.get(HYPERSCALER_ON_DEMAND),
                )
            )

    tornado, reference, tornado_base, tornado_reason = _tornado(inp, rs, base, options, config.tco_tornado_step)
    return TcoResult(
        options=options,
        cheapest=cheapest,
        sensitivity=tuple(cells),
        unamortized=_unamortized(inp, rs, options),
        assumptions=_assumptions(inp, rs, config),
        notes=_notes(inp, rs, options),
        discount_rate=rs.rate,
        idle_fraction=rs.idle,
        payback=_paybacks(inp, options),
        break_even=_break_evens(inp, rs, base, options),
        tornado=tornado,
        tornado_reference=reference,
        tornado_base_usd=tornado_base,
        tornado_reason=tornado_reason,
    )


# --- pieces -----------------------------------------------------------------------------------------


def annuity_factor(rate: float, years: int) -> float:
    """Present value of 1 paid at the end of each of ``years`` years: sum 1/(1+r)^t, t = 1..n (n when r = 0)."""
    if rate == 0:
        return float(years)
    return sum(1.0 / (1.0 + rate) ** t for t in range(1, years + 1))


def _resolve(inp: TcoInput, cfg: RetrofitConfig) -> _Resolved:
    n = inp.horizon_years
    idle = inp.idle_fraction if inp.idle_fraction is not None else cfg.tco_idle_fraction_of_max
    power_on_top = (
        not inp.colo_includes_power if inp.colo_includes_power is not None else cfg.colo_power_billed_separately
    )
    tiers: dict = {}
    sourced = GPU_HOUR_PRICES.get(inp.gpu_family or "", {})
    for tier, given, configured in (
        (NEOCLOUD_RESERVED, inp.neocloud_reserved_usd_per_gpu_hour, cfg.neocloud_reserved_usd_per_gpu_hour),
        (HYPERSCALER_ON_DEMAND, inp.hyperscaler_on_demand_usd_per_gpu_hour, cfg.hyperscaler_on_demand_usd_per_gpu_hour),
    ):
        if given is not None:
            tiers[tier] = (given, "the caller's price")
        elif configured is not None:
            tiers[tier] = (configured, "configured price (RETROFIT_CONFIG)")
        elif tier in sourced:
            p = sourced[tier]
            tiers[tier] = (p.usd_per_gpu_hour, f"{inp.gpu_family} {p.date}: {p.source}")
        else:
            tiers[tier] = (None, f"no sourced {inp.gpu_family or 'GPU'} {tier.replace('_', ' ')} price (§17.2)")
    return _Resolved(
        idle=idle,
        rate=inp.discount_rate if inp.discount_rate is not None else cfg.tco_discount_rate,
        life_years=inp.hardware_life_years or cfg.hardware_life_years or float(n),
        lease_years=inp.colo_lease_years or cfg.colo_lease_years or float(n),
        power_on_top=power_on_top,
        reserved_term_years=cfg.neocloud_reserved_term_years,
        pue_colo=_pue(inp.pue_colo, cfg),
        colo_price=inp.colo_usd_per_kw_month if inp.colo_usd_per_kw_month is not None else cfg.colo_usd_per_kw_month,
        tiers=tiers,
    )


def _options(inp: TcoInput, rs: _Resolved, p: _Point) -> tuple[TcoOptionCost, ...]:
    n = inp.horizon_years
    ann = annuity_factor(rs.rate, n)
    disc_n = 1.0 / (1.0 + rs.rate) ** n
    carbon = inp.carbon_kg_per_kwh
    hw = None if inp.hardware_capex_usd is None else inp.hardware_capex_usd * p.capex_scale
    residual = None if hw is None else hw * max(0.0, 1.0 - n / rs.life_years)
    retrofit = None if inp.retrofit_capex_usd is None else inp.retrofit_capex_usd * p.capex_scale
    # energy: the idle floor; unknown idle gives a range from idle 0 (point) to max power all year (high)
    draw = draw_fraction_of_max(p.util, rs.idle if rs.idle is not None else 0.0)
    ranged = rs.idle is None and p.util < 1.0
    range_reason = (
        "idle power unknown (§17.1 not found; set idle_fraction): low = idle 0 (energy proportional to "
        "utilisation), high = max power all year"
        if ranged
        else ""
    )
    it_kwh_year = inp.it_kw * HOURS_PER_YEAR  # at max power

    def energy_year(pue: float, fraction: float) -> tuple[float, float]:
        kwh = it_kwh_year * fraction * pue
        return kwh, kwh * p.price

    def totals(capex0: float | None, opex_year: float, opex_year_high: float, unknown: list[str]):
        if unknown:
            return None, None, None, None, None
        total = capex0 - (residual or 0.0) + opex_year * n
        npv = capex0 + opex_year * ann - (residual or 0.0) * disc_n
        if ranged and opex_year_high != opex_year:
            return total, npv, total, capex0 - (residual or 0.0) + opex_year_high * n, None
        return total, npv, None, None, None

    # On-premises
    kwh, usd = energy_year(p.pue_onprem, draw)
    kwh_high, usd_high = energy_year(p.pue_onprem, 1.0)
    unknown = ([_RETROFIT_UNKNOWN] if retrofit is None else []) + ([_HARDWARE_UNKNOWN] if hw is None else [])
    total, npv, low, high, _ = totals((retrofit or 0.0) + (hw or 0.0), usd, usd_high, unknown)
    onprem = TcoOptionCost(
        option=ON_PREM,
        total_usd=total,
        capex_usd=(retrofit or 0.0) + (hw or 0.0),
        energy_usd=usd * n,
        rent_usd=0.0,
        cloud_usd=0.0,
        energy_kwh=kwh * n,
        co2_kg=None if carbon is None else kwh * n * carbon,
        notes="; ".join(unknown),
        npv_usd=npv,
        annual_opex_usd=usd,
        hardware_capex_usd=hw,
        hardware_residual_usd=residual,
        total_usd_low=low,
        total_usd_high=high,
        energy_kwh_high=kwh_high * n if ranged else None,
        range_reason=range_reason if low is not None else "",
        total_reason="; ".join(unknown),
    )

    # Colocation: rent on the contracted kW, power on top unless all-in
    rent_year = inp.it_kw * MONTHS_PER_YEAR * rs.colo_price
    ckwh, cusd = energy_year(rs.pue_colo, draw)
    ckwh_high, cusd_high = energy_year(rs.pue_colo, 1.0)
    if not rs.power_on_top:
        cusd = cusd_high = 0.0
    unknown = [_HARDWARE_UNKNOWN] if hw is None else []
    total, npv, low, high, _ = totals(hw or 0.0, rent_year + cusd, rent_year + cusd_high, unknown)
    colo = TcoOptionCost(
        option=COLOCATION,
        total_usd=total,
        capex_usd=hw or 0.0,
        energy_usd=cusd * n,
        rent_usd=rent_year * n,
        cloud_usd=0.0,
        energy_kwh=ckwh * n,
        co2_kg=None if carbon is None else ckwh * n * carbon,
        notes="; ".join(
            ["rent + metered power (billed on top)" if rs.power_on_top else "rent all-in (power included)", *unknown]
        ),
        npv_usd=npv,
        annual_opex_usd=rent_year + cusd,
        hardware_capex_usd=hw,
        hardware_residual_usd=residual,
        total_usd_low=low,
        total_usd_high=high,
        energy_kwh_high=ckwh_high * n if ranged else None,
        range_reason=range_reason if low is not None else "",
        total_reason="; ".join(unknown),
    )
    out = [onprem, colo]

    # GPU-hour clouds
    hours_year = inp.gpu_count * HOURS_PER_YEAR
    clouds: list[tuple[str, float | None, str, bool]] = []
    if inp.cloud_usd_per_gpu_hour is not None:
        clouds.append((CLOUD, inp.cloud_usd_per_gpu_hour, "the caller's price, pay per used GPU-hour", True))
    if inp.gpu_count > 0:
        price, basis = rs.tiers[NEOCLOUD_RESERVED]
        clouds.append((NEOCLOUD_RESERVED, price, basis, False))
        price, basis = rs.tiers[HYPERSCALER_ON_DEMAND]
        clouds.append((HYPERSCALER_ON_DEMAND, price, basis, True))
    for name, price, basis, per_used_hour in clouds:
        if inp.gpu_count == 0:  # GPU-hours of an order without (known) GPUs: unknown, never 0
            reason = "no GPUs in the order (or their count unknown): give gpus_per_node"
            out.append(TcoOptionCost(name, None, 0.0, 0.0, 0.0, 0.0, None, None, reason, total_reason=reason))
            continue
        if price is None:
            reason = f"{basis}: give {name}_usd_per_gpu_hour"
            out.append(
                TcoOptionCost(
                    name, None, 0.0, 0.0, 0.0, 0.0, None, None, reason, total_reason=reason, price_basis=basis
                )
            )
            continue
        year = hours_year * (p.util if per_used_hour else 1.0) * price * p.gpu_scale
        out.append(
            TcoOptionCost(
                option=name,
                total_usd=year * n,
                capex_usd=0.0,
                energy_usd=0.0,
                rent_usd=0.0,
                cloud_usd=year * n,
                energy_kwh=None,
                co2_kg=None,
                notes="provider energy and CO2 unknown; "
                + ("pay per used GPU-hour" if per_used_hour else "reserved: every hour of the horizon paid"),
                npv_usd=year * ann,
                annual_opex_usd=year,
                hardware_capex_usd=0.0,
                usd_per_gpu_hour=price * p.gpu_scale,
                price_basis=basis,
            )
        )
    return tuple(out)


def _paybacks(inp: TcoInput, options: tuple[TcoOptionCost, ...]) -> tuple[Payback, ...]:
    onprem = options[0]
    out = []
    for alt in options[1:]:
        if onprem.total_usd is None or alt.total_usd is None:
            reason = onprem.total_reason or alt.total_reason
            out.append(Payback(alt.option, None, None, f"unknown: {reason}"))
            continue
        extra_capex = onprem.capex_usd - alt.capex_usd
        saving_year = alt.annual_opex_usd - onprem.annual_opex_usd
        if extra_capex <= 0:
            out.append(Payback(alt.option, 0.0, True, "on-prem needs no more capex"))
        elif saving_year <= 0:
            out.append(Payback(alt.option, None, False, "never: on-prem costs as much or more every year"))
        else:
            years = extra_capex / saving_year
            out.append(
                Payback(
                    alt.option,
                    years,
                    years <= inp.horizon_years,
                    f"{extra_capex:,.0f} USD more capex / {saving_year:,.0f} USD a year less opex",
                )
            )
    return tuple(out)


def _break_evens(inp: TcoInput, rs: _Resolved, base: _Point, options) -> tuple[BreakEven, ...]:
    at0 = {o.option: o for o in _options(inp, rs, replace(base, util=0.0))}
    at1 = {o.option: o for o in _options(inp, rs, replace(base, util=1.0))}
    out = []
    for alt in options[1:]:
        a0, a1, o0, o1 = at0.get(alt.option), at1.get(alt.option), at0[ON_PREM], at1[ON_PREM]
        if None in (a0, a1) or None in (o0.npv_usd, o1.npv_usd, a0.npv_usd, a1.npv_usd):
            reason = options[0].total_reason or alt.total_reason
            out.append(BreakEven(alt.option, None, None, f"unknown: {reason}"))
            continue
        f0, f1 = o0.npv_usd - a0.npv_usd, o1.npv_usd - a1.npv_usd  # on-prem minus alternative; linear in u
        if f0 <= 0 and f1 <= 0:
            out.append(BreakEven(alt.option, None, "always", "on-prem costs no more at any utilisation"))
        elif f0 > 0 and f1 > 0:
            out.append(BreakEven(alt.option, None, "never", "on-prem costs more at every utilisation"))
        else:
            u = f0 / (f0 - f1)
            side = "above" if f1 <= 0 else "below"
            out.append(BreakEven(alt.option, u, side, f"on-prem is cheaper {side} {u:.1%} utilisation (NPV)"))
    return tuple(out)


def _tornado(inp: TcoInput, rs: _Resolved, base: _Point, options, step: float):
    onprem = options[0]
    if onprem.npv_usd is None:
        return (), None, None, f"on-prem NPV unknown: {onprem.total_reason}"
    known = [o for o in options[1:] if o.npv_usd is not None]
    clouds = [o for o in known if o.option in CLOUD_OPTIONS]
    pool = clouds or known
    if not pool:
        return (), None, None, "no option to compare on-prem with"
    ref = min(pool, key=lambda o: (o.npv_usd, TCO_OPTIONS.index(o.option))).option

    def metric(point: _Point) -> float:
        row = {o.option: o.npv_usd for o in _options(inp, rs, point)}
        return row[ON_PREM] - row[ref]

    lo, hi = 1.0 - step, 1.0 + step
    variables = [
        ("energy_price", replace(base, price=base.price * lo), replace(base, price=base.price * hi), base.price),
        ("utilization", replace(base, util=_clip01(base.util * lo)), replace(base, util=_clip01(base.util * hi)), None),
        (
            "pue",
            replace(base, pue_onprem=max(1.0, base.pue_onprem * lo)),
            replace(base, pue_onprem=base.pue_onprem * hi),
            None,
        ),
    ]
    if ref in CLOUD_OPTIONS:
        variables.append(("gpu_hour_price", replace(base, gpu_scale=lo), replace(base, gpu_scale=hi), None))
    if onprem.capex_usd > 0:
        variables.append(("capex", replace(base, capex_scale=lo), replace(base, capex_scale=hi), None))
    inputs = {
        "energy_price": lambda pt: pt.price,
        "utilization": lambda pt: pt.util,
        "pue": lambda pt: pt.pue_onprem,
        "gpu_hour_price": lambda pt: pt.gpu_scale,
        "capex": lambda pt: onprem.capex_usd * pt.capex_scale,
    }
    bars = []
    for name, low_pt, high_pt, _ in variables:
        low_usd, high_usd = metric(low_pt), metric(high_pt)
        bars.append(
            TornadoBar(name, inputs[name](low_pt), inputs[name](high_pt), low_usd, high_usd, abs(high_usd - low_usd))
        )
    bars.sort(key=lambda b: (-b.swing_usd, TORNADO_VARIABLES.index(b.variable)))
    return tuple(bars), ref, metric(base), ""


def _remaining_years(k: int, term: float, horizon: int) -> float:
    """Years still owed after k years under back-to-back terms of ``term`` years, within the horizon."""
    end = min(math.ceil(k / term - 1e-9) * term, float(horizon))
    return max(0.0, end - k)


def _unamortized(inp: TcoInput, rs: _Resolved, options) -> tuple[UnamortizedYear, ...]:
    n = inp.horizon_years
    capex, hw = inp.retrofit_capex_usd, inp.hardware_capex_usd
    colo = next(o for o in options if o.option == COLOCATION)
    reserved = next((o for o in options if o.option == NEOCLOUD_RESERVED), None)
    rent_year = colo.rent_usd / n

    out = []
    for k in range(1, n + 1):
        recovered = None if capex is None else capex * k / n
        unrecovered = None if capex is None else capex * (n - k) / n
        book = None if hw is None else hw * max(0.0, 1.0 - k / rs.life_years)
        lease = rent_year * _remaining_years(k, rs.lease_years, n)
        owed = None
        if reserved is not None and reserved.total_usd is not None:
            owed = reserved.annual_opex_usd * _remaining_years(k, rs.reserved_term_years, n)
        out.append(
            UnamortizedYear(
                years_in_service=k,
                recovered_usd=recovered,
                unrecovered_usd=unrecovered,
                hardware_book_value_usd=book,
                colo_lease_remaining_usd=lease,
                reserved_commitment_remaining_usd=owed,
                on_prem_at_risk_usd=None if unrecovered is None or book is None else unrecovered + book,
                colocation_at_risk_usd=None if book is None else book + lease,
                neocloud_reserved_at_risk_usd=owed,
            )
        )
    return tuple(out)


def _assumptions(inp: TcoInput, rs: _Resolved, cfg: RetrofitConfig) -> tuple[str, ...]:
    pue, pue_basis = site_pue(inp.pue_onprem, cfg)
    idle = (
        f"idle draw {rs.idle:.0%} of max"
        if rs.idle is not None
        else "idle draw unknown (§17.1 not found): energy from idle 0 to max power all year"
    )
    return (
        f"{HOURS_PER_YEAR:g} h/year; energy = max kW x (idle + (1 - idle) x {inp.utilization:.0%} utilisation) "
        f"x h x PUE; {idle}",
        f"on-prem PUE {pue:g} ({pue_basis})",
        f"colocation ${rs.colo_price:,.2f}/kW/month on {inp.it_kw:g} kW contracted"
        + (" (CBRE NA H2 2024 average asking wholesale rent, P [S56])" if inp.colo_usd_per_kw_month is None else "")
        + (
            f", power billed on top at PUE {rs.pue_colo:g} ({cfg.source_of('colo_power_billed_separately')})"
            if rs.power_on_top
            else ", all-in (power included)"
        ),
        f"discount rate {rs.rate:.1%} a year (NPV: capex at year 0, opex at the end of each year)",
        f"hardware depreciated straight line over {rs.life_years:g} years; book value left at the end is credited",
        f"colocation lease {rs.lease_years:g} years; neocloud reserved term "
        f"{rs.reserved_term_years:g} year(s) ({cfg.source_of('neocloud_reserved_term_years')})",
        "cloud and hyperscaler on-demand: pay per used GPU-hour; neocloud reserved: every hour paid",
        "unamortized risk: retrofit capex linear over the horizon, hardware book value, lease and reserved "
        "commitment still owed",
        "payback undiscounted; break-even utilisation and tornado on NPV",
        "not modelled (unsourced): staff, maintenance, network, colo high-density premium",
    )


def _notes(inp: TcoInput, rs: _Resolved, options) -> tuple[str, ...]:
    notes: list[str] = []
    if inp.hardware_capex_usd is None:
        notes.append(
            "hardware price unknown (no sourced price; set hardware_capex_usd): the on-prem and colocation "
            "totals, NPV, payback, break-even and tornado are null; their known components (energy, rent, "
            "retrofit) stay numbers"
        )
    if inp.cloud_usd_per_gpu_hour is None:
        notes.append("cloud omitted: no price of your own; give cloud_usd_per_gpu_hour")
    for o in options:
        if o.option in (NEOCLOUD_RESERVED, HYPERSCALER_ON_DEMAND) and o.total_usd is None:
            notes.append(o.total_reason)
    if inp.gpu_count == 0:
        notes.append("no GPUs in the order: the GPU-hour tiers are omitted")
    if inp.retrofit_capex_usd is None:
        notes.append("retrofit capex unknown (unsourced retrofit cost): on-prem total not computed")
    if inp.colo_usd_per_kw_month is None and not (_CBRE_REQUIREMENT_KW[0] <= inp.it_kw <= _CBRE_REQUIREMENT_KW[1]):
        notes.append(
            f"CBRE's rent is for {_CBRE_REQUIREMENT_KW[0]:g}-{_CBRE_REQUIREMENT_KW[1]:g} kW requirements;"
            f" {inp.it_kw:g} kW may price differently"
        )
    if rs.idle is None and inp.utilization < 1.0:
        notes.append(
            "idle power unknown (§17.1): energy totals are a range (total_usd_low..total_usd_high); "
            "set idle_fraction for one figure"
        )
    if inp.carbon_kg_per_kwh is None:
        notes.append("no carbon intensity: CO2 not computed")
    return tuple(notes)


def _cheapest(options: tuple[TcoOptionCost, ...]) -> str | None:
    return _cheapest_of({o.option: o.total_usd for o in options})


def _cheapest_of(totals: dict[str, float | None]) -> str | None:
    """Lowest total; ties go to the earlier option in TCO_OPTIONS order."""
    known = [(total, TCO_OPTIONS.index(name), name) for name, total in totals.items() if total is not None]
    return min(known)[2] if known else None


def _clip01(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def _pue(value: float | None, cfg: RetrofitConfig) -> float:
    return site_pue(value, cfg)[0]


def _nonneg(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
