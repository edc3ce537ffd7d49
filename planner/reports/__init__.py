"""Nightly capacity reports: one per site and day, kept as history so run-out dates can be forecast.

``report_build(site_id, day)`` is the one service the Celery task, the management command and the bench
call. It reads the site once (``selectors.site_snapshot``: a fixed number of queries whatever the size of the
site), computes every rack's headroom without per-model fits, and derives from it:

- ``headroom``: the contract's site headroom (site totals, rooms and their rows nested);
- ``totals``: per dimension (power, cooling_air, cooling_liquid, space, rack_load) the capacity, the load
  (installed + planned, as the engine budgets it), the planned share, the headroom and the *limit*
  (load + headroom: the load at which the headroom is used up, what the forecast aims at);
- ``near_limit``: racks near any limit by the one rule the pages use (``engine.capacity.RackFigures.limit_ratios``
  at ``settings.PLANNER_NEAR_LIMIT_SHARE``: load >= that share of the rack's own capacity in power, air, its
  liquid loops, rack load or floor, or no free U); shared pools (a room's CRAH, a UPS) are reported once, where
  they live, in the totals and the N-1 section, not once per rack;
- ``changes``: deltas since the previous report of the site (totals, near-limit racks in/out, node count);
- ``forecast``: per dimension, the day it runs out (``planner.engine.forecast``) from the trend of the
  installed load over the last reports, with planned nodes counted as committed;
- ``risks``: racks near a limit, racks fed from one side only, nodes exposed to PSU feed loss, liquid loops
  whose loss (of one unit, or of the loop beside others) leaves some rack's liquid heat uncovered: the racks
  whose ``COOLING_LIQUID_REDUNDANCY`` warns in the engine's check, and the loops serving them (the key stays
  ``liquid_no_redundancy``).

The result is written with ``update_or_create`` on (site, day) in one transaction: a rerun on the same day
replaces the report, never duplicates it. Everything is computed before the transaction opens, so the row
lock is held for one write only.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from cooling.models import CoolingLoop
from planner import headroom as headroom_mod
from planner import resilience, selectors
from planner.engine import forecast as fc
from planner.engine.capacity import figures_from_context, near_limit_headroom_share
from planner.engine.flow import immersed
from planner.engine.results import WARN
from planner.engine.rules.cooling import liquid_loops as rack_liquid_loops
from planner.engine.rules.cooling import rule_liquid_redundancy
from planner.engine.rules.power import feed_loss_mode
from planner.engine.rules.state import build_state
from planner.engine.units import loop_usable_kw, node_heat_split_kw
from planner.models import CapacityReport
from racks.models import Node, Site

logger = logging.getLogger(__name__)

REPORT_VERSION = 1


def near_limit_ratio() -> float:
    """Headroom share at or below which a dimension is near its limit: the one setting, read now."""
    return near_limit_headroom_share(settings.PLANNER_NEAR_LIMIT_SHARE)


FORECAST_DIMENSIONS = ("power", "cooling_air", "cooling_liquid", "space", "rack_load")
UNITS = {"power": "kW", "cooling_air": "kW", "cooling_liquid": "kW", "space": "U", "rack_load": "kg", "floor": "kg/m²"}
LABELS = {
    "power": "Power",
    "cooling_air": "Air cooling",
    "cooling_liquid": "Liquid cooling",
    "space": "Space",
    "rack_load": "Rack load",
    "floor": "Floor",
}
# Rack dimensions checked for "near a limit", with the suffix of their figures in the headroom dict.
NEAR_LIMIT_DIMENSIONS = (
    ("power", "kw"),
    ("cooling_air", "kw"),
    ("cooling_liquid", "kw"),
    ("rack_load", "kg"),
    ("floor", "kg_m2"),
)
LIQUID_KINDS = tuple(k.value for k in CoolingLoop.LIQUID_KINDS)
TOP_RISKS = 15
N1_LISTED = 20  # single points of failure the report lists (the count is of all)
FORECAST_LINE_DAYS = 90


def forecast_window() -> int:
    """How many reports (including today's) the trend is fitted on."""
    return int(getattr(settings, "REPORT_FORECAST_WINDOW", fc.DEFAULT_WINDOW))


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def as_day(day: date | datetime | str | None) -> date:
    """A report day from a date, an ISO string (``YYYY-MM-DD``) or None (today, in the site's time zone)."""
    if day is None:
        return timezone.localdate()
    if isinstance(day, datetime):
        return day.date()
    if isinstance(day, date):
        return day
    return date.fromisoformat(str(day))


# --- Inputs beyond the snapshot --------------------------------------------------------------------------


@dataclass
class History:
    """Previous reports of the site (newest first): day, counts and summary, no full data."""

    rows: list[dict] = field(default_factory=list)
    previous_near_limit: list[dict] = field(default_factory=list)

    @property
    def previous(self) -> dict | None:
        return self.rows[0] if self.rows else None


def load_history(site_id: int, day: date, *, window: int) -> History:
    """Two queries: the last ``window`` reports before ``day``, and the near-limit list of the newest one."""
    rows = list(
        CapacityReport.objects.filter(site_id=site_id, day__lt=day)
        .order_by("-day")
        .values("id", "day", "node_count", "rack_count", "summary")[: max(window, 1)]
    )
    previous_near: list[dict] = []
    if rows:
        found = CapacityReport.objects.filter(pk=rows[0]["id"]).values_list("data__near_limit", flat=True).first()
        previous_near = found if isinstance(found, list) else []
    return History(rows=rows, previous_near_limit=previous_near)


def planned_node_ids(site_id: int) -> set[int]:
    """Ids of the site's planned (not yet installed) nodes, one query."""
    return set(
        Node.objects.filter(rack__row__room__site_id=site_id, status=Node.Status.PLANNED).values_list("id", flat=True)
    )


def liquid_loops(site_id: int) -> list[dict]:
    """The site's liquid loops (direct liquid, immersion), one query."""
    return list(
        CoolingLoop.objects.filter(site_id=site_id, kind__in=LIQUID_KINDS)
        .order_by("id")
        .values("id", "name", "kind", "room_id", "units", "redundant_units", "unit_capacity_kw")
    )


# --- Pure computation --------------------------------------------------------------------------------------


def psu_feed_loss_exposed(model) -> bool:
    """With one feed lost, the node is capped or off (engine.rules.power.feed_loss_mode, the rule's own answer).

    Models without PSU data are "not checked", not exposed, in the report and in PSU_FEED_LOSS alike.
    """
    return feed_loss_mode(model) in ("capped", "off")


def _totals(snapshot, site_head: dict, planned: dict[str, float]) -> dict[str, dict]:
    """Per forecast dimension: capacity, load (incl. planned), planned, installed, headroom, limit."""
    site = snapshot.site
    out: dict[str, dict] = {}
    for dim, unit in (("power", "kw"), ("cooling_air", "kw"), ("cooling_liquid", "kw"), ("rack_load", "kg")):
        fig = site_head[dim]
        cap, load, head = fig[f"capacity_{unit}"], fig[f"load_{unit}"], fig[f"headroom_{unit}"]
        if dim == "power" and site.utility_capacity_kw is not None:
            cap = min(cap, site.utility_capacity_kw)
        if dim == "cooling_air" and fig.get("room_capacity_kw") is not None:
            cap = min(cap, fig["room_capacity_kw"])
        out[dim] = {"capacity": cap, "load": load, "headroom": max(head, 0.0)}
    total_u = sum(r.u_height for r in snapshot.racks)
    free_u = site_head["space"]["free_u"]
    out["space"] = {"capacity": float(total_u), "load": float(total_u - free_u), "headroom": float(free_u)}
    for dim in FORECAST_DIMENSIONS:
        t = out[dim]
        t["planned"] = min(planned.get(dim, 0.0), t["load"])
        t["installed"] = max(t["load"] - t["planned"], 0.0)
        t["limit"] = t["load"] + t["headroom"]
        t["utilisation"] = (t["load"] / t["limit"]) if t["limit"] > 0 else None
        t["unit"] = UNITS[dim]
        for key in ("capacity", "load", "headroom", "planned", "installed", "limit"):
            t[key] = _r(t[key])
        t["utilisation"] = _r(t["utilisation"], 4)
    return out


def _rack_entry(rack, head: dict, names: dict, hits: dict[str, float] | None = None) -> dict:
    row_name, room_id, room_name = names[rack.row_id]
    entry = {
        "rack": rack.id,
        "name": rack.name,
        "row": rack.row_id,
        "row_name": row_name,
        "room": room_id,
        "room_name": room_name,
    }
    if hits is not None:
        worst = min(hits, key=lambda d: (hits[d], d))
        entry.update(
            {
                "limits": hits,
                "worst": worst,
                "worst_ratio": hits[worst],
                "binding": head.get("binding"),
                "power_kw": _r(head["power"]["load_kw"]),
                "power_headroom_kw": _r(head["power"]["headroom_kw"]),
                "cooling_air_headroom_kw": _r(head["cooling_air"]["headroom_kw"]),
                "cooling_liquid_headroom_kw": _r(head["cooling_liquid"]["headroom_kw"]),
                "rack_load_headroom_kg": _r(head["rack_load"]["headroom_kg"]),
                "floor_headroom_kg_m2": _r(head["floor"]["headroom_kg_m2"]),
                "free_u": head["space"]["free_u"],
            }
        )
    return entry


def _changes(totals: dict, near: list[dict], node_count: int, rack_count: int, history: History) -> dict:
    prev = history.previous
    if prev is None:
        return {"previous_day": None, "previous_report": None}
    prev_totals = (prev.get("summary") or {}).get("totals") or {}
    deltas = {}
    for dim in FORECAST_DIMENSIONS:
        before = prev_totals.get(dim) or {}
        now = totals[dim]
        deltas[dim] = {
            key: _r(now[key] - before[key]) if before.get(key) is not None and now.get(key) is not None else None
            for key in ("capacity", "load", "planned", "installed", "headroom", "limit")
        }
    prev_by_id = {e["rack"]: e for e in history.previous_near_limit if isinstance(e, dict) and "rack" in e}
    now_ids = {e["rack"] for e in near}
    slim = ("rack", "name", "row_name", "room_name", "worst", "worst_ratio")
    added = [{k: e.get(k) for k in slim} for e in near if e["rack"] not in prev_by_id]
    removed = [{k: e.get(k) for k in slim} for rid, e in prev_by_id.items() if rid not in now_ids]
    return {
        "previous_day": prev["day"].isoformat(),
        "previous_report": prev["id"],
        "totals": deltas,
        "near_limit_added": added,
        "near_limit_removed": removed,
        "near_limit_count_delta": len(near) - len(prev_by_id),
        "node_count_delta": node_count - (prev.get("node_count") or 0),
        "rack_count_delta": rack_count - (prev.get("rack_count") or 0),
    }


def _forecasts(day: date, totals: dict, history: History, window: int) -> dict[str, dict]:
    out = {}
    for dim in FORECAST_DIMENSIONS:
        points = []
        for row in history.rows:
            value = (((row.get("summary") or {}).get("totals") or {}).get(dim) or {}).get("installed")
            if value is not None:
                points.append((row["day"], value))
        points.append((day, totals[dim]["installed"]))
        result = fc.run_out(points, totals[dim]["limit"], planned=totals[dim]["planned"], window=window, dimension=dim)
        entry = result.to_dict()
        for key in ("capacity", "current_load", "planned", "committed", "intercept", "days_to_run_out"):
            entry[key] = _r(entry[key])
        entry["slope_per_day"] = _r(entry["slope_per_day"], 6)
        entry["unit"] = UNITS[dim]
        entry["line"] = [[d.isoformat(), _r(v)] for d, v in fc.forecast_line(result, horizon_days=FORECAST_LINE_DAYS)]
        out[dim] = entry
    return out


def _risks(
    near: list[dict],
    single_feed: list[dict],
    psu_by_model: dict[str, dict],
    psu_racks: list[dict],
    loops_no_redundancy: list[dict],
    n1: dict | None = None,
) -> dict:
    by_dim = Counter(d for e in near for d in e["limits"])
    over = [e for e in near if e["worst_ratio"] < 0]
    psu_nodes = sum(m["nodes"] for m in psu_by_model.values())
    top: list[dict] = []
    for e in over[:5]:
        top.append(
            {
                "kind": "over_limit",
                "severity": "high",
                "rack": e["rack"],
                "message": f"Rack {e['name']} ({e['room_name']} / {e['row_name']}) is over its "
                f"{LABELS.get(e['worst'], e['worst']).lower()} limit.",
            }
        )
    for e in (n1 or {}).get("spof") or []:
        side = f" side {e['side']}" if e.get("side") else ""
        top.append(
            {
                "kind": "single_point_of_failure",
                "severity": "high",
                "element": {"kind": e["kind"], "id": e["id"], "side": e.get("side")},
                "message": f"Losing {e['name']}{side} alone makes {e['summary']['racks_failing']} rack(s) fail "
                f"({e['summary']['it_kw_affected']:g} kW, {e['summary']['gpus_affected']} GPUs).",
            }
        )
    for lp in loops_no_redundancy:
        top.append(
            {
                "kind": "liquid_no_redundancy",
                "severity": "high",
                "loop": lp["id"],
                "message": f"Liquid loop {lp['name']} ({lp['kind']}): losing one unit or loop leaves the liquid "
                f"heat of {lp['racks_at_risk']} rack(s) uncovered (COOLING_LIQUID_REDUNDANCY).",
            }
        )
    loaded_single = [r for r in single_feed if r["power_kw"] > 0]
    for r in sorted(loaded_single, key=lambda r: -r["power_kw"])[:5]:
        top.append(
            {
                "kind": "single_feed",
                "severity": "medium",
                "rack": r["rack"],
                "message": f"Rack {r['name']} ({r['room_name']} / {r['row_name']}) is fed from side {r['side']} "
                f"only and carries {r['power_kw']:g} kW.",
            }
        )
    for slug, m in sorted(psu_by_model.items(), key=lambda kv: -kv[1]["nodes"]):
        top.append(
            {
                "kind": "psu_feed_loss",
                "severity": "medium",
                "model": slug,
                "message": f"{m['nodes']} {m['name'] or slug} node(s): with one feed lost, {m['powered_psus']} PSUs "
                f"give {m['powered_kw']:g} kW < {m['max_power_kw']:g} kW max power.",
            }
        )
    for e in [e for e in near if e["worst_ratio"] >= 0][:5]:
        top.append(
            {
                "kind": "near_limit",
                "severity": "medium" if e["worst_ratio"] <= 0.05 else "low",
                "rack": e["rack"],
                "message": f"Rack {e['name']} ({e['room_name']} / {e['row_name']}) is within "
                f"{max(e['worst_ratio'], 0) * 100:.0f} % of its {LABELS.get(e['worst'], e['worst']).lower()} limit.",
            }
        )
    rank = {"high": 0, "medium": 1, "low": 2}
    top.sort(key=lambda r: rank[r["severity"]])
    return {
        "near_limit": {
            "count": len(near),
            "over_limit_count": len(over),
            "by_dimension": dict(sorted(by_dim.items())),
        },
        "single_feed": {"count": len(single_feed), "racks": single_feed},
        "psu_feed_loss": {
            "node_count": psu_nodes,
            "by_model": [{"slug": slug, **m} for slug, m in sorted(psu_by_model.items())],
            "racks": psu_racks,
        },
        "liquid_no_redundancy": {"count": len(loops_no_redundancy), "loops": loops_no_redundancy},
        "top": top[:TOP_RISKS],
    }


def build_report(
    snapshot,
    *,
    day: date,
    planned_ids: set[int],
    liquid: list[dict],
    history: History,
    window: int | None = None,
    n1: dict | None = None,
) -> tuple[dict, dict, dict]:
    """Everything a report holds, from a site snapshot and the few extra inputs. No queries.

    ``n1``: the site's N-1 headline (``planner.resilience.n1_summary`` of its sweep); None: not computed
    (the report then says so rather than showing zero single points of failure).

    Returns (model fields, data, summary).
    """
    window = window or forecast_window()
    site = snapshot.site
    results = headroom_mod.rack_headroom_results(snapshot)
    site_head = headroom_mod.site_headroom(snapshot, results)
    racks_head = {rid: h.to_dict() for rid, h in results.items()}

    room_names = {r.id: r.name for r in snapshot.rooms}
    names = {row.id: (row.name, row.room_id, room_names.get(row.room_id, "")) for row in snapshot.rows}

    planned = defaultdict(float)
    node_count = planned_count = 0
    near: list[dict] = []
    single_feed: list[dict] = []
    psu_by_model: dict[str, dict] = {}
    psu_racks: list[dict] = []
    loop_racks: Counter = Counter()
    loop_liquid_racks: Counter = Counter()
    loop_at_risk: Counter = Counter()  # loop id -> racks whose COOLING_LIQUID_REDUNDANCY warns
    exposed_cache: dict[str, bool] = {}

    for rack in snapshot.racks:
        ctx = snapshot.contexts[rack.id]
        head = racks_head[rack.id]
        in_tank = immersed(ctx.loops)
        exposed_here = 0
        for node in ctx.nodes:
            m = node.model
            node_count += 1
            if node.node_id in planned_ids:
                planned_count += 1
                air_kw, liquid_kw = node_heat_split_kw(m, in_tank)
                planned["power"] += m.max_power_kw
                planned["cooling_liquid"] += liquid_kw
                planned["cooling_air"] += air_kw
                planned["space"] += m.u_height
                planned["rack_load"] += m.weight_kg
            exposed = exposed_cache.get(m.slug)
            if exposed is None:
                exposed = exposed_cache[m.slug] = psu_feed_loss_exposed(m)
            if exposed:
                exposed_here += 1
                entry = psu_by_model.get(m.slug)
                if entry is None:
                    entry = psu_by_model[m.slug] = {
                        "name": m.name,
                        "nodes": 0,
                        "psu_count": m.psu_count,
                        "powered_psus": m.psu_count // 2,
                        "powered_kw": _r((m.psu_count // 2) * m.psu_rating_kw),
                        "max_power_kw": _r(m.max_power_kw),
                    }
                entry["nodes"] += 1
        if exposed_here:
            psu_racks.append({**_rack_entry(rack, head, names), "nodes": exposed_here})
        sides = {p.side for p in ctx.pdus}
        if len(sides) == 1:
            single_feed.append(
                {
                    **_rack_entry(rack, head, names),
                    "side": next(iter(sides)),
                    "nodes": len(ctx.nodes),
                    "power_kw": _r(head["power"]["load_kw"]),
                }
            )
        serving = [lp for lp in rack_liquid_loops(ctx) if lp.loop_id is not None]
        for lp in serving:
            loop_racks[lp.loop_id] += 1
            if head["cooling_liquid"]["load_kw"] > 0:
                loop_liquid_racks[lp.loop_id] += 1
        # The engine's own rule decides whether losing a liquid unit or loop uncovers this rack.
        if serving and rule_liquid_redundancy(build_state(ctx, None)).status == WARN:
            for lp in serving:
                loop_at_risk[lp.loop_id] += 1
        # The one "near a limit" rule (engine.capacity), on the figures the dashboard and site list count.
        hits = figures_from_context(ctx).limit_ratios(settings.PLANNER_NEAR_LIMIT_SHARE)
        if hits:
            near.append(_rack_entry(rack, head, names, hits))

    near.sort(key=lambda e: (e["worst_ratio"], e["room_name"], e["row_name"], e["name"]))
    loops_no_redundancy = [
        {
            "id": lp["id"],
            "name": lp["name"],
            "kind": lp["kind"],
            "room": lp["room_id"],
            "room_name": room_names.get(lp["room_id"], "whole site") if lp["room_id"] else "whole site",
            "units": lp["units"],
            "redundant_units": lp["redundant_units"],
            "usable_kw": _r(loop_usable_kw(lp["unit_capacity_kw"], lp["units"], lp["redundant_units"])),
            "racks_served": loop_racks.get(lp["id"], 0),
            "liquid_load_racks": loop_liquid_racks.get(lp["id"], 0),
            "racks_at_risk": loop_at_risk[lp["id"]],
        }
        for lp in liquid
        if loop_at_risk[lp["id"]]
    ]

    totals = _totals(snapshot, site_head, planned)
    rack_count = len(snapshot.racks)
    changes = _changes(totals, near, node_count, rack_count, history)
    forecasts = _forecasts(day, totals, history, window)
    risks = _risks(near, single_feed, psu_by_model, psu_racks, loops_no_redundancy, n1)

    run_out = {dim: forecasts[dim]["run_out_day"] for dim in FORECAST_DIMENSIONS}
    dated = sorted((d, dim) for dim, d in run_out.items() if d)
    summary = {
        "version": REPORT_VERSION,
        "totals": totals,
        "run_out": run_out,
        "forecast_status": {dim: forecasts[dim]["status"] for dim in FORECAST_DIMENSIONS},
        "earliest_run_out": {"dimension": dated[0][1], "day": dated[0][0]} if dated else None,
        "near_limit_count": len(near),
        "over_limit_count": risks["near_limit"]["over_limit_count"],
        "single_feed_count": len(single_feed),
        "psu_feed_loss_node_count": risks["psu_feed_loss"]["node_count"],
        "liquid_no_redundancy_count": len(loops_no_redundancy),
        "planned_node_count": planned_count,
        "spof_count": n1["spof_count"] if n1 is not None else None,
        "readiness_score": None,
    }
    if site_head.get("fabric") is not None:  # the fabric dimension: leaf ports left at each fabric's tightest rail
        summary["fabric_headroom_ports"] = site_head["fabric"]["headroom_ports"]
    # AI readiness (issue 17), from the same rack headroom and N-1 headline; its score is kept per day (history)
    from planner.readiness import readiness_from

    ready = None
    if n1 is not None:
        first = n1["spof"][0] if n1["spof"] else None
        ready = readiness_from(
            snapshot,
            n1["spof_count"],
            n1["elements_swept"],
            f'{first["kind"]} "{first["name"]}"' if first else "",
            racks_head,
        )
        summary["readiness_score"] = ready["score"]
    data = {
        "version": REPORT_VERSION,
        "site": {
            "id": site.id,
            "name": site.name,
            "slug": site.slug,
            "utility_capacity_kw": site.utility_capacity_kw,
        },
        "day": day.isoformat(),
        "generated_at": timezone.now().isoformat(),
        "parameters": {"near_limit_ratio": near_limit_ratio(), "forecast_window": window},
        "rack_count": rack_count,
        "node_count": node_count,
        "planned_node_count": planned_count,
        "totals": totals,
        "headroom": site_head,
        "near_limit": near,
        "changes": changes,
        "forecast": forecasts,
        "risks": risks,
        "resilience": n1,
        "readiness": ready,
    }
    fields = {
        "it_load_kw": totals["power"]["load"],
        "power_capacity_kw": totals["power"]["capacity"],
        "air_heat_kw": totals["cooling_air"]["load"],
        "liquid_heat_kw": totals["cooling_liquid"]["load"],
        "rack_count": rack_count,
        "node_count": node_count,
        "data": data,
        "summary": summary,
    }
    return fields, data, summary


# --- The service -------------------------------------------------------------------------------------------


def report_build(site_id: int, day: date | str | None = None, *, notify: bool = True) -> CapacityReport:
    """Build and store the capacity report of one site for one day; a rerun replaces it.

    Raises Site.DoesNotExist. A fixed number of queries whatever the size of the site. When ``notify`` and
    ``settings.REPORT_EMAIL_RECIPIENTS`` is not empty, the report is mailed once the transaction commits.
    """
    day = as_day(day)
    window = forecast_window()
    snapshot = selectors.site_snapshot(site_id)
    fields, _, _ = build_report(
        snapshot,
        day=day,
        planned_ids=planned_node_ids(site_id),
        liquid=liquid_loops(site_id),
        history=load_history(site_id, day, window=window - 1),
        window=window,
        # From the report's own snapshot, so the N-1 figures are of the same state as the rest of it.
        n1=resilience.n1_summary(
            resilience.resilience_dict(site_id, selectors.failure_index_of(snapshot)), top=N1_LISTED
        ),
    )
    del snapshot
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                report, created = CapacityReport.objects.update_or_create(site_id=site_id, day=day, defaults=fields)
                if notify and getattr(settings, "REPORT_EMAIL_RECIPIENTS", None):
                    transaction.on_commit(partial(send_report_email, report.pk), robust=True)
            break
        except IntegrityError:
            # A concurrent build of the same (site, day) won the insert; the second attempt updates it.
            if attempt == 2:
                raise
            logger.info("report site=%s day=%s: concurrent insert, retrying as an update", site_id, day)
    logger.info(
        "report site=%s day=%s %s: %s racks, %s nodes, %s near limit",
        site_id,
        day,
        "created" if created else "replaced",
        report.rack_count,
        report.node_count,
        fields["summary"]["near_limit_count"],
    )
    return report


@dataclass
class BuildOutcome:
    site_id: int
    slug: str
    report: CapacityReport | None = None
    error: str | None = None


def report_build_many(
    day: date | str | None = None, *, site_ids: Iterable[int] | None = None, notify: bool = True
) -> list[BuildOutcome]:
    """Build the reports of several sites (all by default) one after the other, in this process.

    One failing site is logged and recorded; the others still run.
    """
    day = as_day(day)
    sites = Site.objects.order_by("id")
    if site_ids is not None:
        sites = sites.filter(pk__in=list(site_ids))
    outcomes = []
    for site_id, slug in sites.values_list("id", "slug"):
        try:
            outcomes.append(BuildOutcome(site_id, slug, report=report_build(site_id, day, notify=notify)))
        except Exception as exc:
            logger.exception("capacity report failed for site %s (%s) on %s", site_id, slug, day)
            outcomes.append(BuildOutcome(site_id, slug, error=f"{type(exc).__name__}: {exc}"))
    return outcomes


# --- Renderings: text, CSV, e-mail -------------------------------------------------------------------------


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def report_text(report: CapacityReport) -> str:
    """A plain-text digest (e-mail body, command output)."""
    data = report.data or {}
    totals = data.get("totals") or {}
    forecast = data.get("forecast") or {}
    lines = [
        f"Capacity report: {data.get('site', {}).get('name', report.site_id)} on {report.day.isoformat()}",
        f"{report.rack_count} racks, {report.node_count} nodes ({data.get('planned_node_count', 0)} planned)",
        "",
        f"{'dimension':<16}{'capacity':>14}{'load':>14}{'planned':>12}{'headroom':>14}  run-out",
    ]
    for dim in FORECAST_DIMENSIONS:
        t = totals.get(dim) or {}
        f = forecast.get(dim) or {}
        run_out = f.get("run_out_day") or f.get("status", "—")
        lines.append(
            f"{LABELS[dim]:<16}{_fmt(t.get('capacity')):>14}{_fmt(t.get('load')):>14}{_fmt(t.get('planned')):>12}"
            f"{_fmt(t.get('headroom')):>14}  {run_out} ({UNITS[dim]})"
        )
    changes = data.get("changes") or {}
    if changes.get("previous_day"):
        lines += [
            "",
            f"Since {changes['previous_day']}: nodes {changes['node_count_delta']:+d}, "
            f"racks near a limit +{len(changes['near_limit_added'])} / -{len(changes['near_limit_removed'])}",
        ]
    n1 = data.get("resilience")
    if n1 is not None:
        worst = n1.get("worst")
        lines += [
            "",
            f"N-1: {n1['spof_count']} single point(s) of failure of {n1['elements_swept']} elements swept"
            + (
                f"; worst: {worst['name']}{' side ' + worst['side'] if worst.get('side') else ''}, "
                f"{worst['summary']['racks_failing']} rack(s), {_fmt(worst['summary']['it_kw_affected'])} kW"
                if worst
                else "; no single loss makes a rack fail"
            ),
        ]
    top = (data.get("risks") or {}).get("top") or []
    if top:
        lines += ["", "Top risks:"] + [f"- [{r['severity']}] {r['message']}" for r in top]
    return "\n".join(lines) + "\n"


CSV_HEADER = [
    "section",
    "scope",
    "id",
    "name",
    "room",
    "row",
    "dimension",
    "capacity",
    "load",
    "planned",
    "headroom",
    "unit",
    "ratio",
    "run_out_day",
    "note",
]


def _cell(value):
    """Spreadsheet-safe cell: text that a spreadsheet would read as a formula is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def report_near_limit_pct(report: CapacityReport) -> float:
    """The near-limit headroom, in %, the report was built with (its parameters; else the setting now)."""
    ratio = ((report.data or {}).get("parameters") or {}).get("near_limit_ratio")
    return round((ratio if isinstance(ratio, (int, float)) else near_limit_ratio()) * 100, 6)


def report_csv_rows(report: CapacityReport) -> Iterator[list]:
    """The report in long format: one row per scope (site, room, row, rack, loop) and dimension."""
    within_pct = report_near_limit_pct(report)
    data = report.data or {}
    yield CSV_HEADER
    totals = data.get("totals") or {}
    forecast = data.get("forecast") or {}
    site_name = (data.get("site") or {}).get("name", "")
    for dim in FORECAST_DIMENSIONS:
        t = totals.get(dim) or {}
        yield [
            "totals",
            "site",
            report.site_id,
            site_name,
            "",
            "",
            dim,
            t.get("capacity"),
            t.get("load"),
            t.get("planned"),
            t.get("headroom"),
            t.get("unit"),
            t.get("utilisation"),
            (forecast.get(dim) or {}).get("run_out_day"),
            f"forecast: {(forecast.get(dim) or {}).get('status', '')}; limit {t.get('limit')}",
        ]
    head = data.get("headroom") or {}
    for room in head.get("rooms") or []:
        for scope, item, room_name, row_name in [("room", room, room.get("name"), "")] + [
            ("row", row, room.get("name"), row.get("name")) for row in room.get("rows") or []
        ]:
            for dim, unit in (("power", "kw"), ("cooling_air", "kw"), ("cooling_liquid", "kw"), ("rack_load", "kg")):
                fig = item.get(dim) or {}
                yield [
                    "headroom",
                    scope,
                    item.get("id"),
                    item.get("name"),
                    room_name,
                    row_name,
                    dim,
                    fig.get(f"capacity_{unit}"),
                    fig.get(f"load_{unit}"),
                    "",
                    fig.get(f"headroom_{unit}"),
                    UNITS[dim],
                    "",
                    "",
                    f"binding: {item.get('binding') or ''}",
                ]
            space = item.get("space") or {}
            yield [
                "headroom",
                scope,
                item.get("id"),
                item.get("name"),
                room_name,
                row_name,
                "space",
                "",
                "",
                "",
                space.get("free_u"),
                "U",
                "",
                "",
                f"largest free block {space.get('largest_free_block_u')} U",
            ]
    for e in data.get("near_limit") or []:
        for dim, ratio in sorted((e.get("limits") or {}).items()):
            yield [
                "near_limit",
                "rack",
                e["rack"],
                e["name"],
                e["room_name"],
                e["row_name"],
                dim,
                "",
                "",
                "",
                "",
                "",
                ratio,
                "",
                "over the limit" if ratio < 0 else f"within {within_pct:g} % of the limit",
            ]
    risks = data.get("risks") or {}
    for r in (risks.get("single_feed") or {}).get("racks") or []:
        yield ["risk", "rack", r["rack"], r["name"], r["room_name"], r["row_name"], "power", "", r["power_kw"], "", "",
               "kW", "", "", f"single feed: side {r['side']} only"]  # fmt: skip
    for r in (risks.get("psu_feed_loss") or {}).get("racks") or []:
        yield ["risk", "rack", r["rack"], r["name"], r["room_name"], r["row_name"], "power", "", "", "", "", "", "",
               "", f"{r['nodes']} node(s) exposed to PSU feed loss"]  # fmt: skip
    for e in (data.get("resilience") or {}).get("spof") or []:
        yield ["resilience", e["kind"], e["id"], e["name"] + (f" side {e['side']}" if e.get("side") else ""), "", "",
               "power" if e["kind"] in ("power_source", "pdu", "side") else "cooling", "",
               e["summary"]["it_kw_affected"], "", "", "kW", "", "",
               f"single point of failure: {e['summary']['racks_failing']} rack(s) fail, "
               f"{e['summary']['gpus_affected']} GPUs"]  # fmt: skip
    for lp in (risks.get("liquid_no_redundancy") or {}).get("loops") or []:
        at_risk = lp.get("racks_at_risk", lp["racks_served"])  # reports stored before the rule's count
        yield ["risk", "loop", lp["id"], lp["name"], lp["room_name"], "", "cooling_liquid", lp["usable_kw"], "", "",
               "", "kW", "", "", f"losing a unit or loop uncovers {at_risk} rack(s)"]  # fmt: skip


def report_csv(report: CapacityReport) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in report_csv_rows(report):
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue()


def report_filename(report: CapacityReport, ext: str) -> str:
    slug = ((report.data or {}).get("site") or {}).get("slug") or f"site-{report.site_id}"
    return f"capacity-report-{slug}-{report.day.isoformat()}.{ext}"


def send_report_email(report_id: int) -> int:
    """Mail one report to ``settings.REPORT_EMAIL_RECIPIENTS`` (text digest + CSV). 0 when nobody is listed."""
    recipients = list(getattr(settings, "REPORT_EMAIL_RECIPIENTS", None) or [])
    if not recipients:
        return 0
    report = CapacityReport.objects.select_related("site").get(pk=report_id)
    message = EmailMessage(
        subject=f"Capacity report {report.site.name} {report.day.isoformat()}",
        body=report_text(report),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach(report_filename(report, "csv"), report_csv(report), "text/csv")
    return message.send(fail_silently=False)
