"""What-if and N-1 answers as JSON-able dicts: the one source of the API, the resilience page, the
dashboard's N-1 tile and the nightly report's N-1 section.

The figures are ``planner.engine.failure``'s; this module shapes them and caches a site's sweep per budget
token.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from planner import selectors
from planner.engine.failure import (
    Failure,
    FailureIndex,
    FailureSummary,
    SweepEntry,
    WhatIfResult,
    n1_sweep,
    what_if,
)
from planner.engine.results import json_number


def summary_dict(s: FailureSummary) -> dict:
    return {
        "racks_failing": s.racks_failing,
        "racks_warning": s.racks_warning,
        "it_kw_affected": json_number(s.it_kw_affected),
        "gpus_affected": s.gpus_affected,
        "nodes_without_gpu_count": s.nodes_without_gpu_count,
    }


def what_if_dict(result: WhatIfResult) -> dict:
    return {
        "racks": [
            {
                "rack": o.rack_id,
                "rack_name": o.rack_name,
                "status": o.status,
                "was": o.was,
                "checks": [c.to_dict() for c in o.checks],
            }
            for o in result.racks
        ],
        "summary": summary_dict(result.summary),
    }


def run_what_if(index: FailureIndex, failures: Sequence[Failure]) -> dict:
    return what_if_dict(what_if(index, failures))


def _entry(e: SweepEntry) -> dict:
    el = e.element
    return {
        "kind": el.kind,
        "id": el.id,
        "name": el.name,
        "side": el.side,
        "spof": e.spof,
        "summary": summary_dict(e.summary),
        "racks": [{"rack": rid, "rack_name": name} for rid, name in e.failing],
        "newly_failing": [{"rack": rid, "rack_name": name} for rid, name in e.newly_failing],
    }


def resilience_dict(site_id: int, index: FailureIndex) -> dict:
    """The N-1 sweep, worst first, and its single points of failure (an element whose loss makes a rack that
    passes now fail), in the same order."""
    entries = [_entry(e) for e in n1_sweep(index)]
    return {"site": site_id, "elements": entries, "single_points_of_failure": [e for e in entries if e["spof"]]}


# The N-1 sweep per (site, budget token): the dashboard, the resilience page and the API read one answer,
# computed once per change to the site (a 5,000-rack sweep takes seconds).
_sweep_cache = selectors.BudgetCache(settings.PLANNER_BUDGET_CACHE_SITES)


def site_resilience(site_id: int, *, snapshot=None, token=None) -> dict:
    """``resilience_dict`` of the site as committed now (cached while its budget token holds). Raises
    Site.DoesNotExist. Shared between requests: read it, never change it.

    ``snapshot``: the caller's site snapshot, used on a cache miss, with ``token`` the site's token read
    before it was built (``selectors.site_token``); without them a miss builds its own snapshot."""
    if snapshot is not None and token is not None:
        return selectors.token_cached(
            _sweep_cache, site_id, lambda: resilience_dict(site_id, selectors.failure_index_of(snapshot)), token=token
        )
    return selectors.token_cached(
        _sweep_cache, site_id, lambda: resilience_dict(site_id, selectors.site_failure_index(site_id))
    )


KIND_LABELS = {
    "power_source": "Power source",
    "pdu": "PDU",
    "side": "PDU side",
    "cooling_loop": "Cooling loop",
    "cooling_unit": "One unit of loop",
}


def n1_summary(sweep: dict, *, top: int = 5) -> dict:
    """The N-1 headline of a sweep: elements swept, single points of failure (count and the worst ``top``),
    and the worst element's summary. Empty site: zero elements, no worst."""
    spofs = sweep["single_points_of_failure"]
    worst = sweep["elements"][0] if sweep["elements"] else None
    return {
        "elements_swept": len(sweep["elements"]),
        "spof_count": len(spofs),
        "spof": spofs[:top],
        "worst": worst if worst and worst["summary"]["racks_failing"] else None,
    }
