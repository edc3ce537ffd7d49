"""The TCO of an order at a site (``POST /api/v1/tco/`` and the ``/tco/`` page share it). Writes nothing.

Reads the site, plans the order (``planning.plan_feasibility``: does it fit, what retrofit it needs and what
that costs) and compares on-prem, colocation and GPU-hour clouds with ``engine.tco.compare_tco``. The on-prem
PUE is the site's (``engine.costs.site_pue``), the one default feasibility and the reports use.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from planner import planning, retrofits, selectors
from planner.engine.costs import GPU_FAMILY_BY_MODEL_SLUG, HOURS_PER_YEAR
from planner.engine.tco import TcoInput, compare_tco

# Optional inputs passed straight to the engine (None = the engine's / the config's default).
ENGINE_KEYS = (
    "cloud_usd_per_gpu_hour",
    "colo_usd_per_kw_month",
    "colo_includes_power",
    "hardware_capex_usd",
    "idle_fraction",
    "discount_rate",
    "hardware_life_years",
    "colo_lease_years",
    "neocloud_reserved_usd_per_gpu_hour",
    "hyperscaler_on_demand_usd_per_gpu_hour",
)


class TcoInputError(ValueError):
    """Input the engine refuses, or a site without an energy price: field -> messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def tco_for_order(
    *,
    site,
    model,
    quantity: int,
    horizon_years: int = 5,
    utilization: float = 1.0,
    gpus_per_node: int | None = None,
    retrofit_capex_usd: float | None = None,
    **optional: Any,
) -> dict[str, Any]:
    """The TCO answer (a JSON-ready dict) for ``quantity`` x ``model`` at ``site``. ``gpus_per_node`` None = the
    catalogue's GPUs of the model (0 when unknown); ``retrofit_capex_usd`` None = the feasibility plan's."""
    unknown = set(optional) - set(ENGINE_KEYS)
    if unknown:
        raise TypeError(f"unknown TCO input(s): {sorted(unknown)}")
    if site.energy_price_per_kwh is None:
        raise TcoInputError({"site": ["The site has no energy_price_per_kwh; set it first."]})
    spec = selectors.node_model_spec(model)
    plan = planning.plan_feasibility(selectors.site_snapshot(site.pk), spec, quantity)
    if retrofit_capex_usd is None:
        costs = [r["capex_usd"] for r in plan.retrofits]
        retrofit_capex_usd = 0.0 if plan.fits_now else (sum(costs) if costs and None not in costs else None)
    per_node = gpus_per_node if gpus_per_node is not None else (model.gpus or 0)
    family = GPU_FAMILY_BY_MODEL_SLUG.get(model.slug)
    try:
        inp = TcoInput(
            it_kw=spec.max_power_kw * quantity,
            node_count=quantity,
            gpu_count=per_node * quantity,
            horizon_years=horizon_years,
            utilization=utilization,
            energy_price_per_kwh=site.energy_price_per_kwh,
            carbon_kg_per_kwh=site.carbon_kg_per_kwh,
            pue_onprem=site.design_pue,
            retrofit_capex_usd=retrofit_capex_usd,
            gpu_family=family,
            **{k: v for k, v in optional.items() if v is not None},
        )
        result = compare_tco(inp, retrofits.retrofit_config())
    except ValueError as exc:
        raise TcoInputError({"non_field_errors": [str(exc)]}) from None
    return {
        "model": model.slug,
        "quantity": quantity,
        "fits_now": plan.fits_now,
        "retrofit_capex_usd": retrofit_capex_usd,
        "it_kw": inp.it_kw,
        "gpu_count": inp.gpu_count,
        "gpu_family": family,
        "hours_per_year": HOURS_PER_YEAR,
        **dataclasses.asdict(result),
    }
