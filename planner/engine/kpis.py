"""AI-factory KPIs of a priced plan (issue 17): tokens/s, tokens/s per kW of facility power, cost per million
tokens, grams of CO2 per million tokens, days to deploy.

Pure functions over plain numbers. Every KPI is either a number with its arithmetic, or null with the reason
(the input that is unknown). Throughput is benchmark-ideal (reference §12.2 MLPerf, or a user measurement):
it excludes utilisation, batching and SLA effects beyond the scenario's own bounds (§17.2 planner note).

- tokens/s = tokens/s per system x systems.
- tokens/s per kW = tokens/s / (IT kW x PUE): per kW of facility power, the power the grid must supply.
- cost per million tokens = cost per hour / (tokens/s x 3,600) x 10^6, where cost per hour is
  on-prem: IT kW x PUE x energy price + (hardware + retrofit capex) / (amortization years x 8,760 h x utilization);
  colocation: rent per kW-month x IT kW x 12 / 8,760 / utilization (+ energy when power is not included) +
  hardware amortized the same way; cloud: GPU-hour price x GPUs (§17.2: price per GPU-h / (tok/s per GPU x
  3,600) x 10^6). The hourly figures are per hour of running; the fixed costs are spread over the hours the
  systems run (utilization x 8,760 per year).
- g CO2 per million tokens = IT kW x PUE x kg CO2/kWh x 1,000 / (tokens/s x 3,600) x 10^6.
- days to deploy = the longer of the retrofit's lead time (weeks x 7) and the hardware's lead time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HOURS_PER_YEAR = 8760.0
SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MILLION = 1e6

SITE = "site"
COLOCATION = "colocation"
CLOUD = "cloud"
KPI_NAMES = (
    "tokens_per_s",
    "tokens_per_s_per_kw",
    "usd_per_million_tokens",
    "g_co2_per_million_tokens",
    "days_to_deploy",
)


@dataclass(frozen=True)
class KpiInput:
    kind: str  # site | colocation | cloud
    systems: int
    it_kw_per_system: float
    tokens_per_s_per_system: float | None
    throughput_source: str = ""
    gpus_per_system: int | None = None
    pue: float | None = None
    pue_basis: str = ""
    energy_price_per_kwh: float | None = None
    carbon_kg_per_kwh: float | None = None
    utilization: float = 1.0
    amortization_years: float = 5.0
    hardware_usd_per_system: float | None = None
    retrofit_capex_usd: float | None = 0.0  # None = a retrofit is needed and its cost is unknown
    retrofit_lead_time_weeks: float | None = 0.0  # None = a retrofit is needed and its lead time is unknown
    hardware_lead_time_days: float | None = None
    colo_usd_per_kw_month: float | None = None
    colo_includes_power: bool = True
    cloud_usd_per_gpu_hour: float | None = None
    # why an input above is unknown, when the caller knows better than "not given" (e.g. "no retrofit resolves")
    unknown_because: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in (SITE, COLOCATION, CLOUD):
            raise ValueError(f"kind must be site, colocation or cloud, not {self.kind!r}")
        if self.systems < 0 or self.it_kw_per_system < 0:
            raise ValueError("systems and it_kw_per_system must be >= 0")
        if not 0 < self.utilization <= 1:
            raise ValueError("utilization must be above 0 and at most 1")
        if self.amortization_years <= 0:
            raise ValueError("amortization_years must be above 0")
        if self.pue is not None and self.pue < 1:
            raise ValueError("pue must be >= 1")


@dataclass(frozen=True)
class Kpis:
    tokens_per_s: float | None
    tokens_per_s_per_kw: float | None
    usd_per_million_tokens: float | None
    g_co2_per_million_tokens: float | None
    days_to_deploy: float | None
    energy_usd_per_million_tokens: float | None  # the energy part of the cost alone (on-prem and unbundled colo)
    null_reasons: dict[str, str]
    arithmetic: dict[str, str]

    def to_dict(self) -> dict:
        return {
            "tokens_per_s": self.tokens_per_s,
            "tokens_per_s_per_kw": self.tokens_per_s_per_kw,
            "usd_per_million_tokens": self.usd_per_million_tokens,
            "g_co2_per_million_tokens": self.g_co2_per_million_tokens,
            "days_to_deploy": self.days_to_deploy,
            "energy_usd_per_million_tokens": self.energy_usd_per_million_tokens,
            "null_reasons": dict(self.null_reasons),
            "arithmetic": dict(self.arithmetic),
        }


def tokens_per_s(systems: int, tokens_per_s_per_system: float) -> float:
    return systems * tokens_per_s_per_system


def tokens_per_s_per_kw(tokens_s: float, it_kw: float, pue: float) -> float | None:
    facility_kw = it_kw * pue
    return tokens_s / facility_kw if facility_kw > 0 else None


def per_million_tokens(per_hour: float, tokens_s: float) -> float | None:
    """A per-hour figure (USD, g CO2) per million tokens at ``tokens_s``."""
    tokens_per_hour = tokens_s * SECONDS_PER_HOUR
    return per_hour / tokens_per_hour * TOKENS_PER_MILLION if tokens_per_hour > 0 else None


def amortized_per_hour(capex_usd: float, years: float, utilization: float) -> float:
    """Capex spread over the hours the systems run: years x 8,760 h x utilization."""
    return capex_usd / (years * HOURS_PER_YEAR * utilization)


def days_to_deploy(retrofit_lead_time_weeks: float, hardware_lead_time_days: float) -> float:
    return max(retrofit_lead_time_weeks * 7.0, hardware_lead_time_days)


def _reason(inp: KpiInput, key: str, default: str) -> str:
    return inp.unknown_because.get(key, default)


def compute_kpis(inp: KpiInput) -> Kpis:
    reasons: dict[str, str] = {}
    math: dict[str, str] = {}
    it_kw = inp.it_kw_per_system * inp.systems

    # --- throughput
    tps = None
    if inp.tokens_per_s_per_system is None:
        reasons["tokens_per_s"] = _reason(inp, "tokens_per_s_per_system", "no throughput basis for this model")
    else:
        tps = tokens_per_s(inp.systems, inp.tokens_per_s_per_system)
        math["tokens_per_s"] = (
            f"{inp.tokens_per_s_per_system:g} tok/s per system x {inp.systems} = {tps:g} tok/s "
            f"({inp.throughput_source})"
        )
    missing_tps = reasons.get("tokens_per_s")

    # --- per kW of facility power
    per_kw = None
    if tps is None:
        reasons["tokens_per_s_per_kw"] = missing_tps
    elif inp.pue is None:
        reasons["tokens_per_s_per_kw"] = _reason(inp, "pue", "facility power unknown (no PUE)")
    else:
        per_kw = tokens_per_s_per_kw(tps, it_kw, inp.pue)
        if per_kw is None:
            reasons["tokens_per_s_per_kw"] = "no power drawn"
        else:
            math["tokens_per_s_per_kw"] = (
                f"{tps:g} / ({it_kw:g} kW IT x PUE {inp.pue:g} ({inp.pue_basis})) = {per_kw:.4g} tok/s per kW"
            )

    # --- energy per hour (site, and colocation when power is billed apart)
    energy_per_h = None
    energy_reason = None
    needs_energy = inp.kind == SITE or (inp.kind == COLOCATION and not inp.colo_includes_power)
    if needs_energy:
        if inp.energy_price_per_kwh is None:
            energy_reason = _reason(inp, "energy_price_per_kwh", "energy price unknown")
        elif inp.pue is None:
            energy_reason = _reason(inp, "pue", "facility power unknown (no PUE)")
        else:
            energy_per_h = it_kw * inp.pue * inp.energy_price_per_kwh

    # --- cost per million tokens
    usd = energy_usd = None
    if tps is None:
        reasons["usd_per_million_tokens"] = missing_tps
    elif inp.kind == CLOUD:
        if inp.cloud_usd_per_gpu_hour is None:
            reasons["usd_per_million_tokens"] = _reason(inp, "cloud_usd_per_gpu_hour", "cloud GPU-hour price unknown")
        elif not inp.gpus_per_system:
            reasons["usd_per_million_tokens"] = "GPUs per system unknown (the cloud is priced per GPU-hour)"
        else:
            gpus = inp.gpus_per_system * inp.systems
            per_h = inp.cloud_usd_per_gpu_hour * gpus
            usd = per_million_tokens(per_h, tps)
            math["usd_per_million_tokens"] = (
                f"${inp.cloud_usd_per_gpu_hour:g}/GPU-h x {gpus} GPUs = ${per_h:g}/h; / ({tps:g} tok/s x 3,600) "
                f"x 10^6 = ${usd:.4g} per M tokens"
            )
    else:
        parts: list[str] = []
        per_h = 0.0
        if needs_energy:
            if energy_per_h is None:
                reasons["usd_per_million_tokens"] = energy_reason
            else:
                per_h += energy_per_h
                energy_usd = per_million_tokens(energy_per_h, tps)
                parts.append(
                    f"energy {it_kw:g} kW x PUE {inp.pue:g} x ${inp.energy_price_per_kwh:g}/kWh = ${energy_per_h:.4g}/h"
                )
        if inp.kind == COLOCATION:
            if inp.colo_usd_per_kw_month is None:
                reasons.setdefault("usd_per_million_tokens", "colocation price unknown")
            else:
                rent = amortized_per_hour(inp.colo_usd_per_kw_month * it_kw * 12, 1.0, inp.utilization)
                per_h += rent
                parts.append(
                    f"rent ${inp.colo_usd_per_kw_month:g}/kW-month x {it_kw:g} kW x 12 / "
                    f"(8,760 h x {inp.utilization:g}) = ${rent:.4g}/h"
                )
        if inp.hardware_usd_per_system is None:
            reasons.setdefault(
                "usd_per_million_tokens", _reason(inp, "hardware_usd_per_system", "hardware price unknown")
            )
        else:
            capex = inp.hardware_usd_per_system * inp.systems
            retrofit = inp.retrofit_capex_usd if inp.kind == SITE else 0.0
            if retrofit is None:
                reasons.setdefault(
                    "usd_per_million_tokens", _reason(inp, "retrofit_capex_usd", "retrofit cost unknown")
                )
            else:
                capex += retrofit
                fixed = amortized_per_hour(capex, inp.amortization_years, inp.utilization)
                per_h += fixed
                parts.append(
                    f"capex (${inp.hardware_usd_per_system:g} x {inp.systems}"
                    + (f" + retrofit ${retrofit:g}" if inp.kind == SITE else "")
                    + f") / ({inp.amortization_years:g} y x 8,760 h x {inp.utilization:g}) = ${fixed:.4g}/h"
                )
        if "usd_per_million_tokens" not in reasons:
            usd = per_million_tokens(per_h, tps)
            math["usd_per_million_tokens"] = (
                "; ".join(parts) + f"; ${per_h:.4g}/h / ({tps:g} tok/s x 3,600) x 10^6 = ${usd:.4g} per M tokens"
            )

    # --- carbon
    g_co2 = None
    if tps is None:
        reasons["g_co2_per_million_tokens"] = missing_tps
    elif inp.carbon_kg_per_kwh is None:
        reasons["g_co2_per_million_tokens"] = _reason(inp, "carbon_kg_per_kwh", "grid carbon intensity unknown")
    elif inp.pue is None:
        reasons["g_co2_per_million_tokens"] = _reason(inp, "pue", "facility power unknown (no PUE)")
    else:
        g_per_h = it_kw * inp.pue * inp.carbon_kg_per_kwh * 1000.0
        g_co2 = per_million_tokens(g_per_h, tps)
        math["g_co2_per_million_tokens"] = (
            f"{it_kw:g} kW x PUE {inp.pue:g} x {inp.carbon_kg_per_kwh:g} kg/kWh x 1,000 = {g_per_h:.4g} g/h; "
            f"/ ({tps:g} tok/s x 3,600) x 10^6 = {g_co2:.4g} g per M tokens"
        )

    # --- days to deploy
    days = None
    retrofit_weeks = inp.retrofit_lead_time_weeks if inp.kind == SITE else 0.0
    if retrofit_weeks is None:
        reasons["days_to_deploy"] = _reason(inp, "retrofit_lead_time_weeks", "retrofit lead time unknown")
    elif inp.hardware_lead_time_days is None:
        reasons["days_to_deploy"] = _reason(
            inp, "hardware_lead_time_days", "hardware lead time unknown (not checked: unsourced)"
        )
    else:
        days = days_to_deploy(retrofit_weeks, inp.hardware_lead_time_days)
        math["days_to_deploy"] = (
            f"max(retrofit {retrofit_weeks:g} weeks x 7, hardware {inp.hardware_lead_time_days:g} days) = {days:g} days"
        )

    return Kpis(
        tokens_per_s=_round(tps, 3),
        tokens_per_s_per_kw=_round(per_kw, 3),
        usd_per_million_tokens=_round(usd, 8),
        g_co2_per_million_tokens=_round(g_co2, 6),
        days_to_deploy=_round(days, 1),
        energy_usd_per_million_tokens=_round(energy_usd, 8),
        null_reasons=reasons,
        arithmetic=math,
    )


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
