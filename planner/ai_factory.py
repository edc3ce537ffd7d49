"""The AI-factory layer's glue (issue 17): throughput bases for a model, and the KPIs of a priced plan.

Reads rows (one query per question) and calls the pure ``planner.engine.kpis``; the API, the pages and the
reports call these, never re-derive a KPI.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from planner.engine.costs import site_pue
from planner.engine.kpis import SITE, KpiInput, compute_kpis
from planner.models import REFERENCE_WORKLOADS, Scenario, ThroughputBasis

DEFAULT_REFERENCE_WORKLOAD = "llama2-70b"
DEFAULT_SCENARIO = Scenario.SERVER  # the deployable, latency-bounded figure (reference §12.1)


@dataclass(frozen=True)
class Throughput:
    tokens_per_s_per_system: float | None
    source: str  # the basis, or why there is none
    basis_id: int | None = None


def throughput_for(model_id: int, reference_workload: str, scenario: str) -> Throughput:
    """Tokens/s per system of ``model_id`` on the workload and scenario: the latest user measurement if any,
    else the latest MLPerf round (one query)."""
    rows = list(
        ThroughputBasis.objects.filter(model_id=model_id, reference_workload=reference_workload, scenario=scenario)
        .order_by("-round_date", "-id")
        .values("id", "kind", "tokens_per_s_per_system", "mlperf_round", "submitter", "system", "round_date")
    )
    return pick_throughput(rows, reference_workload, scenario)


def throughputs_for(model_ids, reference_workload: str, scenario: str) -> dict[int, Throughput]:
    """``throughput_for`` for several models at once (one query)."""
    rows: dict[int, list] = {mid: [] for mid in model_ids}
    for row in (
        ThroughputBasis.objects.filter(
            model_id__in=list(model_ids), reference_workload=reference_workload, scenario=scenario
        )
        .order_by("-round_date", "-id")
        .values(
            "id", "model_id", "kind", "tokens_per_s_per_system", "mlperf_round", "submitter", "system", "round_date"
        )
    ):
        rows[row["model_id"]].append(row)
    return {mid: pick_throughput(r, reference_workload, scenario) for mid, r in rows.items()}


def pick_throughput(rows: list[dict], reference_workload: str, scenario: str) -> Throughput:
    if not rows:
        name = REFERENCE_WORKLOADS.get(reference_workload, reference_workload)
        return Throughput(None, f"no throughput basis for this model on {name} ({scenario})")
    measured = [r for r in rows if r["kind"] == ThroughputBasis.Kind.MEASURED]
    row = measured[0] if measured else rows[0]
    if row["kind"] == ThroughputBasis.Kind.MEASURED:
        source = f"measured ({row['system'] or 'user'}{', ' + str(row['round_date']) if row['round_date'] else ''})"
    else:
        source = f"MLPerf Inference {row['mlperf_round']} {scenario}, {row['submitter']}, {row['system']} (§12.2)"
    return Throughput(row["tokens_per_s_per_system"], source, row["id"])


def retrofit_inputs(plan) -> tuple[float | None, float | None, dict[str, str]]:
    """(retrofit capex USD, lead time weeks, reasons) of a feasibility plan: zero when it fits now; unknown
    when some units fit no retrofit or an option's cost or lead time is unknown."""
    if plan.fits_now:
        return 0.0, 0.0, {}
    unlocked = sum(r["unlocks"] for r in plan.retrofits)
    if unlocked < plan.unplaced:
        why = f"{plan.unplaced - unlocked} of {plan.requested} units fit no retrofit at this site"
        return None, None, {"retrofit_capex_usd": why, "retrofit_lead_time_weeks": why}
    costs = [r["capex_usd"] for r in plan.retrofits]
    weeks = [r.get("lead_time_weeks") for r in plan.retrofits]
    reasons = {}
    capex = round(sum(costs), 2) if None not in costs else None
    if capex is None:
        reasons["retrofit_capex_usd"] = "a retrofit's cost is unknown (not sourced; set it in RETROFIT_CONFIG_JSON)"
    lead = max(weeks) if weeks and None not in weeks else None
    if lead is None:
        reasons["retrofit_lead_time_weeks"] = "a retrofit's lead time is unknown (§16.1 has none for it)"
    return capex, lead, reasons


def plan_kpis(
    plan,
    site,
    *,
    throughput: Throughput,
    gpus_per_system: int | None,
    hardware_usd_per_system: float | None = None,
    hardware_lead_time_days: float | None = None,
    utilization: float = 1.0,
    config=None,
) -> dict:
    """The KPIs of a feasibility plan at ``site`` (the requested quantity, with the retrofits it needs)."""
    from planner.retrofits import retrofit_config

    pue, pue_basis = site_pue(site.design_pue, config or retrofit_config())
    capex, weeks, reasons = retrofit_inputs(plan)
    if throughput.tokens_per_s_per_system is None:
        reasons["tokens_per_s_per_system"] = throughput.source
    if hardware_usd_per_system is None:
        reasons["hardware_usd_per_system"] = "hardware price unknown (not sourced): give hardware_usd_per_system"
    if hardware_lead_time_days is None:
        hardware_lead_time_days = settings.PLANNER_HARDWARE_LEAD_TIME_DAYS
    if hardware_lead_time_days is None:
        reasons["hardware_lead_time_days"] = (
            "hardware lead time unknown (not checked: unsourced): give hardware_lead_time_days or set "
            "PLANNER_HARDWARE_LEAD_TIME_DAYS"
        )
    kpis = compute_kpis(
        KpiInput(
            kind=SITE,
            systems=plan.requested,
            it_kw_per_system=plan.model.max_power_kw,
            tokens_per_s_per_system=throughput.tokens_per_s_per_system,
            throughput_source=throughput.source,
            gpus_per_system=gpus_per_system,
            pue=pue,
            pue_basis=pue_basis,
            energy_price_per_kwh=site.energy_price_per_kwh,
            carbon_kg_per_kwh=site.carbon_kg_per_kwh,
            utilization=utilization,
            amortization_years=settings.PLANNER_AMORTIZATION_YEARS,
            hardware_usd_per_system=hardware_usd_per_system,
            retrofit_capex_usd=capex,
            retrofit_lead_time_weeks=weeks,
            hardware_lead_time_days=hardware_lead_time_days,
            unknown_because=reasons,
        )
    )
    return kpis.to_dict()
