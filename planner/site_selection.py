"""Site selection (issue 17): rank the user's sites, with the retrofits each needs, against colocation and
cloud options, for one workload: physical fit, SLOs kept (latency, residency, availability), the KPIs, and
the reasons for each rank.

Cheap first, then exact (a 5,000-rack feasibility costs seconds): residency and latency need only the site
row; the fit bound comes from the cached site headroom (``planner.headroom.site_headroom_of``: an upper bound
on what fits now); full feasibility (``planner.planning.plan_feasibility``, with its retrofits) and the N-1
sweep (``planner.resilience.site_resilience``, cached per budget token) run on at most
``PLANNER_SITE_SELECTION_FULL_CHECKS`` sites that keep the cheap SLOs, best bound first. The others are ranked
on the bound and say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.conf import settings

from planner import ai_factory, planning, selectors
from planner.engine import siting
from planner.engine.costs import site_pue
from planner.engine.failure import n1_sweep
from planner.engine.kpis import CLOUD, COLOCATION, KpiInput, compute_kpis
from racks.models import Site


@dataclass(frozen=True)
class ExternalOption:
    """A colocation or cloud offer the caller gives (the planner does not model its capacity)."""

    kind: str  # colocation | cloud
    name: str
    latitude: float | None = None
    longitude: float | None = None
    jurisdiction: str = ""
    availability_pct: float | None = None
    usd_per_kw_month: float | None = None  # colocation; default CBRE (reference §7.3)
    includes_power: bool = True
    energy_price_per_kwh: float | None = None
    usd_per_gpu_hour: float | None = None  # cloud
    pue: float | None = None
    carbon_kg_per_kwh: float | None = None
    lead_time_days: float | None = None


@dataclass
class Option:
    kind: str
    name: str
    site: int | None = None
    fits: bool | None = None
    placed: int | None = None
    checked: str = ""
    slo: siting.Slo | None = None
    slo_basis: dict = field(default_factory=dict)
    retrofits: list = field(default_factory=list)
    kpis: dict | None = None
    reasons: list[str] = field(default_factory=list)

    def to_dict(self, rank: int) -> dict:
        return {
            "rank": rank,
            "kind": self.kind,
            "name": self.name,
            "site": self.site,
            "fits": self.fits,
            "placed": self.placed,
            "checked": self.checked,
            "slo": {
                "latency_ms": self.slo.latency_ms,
                "latency_ok": self.slo.latency_ok,
                "residency_ok": self.slo.residency_ok,
                "availability_ok": self.slo.availability_ok,
                **self.slo_basis,
            },
            "retrofits": self.retrofits,
            "kpis": self.kpis,
            "reasons": self.reasons,
        }


def _latency(workload, key: str, lat, lon, latency_table: dict, route_factor: float):
    """(p99 ms, ok, reason)."""
    budget = workload.latency_p99_ms
    regions = workload.user_regions or []
    table = latency_table.get(key)
    if table is not None:
        missing = [r["name"] for r in regions if r["name"] not in table]
        if missing:
            return None, None if budget is not None else True, f"latency table has no entry for {', '.join(missing)}"
        samples = [(float(table[r["name"]]), r["share"]) for r in regions]
        basis = "from the latency table"
    elif not regions:
        return None, (None if budget is not None else True), "no user regions: latency not computed"
    elif lat is None or lon is None:
        return None, (None if budget is not None else True), "no coordinates: latency unknown"
    else:
        samples = [
            (siting.rtt_ms(siting.great_circle_km(r["latitude"], r["longitude"], lat, lon), route_factor), r["share"])
            for r in regions
        ]
        basis = f"great circle x route factor {route_factor:g} x {siting.FIBRE_SOURCE}, x 2"
    p99 = siting.p99_ms(samples)
    p99 = round(p99, 3) if p99 is not None else None
    if budget is None:
        return p99, True, f"p99 round trip {p99:g} ms ({basis}); no latency budget"
    ok = p99 is not None and p99 <= budget
    return p99, ok, f"p99 round trip {p99:g} ms {'<=' if ok else '>'} budget {budget:g} ms ({basis})"


def _residency(workload, jurisdiction: str, processing: str = ""):
    allowed = workload.residency or []
    if not allowed:
        return True, "residency: anywhere"
    if not jurisdiction:
        return False, f"residency: jurisdiction unknown, allowed {', '.join(allowed)}"
    if jurisdiction not in allowed:
        return False, f"residency: jurisdiction {jurisdiction} not in allowed {', '.join(allowed)}"
    if processing and processing not in allowed:
        return False, f"residency: data processed in {processing} (DORA Art. 30(2)(b)), not in {', '.join(allowed)}"
    return True, f"residency: {jurisdiction} in allowed {', '.join(allowed)}"


def _external_availability(workload, pct: float | None):
    need = siting.required_tier(workload.availability_target_pct)
    target = workload.availability_target_pct
    if need == 0:
        return True, "availability: no target"
    if pct is None:
        return None, "availability: the provider's figure is not given"
    ok = pct >= target
    return ok, f"availability: provider's {pct:g} % {'>=' if ok else '<'} target {target:g} %"


def _site_availability(workload, snapshot, plan):
    """(ok, reason) from the N-1 sweep of the site with the plan's systems placed: a single point of failure
    counts when its loss fails a rack the workload uses (the site as it stands may be empty: nothing to fail)."""
    target = workload.availability_target_pct
    need = siting.required_tier(target)
    if need == 0:
        return True, "availability: no target"
    if need is None:
        return False, f"availability: {target:g} % is above every quoted class ({siting.TIER_SOURCE})"
    if need <= siting.WITH_SPOF_TIER:
        return True, f"availability: {target:g} % needs Tier {need} ({siting.TIER_SOURCE})"
    if not plan.placements:
        return None, "availability: nothing placed, so the N-1 sweep has nothing of the workload to test"
    used = {p["rack"] for p in plan.placements}
    spofs = [
        e for e in n1_sweep(_index_with_plan(snapshot, plan)) if e.spof and any(rid in used for rid, _ in e.failing)
    ]
    tier = siting.NO_SPOF_TIER if not spofs else siting.WITH_SPOF_TIER
    ok = tier >= need
    if spofs:
        first = spofs[0].element
        why = (
            f"{len(spofs)} single point(s) of failure for the workload's racks in the N-1 sweep (e.g. "
            f'{first.kind} "{first.name}"): Tier I'
        )
    else:
        why = "no single point of failure for the workload's racks in the N-1 sweep: Tier III (§13.2 P [S108])"
    return ok, f"availability: {target:g} % needs Tier {need}; {why} ({siting.TIER_SOURCE})"


def _index_with_plan(snapshot, plan):
    """The failure index of the site with the plan's units placed (engine contexts; no query)."""
    from dataclasses import replace

    from planner.engine.inputs import PlacedNode

    added: dict[int, list] = {}
    for p in plan.placements:
        added.setdefault(p["rack"], []).append(PlacedNode(model=plan.model, u_position=p["u_position"]))
    contexts = {
        rid: (replace(ctx, nodes=ctx.nodes + tuple(added[rid])) if rid in added else ctx)
        for rid, ctx in snapshot.contexts.items()
    }
    return selectors.failure_index_of(snapshot, contexts)


def systems_for(workload, throughput: ai_factory.Throughput) -> int:
    """Systems the workload needs: its quantity, or its target tokens/s over the per-system basis (rounded up)."""
    if workload.quantity is not None:
        return workload.quantity
    if throughput.tokens_per_s_per_system in (None, 0):
        raise ValueError(f"{throughput.source}: give the workload a quantity or add a throughput basis")
    return max(1, math.ceil(workload.target_tokens_per_s / throughput.tokens_per_s_per_system - 1e-9))


def select_sites(
    workload,
    *,
    site_ids=None,
    external: tuple[ExternalOption, ...] = (),
    latency_table: dict | None = None,
    hardware_usd_per_system: float | None = None,
    hardware_lead_time_days: float | None = None,
    utilization: float = 1.0,
    full_checks: int | None = None,
) -> dict:
    from planner.headroom import site_headroom_of
    from planner.retrofits import retrofit_config

    config = retrofit_config()
    latency_table = latency_table or {}
    route_factor = settings.PLANNER_ROUTE_FACTOR
    full_checks = settings.PLANNER_SITE_SELECTION_FULL_CHECKS if full_checks is None else full_checks
    model = workload.model
    spec = selectors.node_model_spec(model)
    throughput = ai_factory.throughput_for(model.pk, workload.reference_workload, workload.scenario)
    systems = systems_for(workload, throughput)
    if hardware_lead_time_days is None:
        hardware_lead_time_days = settings.PLANNER_HARDWARE_LEAD_TIME_DAYS

    sites = Site.objects.order_by("name")
    if site_ids is not None:
        sites = sites.filter(pk__in=site_ids)
    options: list[Option] = []
    candidates: list[tuple[Option, Site]] = []
    for site in sites:
        opt = Option(kind="site", name=site.name, site=site.pk)
        residency_ok, residency_why = _residency(workload, site.jurisdiction, site.data_processing_country)
        p99, latency_ok, latency_why = _latency(
            workload, site.slug, site.latitude, site.longitude, latency_table, route_factor
        )
        opt.reasons += [residency_why, f"latency: {latency_why}"]
        opt.slo = siting.Slo(p99, latency_ok, residency_ok, None)
        options.append(opt)
        if residency_ok is False or latency_ok is False:
            opt.checked = "not evaluated: breaks an SLO"
            opt.reasons.append("fit not evaluated: the site breaks an SLO")
            opt.kpis = None
            continue
        bound = site_headroom_of(site.pk).get("fits", {}).get(model.slug)
        opt.slo_basis["fit_bound"] = bound
        candidates.append((opt, site, bound))

    # Full checks: the best bounds first (the most likely to fit now), then the cheapest energy.
    def energy_cost(site) -> float:
        pue, _ = site_pue(site.design_pue, config)
        return (site.energy_price_per_kwh if site.energy_price_per_kwh is not None else math.inf) * pue

    candidates.sort(key=lambda c: (-(min(c[2] or 0, systems)), energy_cost(c[1]), c[1].name))
    for index, (opt, site, bound) in enumerate(candidates):
        if index < full_checks:
            snapshot = selectors.site_snapshot(site.pk)
            plan = planning.plan_feasibility(snapshot, spec, systems, retrofit_config=config)
            opt.fits = plan.fits_now
            opt.placed = plan.requested - plan.unplaced
            opt.checked = "feasibility"
            opt.retrofits = [
                {
                    k: r.get(k)
                    for k in ("row", "row_name", "unlocks", "kind", "resolves", "capex_usd", "lead_time_weeks")
                }
                for r in plan.retrofits
            ]
            if plan.fits_now:
                opt.reasons.append(f"fits now: {systems} x {model.slug} placed, every rule checked")
            else:
                unlocked = sum(r["unlocks"] for r in plan.retrofits)
                binding = ", ".join(f"{c} ({n})" for c, n in list(plan.binding.items())[:3])
                opt.reasons.append(
                    f"fits {opt.placed} of {systems} now (binding: {binding}); retrofits unlock {unlocked} more"
                )
            ok, why = _site_availability(workload, snapshot, plan)
            opt.slo = siting.Slo(opt.slo.latency_ms, opt.slo.latency_ok, opt.slo.residency_ok, ok)
            opt.reasons.append(why)
            opt.kpis = ai_factory.plan_kpis(
                plan,
                site,
                throughput=throughput,
                gpus_per_system=model.gpus,
                hardware_usd_per_system=hardware_usd_per_system,
                hardware_lead_time_days=hardware_lead_time_days,
                utilization=utilization,
                config=config,
            )
        else:
            opt.checked = "bound"
            if bound is not None and bound < systems:
                opt.fits = False
                opt.reasons.append(
                    f"does not fit now: the headroom bound allows {bound} of {systems} (retrofits not evaluated)"
                )
            else:
                opt.reasons.append(
                    f"may fit: the headroom bound allows {bound}; not fully checked (beyond the "
                    f"{full_checks} best candidates)"
                )
            need = siting.required_tier(workload.availability_target_pct)
            ok = True if need == 0 else (False if need is None else (True if need <= 1 else None))
            opt.slo = siting.Slo(opt.slo.latency_ms, opt.slo.latency_ok, opt.slo.residency_ok, ok)
            if ok is None:
                opt.reasons.append("availability: N-1 sweep not run (not fully checked)")

    for ext in external:
        options.append(
            _external(
                workload,
                ext,
                systems,
                spec,
                model,
                throughput,
                latency_table,
                route_factor,
                config,
                hardware_usd_per_system,
                hardware_lead_time_days,
                utilization,
            )
        )

    def key(o: Option):
        k = o.kpis or {}
        return siting.rank_key(o.slo, o.fits, k.get("usd_per_million_tokens"), k.get("days_to_deploy"), o.name)

    options.sort(key=key)
    for opt in options:
        if opt.slo.broken():
            broken = [
                n
                for n, v in (
                    ("latency", opt.slo.latency_ok),
                    ("residency", opt.slo.residency_ok),
                    ("availability", opt.slo.availability_ok),
                )
                if v is False
            ]
            opt.reasons.insert(0, f"ranked after every option keeping the SLOs: breaks {', '.join(broken)}")
    return {
        "workload": workload.pk,
        "model": model.slug,
        "systems": systems,
        "throughput": {"tokens_per_s_per_system": throughput.tokens_per_s_per_system, "source": throughput.source},
        "route_factor": route_factor,
        "fibre_us_per_km": siting.FIBRE_US_PER_KM,
        "full_checks": full_checks,
        "latency_budget_ms": workload.latency_p99_ms,
        "options": [o.to_dict(i + 1) for i, o in enumerate(options)],
    }


def _external(
    workload,
    ext,
    systems,
    spec,
    model,
    throughput,
    latency_table,
    route_factor,
    config,
    hardware_usd_per_system,
    hardware_lead_time_days,
    utilization,
) -> Option:
    opt = Option(kind=ext.kind, name=ext.name, fits=True, placed=systems, checked="offer")
    residency_ok, residency_why = _residency(workload, ext.jurisdiction)
    p99, latency_ok, latency_why = _latency(
        workload, ext.name, ext.latitude, ext.longitude, latency_table, route_factor
    )
    availability_ok, availability_why = _external_availability(workload, ext.availability_pct)
    opt.slo = siting.Slo(p99, latency_ok, residency_ok, availability_ok)
    opt.reasons += [
        residency_why,
        f"latency: {latency_why}",
        availability_why,
        "capacity: the provider's (not modelled); assumed to fit",
    ]
    reasons = {}
    if throughput.tokens_per_s_per_system is None:
        reasons["tokens_per_s_per_system"] = throughput.source
    if ext.kind == COLOCATION:
        pue = ext.pue if ext.pue is not None else config.pue_air_fleet
        pue_basis = "the provider's PUE" if ext.pue is not None else "air fleet average 2025, §7.1 S [S26]"
        rent = ext.usd_per_kw_month if ext.usd_per_kw_month is not None else config.colo_usd_per_kw_month
        if hardware_usd_per_system is None:
            reasons["hardware_usd_per_system"] = "hardware price unknown (not sourced): give hardware_usd_per_system"
    else:
        pue, pue_basis, rent = ext.pue, "the provider's PUE" if ext.pue is not None else "", None
        if ext.pue is None:
            reasons["pue"] = "the cloud's facility power is not known (give its pue)"
        if ext.usd_per_gpu_hour is None:
            reasons["cloud_usd_per_gpu_hour"] = "cloud GPU-hour price not given (volatile: §17.2 lists dated prices)"
    lead = (
        ext.lead_time_days
        if ext.lead_time_days is not None
        else (hardware_lead_time_days if ext.kind == COLOCATION else None)
    )
    if lead is None:
        reasons["hardware_lead_time_days"] = "lead time not given (not checked: unsourced)"
    opt.kpis = compute_kpis(
        KpiInput(
            kind=ext.kind if ext.kind in (COLOCATION, CLOUD) else COLOCATION,
            systems=systems,
            it_kw_per_system=spec.max_power_kw,
            tokens_per_s_per_system=throughput.tokens_per_s_per_system,
            throughput_source=throughput.source,
            gpus_per_system=model.gpus,
            pue=pue,
            pue_basis=pue_basis,
            energy_price_per_kwh=ext.energy_price_per_kwh,
            carbon_kg_per_kwh=ext.carbon_kg_per_kwh,
            utilization=utilization,
            amortization_years=settings.PLANNER_AMORTIZATION_YEARS,
            hardware_usd_per_system=hardware_usd_per_system,
            hardware_lead_time_days=lead,
            colo_usd_per_kw_month=rent,
            colo_includes_power=ext.includes_power,
            cloud_usd_per_gpu_hour=ext.usd_per_gpu_hour,
            unknown_because=reasons,
        )
    ).to_dict()
    return opt
