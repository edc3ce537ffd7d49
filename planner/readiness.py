"""A site's AI readiness (issue 17): the facts from the snapshot, the N-1 sweep and the site row, scored by the
pure ``planner.engine.readiness``; cached per budget token like the sweep."""

from __future__ import annotations

from django.conf import settings

from planner import selectors
from planner.engine.readiness import COMPLIANCE_ATTRIBUTES, ReadinessInput, readiness

_readiness_cache = selectors.BudgetCache(settings.PLANNER_BUDGET_CACHE_SITES)


def readiness_of(snapshot, sweep: dict, rack_heads: dict | None = None) -> dict:
    """Readiness from a snapshot and its N-1 sweep (``resilience_dict``)."""
    spofs = sweep["single_points_of_failure"]
    first = f'{spofs[0]["kind"]} "{spofs[0]["name"]}"' if spofs else ""
    return readiness_from(snapshot, len(spofs), len(sweep["elements"]), first, rack_heads)


def readiness_from(snapshot, spof_count, elements_swept: int, first_spof: str, rack_heads: dict | None = None) -> dict:
    """Readiness from a snapshot and the N-1 counts (the nightly report has its sweep's headline only)."""
    from planner import headroom

    heads = rack_heads if rack_heads is not None else headroom.rack_headrooms(snapshot)
    site = snapshot.site
    expansion = ""
    if site.grid_expansion_kw is not None:
        expansion = f"{site.grid_expansion_kw:,.0f} kW on {site.grid_expansion_date}"
    inp = ReadinessInput(
        rack_power_kw=tuple(h["power"]["capacity_kw"] for h in heads.values()),
        rack_liquid_kw=tuple(h["cooling_liquid"]["capacity_kw"] for h in heads.values()),
        rack_floor_headroom_kg_m2=tuple(h["floor"]["headroom_kg_m2"] for h in heads.values()),
        spof_count=spof_count,
        elements_swept=elements_swept,
        first_spof=first_spof,
        utility_capacity_kw=site.utility_capacity_kw,
        site_load_kw=sum(h["power"]["load_kw"] for h in heads.values()),
        grid_expansion=expansion,
        attributes={a: getattr(site, a) for a in COMPLIANCE_ATTRIBUTES},
        **_fabric_facts(snapshot),
    )
    return {"site": site.pk, **readiness(inp)}


def _fabric_facts(snapshot) -> dict:
    """ReadinessInput's fabric fields from the snapshot's rack contexts (no query)."""
    from planner.engine.fabric import model_ports
    from planner.headroom import site_fabric_headroom

    need = served = 0
    for ctx in snapshot.contexts.values():
        if any((model_ports(n.model, "compute")[0] or 0) > 0 for n in ctx.nodes):
            need += 1
            served += bool(ctx.fabrics)
    fabric = site_fabric_headroom(snapshot)
    head = None if fabric is None else fabric["headroom_ports"]
    return {
        "fabric_modelled": bool(need) or head is not None,
        "fabric_racks_needing": need,
        "fabric_racks_served": served,
        "fabric_headroom_ports": head,
    }


def site_readiness(site_id: int) -> dict:
    """The site's readiness as committed now (cached while its budget token holds). Raises Site.DoesNotExist.
    Shared between requests: read it, never change it."""
    from planner import resilience

    def build():
        token = selectors.site_token(site_id)
        snapshot = selectors.site_snapshot(site_id)
        sweep = resilience.site_resilience(site_id, snapshot=snapshot, token=token)
        return readiness_of(snapshot, sweep)

    return selectors.token_cached(_readiness_cache, site_id, build)
