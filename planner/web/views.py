"""Server-rendered pages: sites, site dashboard, room floor plan, rack elevation, hardware catalogue.

Every page answers in a fixed number of queries: site and room pages read one ``selectors.site_snapshot``,
the rack page one ``selectors.rack_context``; per-rack figures are arithmetic on those, never queries.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404

from cooling.models import CoolingLoop
from planner import engine, resilience, selectors
from planner import headroom as headroom_mod
from planner.models import CapacityReport
from planner.readiness import readiness_of
from planner.retrofits import offers_retrofits, retrofit_options
from planner.sources import sources as reference_sources
from planner.web import figures as figs
from planner.web.access import page, reader_required
from planner.web.elements import room_elements
from planner.web.floorplan import render_floorplan
from planner.web.forms import RetrofitPlanForm
from planner.web.headlines import headline_from_figures, site_headlines
from planner.web.history import history_context, rack_history_context
from planner.web.labels import DIMENSIONS, UNIT_TEXT, retrofit_label, rule_label, rule_text
from planner.web.metrics import METRICS, air_limit_kw, figures_from_context, format_value, near_limit
from racks.models import Node, NodeModel, PowerSource, Rack, Room, Site

HISTORY_DAYS = 400
LOOP_KINDS = dict(CoolingLoop.Kind.choices)


def check_rows(result) -> list[dict]:
    """A check result's rules for a template: label, description, status, message and figures."""
    return [
        {
            "code": c.code,
            "label": rule_label(c.code),
            "rule": rule_text(c.code),
            "status": c.status,
            "message": c.message,
            "value": c.value,
            "limit": c.limit,
            "unit": c.unit,
        }
        for c in result.checks
    ]


def needs_retrofit(failing) -> bool:
    """The same condition as the API's check (planner.retrofits.offers_retrofits)."""
    return offers_retrofits(failing)


def retrofit_rows(options: list[dict]) -> dict:
    """Retrofit options for a template: the applicable ones (best first) and the others with why not."""
    rows = [{**o, "label": retrofit_label(o)} for o in options]
    return {
        "applicable": [o for o in rows if o.get("applicable", True)],
        "other": [o for o in rows if not o.get("applicable", True)],
    }


def headroom_rows(head: dict) -> list[dict]:
    """Headroom dict -> one row per dimension (label, load, capacity, headroom, unit, % used)."""
    rows = []
    for key, (label, unit) in DIMENSIONS.items():
        dim = head.get(key)
        if not dim:
            continue
        cap, load, left = dim[f"capacity_{unit}"], dim[f"load_{unit}"], dim[f"headroom_{unit}"]
        rows.append(
            {
                "key": key,
                "label": label,
                "unit": UNIT_TEXT[unit],
                "capacity": cap,
                "load": load,
                "headroom": left,
                "used_pct": load / cap * 100 if cap else None,
                "binding": head.get("binding") == key,
            }
        )
    return rows


def binding_label(key: str | None) -> str:
    if not key:
        return "—"
    return "Space" if key == "space" else DIMENSIONS.get(key, (key,))[0]


@reader_required
def site_list(request: HttpRequest) -> HttpResponse:
    """Every site with its headline figures, in a fixed number of queries whatever the number of sites or racks."""
    return page(request, "planner/site_list.html", {"headlines": site_headlines()})


@reader_required
def site_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    token = selectors.site_token(pk)  # before the snapshot: the N-1 sweep below is cached under it
    try:
        snapshot = selectors.site_snapshot(pk)
    except Site.DoesNotExist:
        raise Http404("No such site.") from None
    site = snapshot.site
    results = headroom_mod.rack_headroom_results(snapshot)
    site_head = headroom_mod.site_headroom(snapshot, results)
    rack_heads = {rid: h.to_dict() for rid, h in results.items()}
    figures = {rid: figures_from_context(ctx) for rid, ctx in snapshot.contexts.items()}
    loops = list(
        CoolingLoop.objects.filter(site_id=pk).select_related("room").annotate(n_racks=Count("racks")).order_by("name")
    )
    for lp in loops:
        lp.usable_kw = engine.loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units)
    sources = list(PowerSource.objects.filter(site_id=pk).select_related("parent").order_by("name"))
    for s in sources:
        s.derating, s.usable_kw = selectors.source_rating(s, site)
    reports = list(
        CapacityReport.objects.filter(site_id=pk)
        .order_by("-day")
        .only("day", "it_load_kw", "power_capacity_kw", "air_heat_kw", "liquid_heat_kw", "summary")[:HISTORY_DAYS]
    )[::-1]
    headline = headline_from_figures(site, list(figures.values()), [(lp.kind, lp.usable_kw) for lp in loops])
    sweep = resilience.site_resilience(pk, snapshot=snapshot, token=token)

    room_of_row = {row.id: row.room_id for row in snapshot.rows}
    by_room: dict[int, list] = defaultdict(list)
    for rack in snapshot.racks:
        by_room[room_of_row[rack.row_id]].append(figures[rack.id])
    rooms = []
    for room, head in zip(snapshot.rooms, site_head["rooms"], strict=True):
        rfigs = by_room.get(room.id, [])
        rooms.append(
            {
                "room": room,
                "name": room.name,
                "rack_count": len(rfigs),
                "it_kw": sum(f.kw for f in rfigs),
                "air_kw": sum(f.air_kw for f in rfigs),
                "liquid_kw": sum(f.liquid_kw for f in rfigs),
                "air_capacity_kw": head["cooling_air"].get("room_capacity_kw", 0.0),
                "liquid_capacity_kw": head["cooling_liquid"]["capacity_kw"],
                "near_limit": sum(1 for f in rfigs if near_limit(f)),
                "binding": binding_label(head.get("binding")),
                "headroom": headroom_rows(head),
            }
        )
    model_names = {m.slug: m.name for m in snapshot.models}
    charts = [
        {
            "id": "headroom",
            "title": "Headroom per dimension, by room",
            "desc": "Share of each capacity still free (bar label: the headroom itself); dotted line: 20 % left.",
            "json": figs.figure_json(figs.headroom_by_room(site_head)) if rooms else None,
        },
        {
            "id": "density",
            "title": "Rack density (kW per rack)",
            "desc": "Racks per load band; bands follow the retrofit defaults.",
            "json": figs.figure_json(figs.rack_density([f.kw for f in figures.values()])) if figures else None,
        },
        {
            "id": "heat",
            "title": "Air and liquid heat by room",
            "desc": "Heat at max power (filled) beside the usable capacity of the loops that take it (outlined).",
            "json": figs.figure_json(figs.heat_by_room(rooms)) if rooms else None,
        },
        {
            "id": "history",
            "title": "Capacity history",
            "desc": "From the nightly capacity reports.",
            "json": figs.figure_json(figs.capacity_history(reports)) if reports else None,
            "empty": "No nightly capacity report yet: the first one appears after the next nightly run.",
        },
    ]
    return page(
        request,
        "planner/site_dashboard.html",
        {
            "site": site,
            "headline": headline,
            "site_head": site_head,
            "site_rows": headroom_rows(site_head),
            "binding": binding_label(site_head.get("binding")),
            "rooms": rooms,
            "charts": charts,
            "loops": loops,
            "sources": sources,
            "fits": sorted(
                ((model_names.get(slug, slug), slug, n) for slug, n in site_head.get("fits", {}).items()),
                key=lambda t: t[0],
            ),
            "report_count": len(reports),
            "n1": resilience.n1_summary(sweep),
            # AI readiness (issue 17): from the same rack headroom and sweep, no query; its history from the reports
            "readiness": readiness_of(snapshot, sweep, rack_heads),
            "readiness_history": [
                (r.day, (r.summary or {}).get("readiness_score"))
                for r in reports
                if (r.summary or {}).get("readiness_score") is not None
            ],
            "history": history_context(Site, site.pk, "sites"),
        },
    )


@reader_required
def room_detail(request: HttpRequest, pk: int) -> HttpResponse:
    room = get_object_or_404(Room.objects.select_related("site"), pk=pk)
    metric_key = request.GET.get("metric", "kw")
    if metric_key not in METRICS:
        metric_key = "kw"
    snapshot = selectors.site_snapshot(room.site_id)
    rows = [row for row in snapshot.rows if row.room_id == room.id]
    row_ids = {row.id for row in rows}
    racks = [rack for rack in snapshot.racks if rack.row_id in row_ids]
    figures = {rack.id: figures_from_context(snapshot.contexts[rack.id]) for rack in racks}
    plan = render_floorplan(rows, racks, figures, metric_key)
    per_row = defaultdict(lambda: {"count": 0, "kw": 0.0})
    for rack in racks:
        per_row[rack.row_id]["count"] += 1
        per_row[rack.row_id]["kw"] += figures[rack.id].kw
    return page(
        request,
        "planner/room_detail.html",
        {
            "room": room,
            "site": room.site,
            "plan": plan,
            "metrics": [(m.key, m.label) for m in METRICS.values()],
            "metric_key": metric_key,
            "rows": [
                {
                    "row": row,
                    "air_limit_kw": air_limit_kw(row.containment, row.air_kw_per_rack_limit),
                    **per_row[row.id],
                }
                for row in rows
            ],
            "rack_count": len(racks),
            "it_kw": sum(f.kw for f in figures.values()),
            "near_limit": sum(1 for f in figures.values() if near_limit(f)),
            "elements": room_elements(snapshot, room.id),
            "history": history_context(Room, room.pk, "rooms"),
        },
    )


def _elevation(ctx, statuses: dict[int, str]) -> list[dict]:
    """U slots from the top down; a node is drawn once, at its top U, spanning its height. A rack-scale system
    takes the whole rack (engine SPACE rule): the units above it are drawn as reserved."""
    height = ctx.rack.u_height
    occupant = {}
    for n in ctx.nodes:
        for u in range(n.u_position, min(n.u_position + n.model.u_height - 1, height) + 1):
            occupant[u] = n
    rack_scale = any(n.model.rack_scale for n in ctx.nodes)
    slots = []
    for u in range(height, 0, -1):
        node = occupant.get(u)
        if node is None and not rack_scale:
            slots.append({"u": u})
        elif node is None:
            starts_block = u == height or u + 1 in occupant
            free_below = next((u - v for v in range(u, 0, -1) if v in occupant), u)
            slots.append({"u": u, "reserved": free_below} if starts_block else {"u": u, "covered": True})
        elif occupant.get(u + 1) is node:
            slots.append({"u": u, "covered": True})
        else:
            slots.append(
                {
                    "u": u,
                    "node": {
                        "id": node.node_id,
                        "name": node.name,
                        "model": node.model.name or node.model.slug,
                        "span": u - node.u_position + 1,
                        "kw": node.model.max_power_kw,
                        "status": statuses.get(node.node_id, ""),
                        "bottom": node.u_position,
                    },
                }
            )
    return slots


def _retrofit_plan(request: HttpRequest, ctx, models, site) -> dict:
    """The rack page's retrofit question (``RetrofitPlanForm``): the options for ``model`` x ``quantity`` more
    units or for a rack IT load, from the same function as ``GET racks/{id}/retrofits/`` (same order).
    ``errors``: bad input (an unknown parameter too), answered 400 with nothing computed."""
    unknown = sorted(set(request.GET) - set(RetrofitPlanForm.FIELDS))
    asked = bool(request.GET)
    form = RetrofitPlanForm(request.GET if asked else None, models=models)
    out = {"form": form, "asked": False, "label": "", "retrofits": None, "errors": []}
    if not asked:
        return out
    if unknown:  # the form unbound: the page names the unknown parameters, nothing else
        out["form"] = RetrofitPlanForm(None, models=models)
        out["errors"] = [f"Unknown parameter(s): {', '.join(unknown)}."]
        return out
    if not form.is_valid():
        out["errors"] = [str(e) for errors in form.errors.values() for e in errors]
        return out
    data = form.cleaned_data
    if data.get("model"):
        spec = next(m for m in models if m.slug == data["model"])
        quantity = data.get("quantity") or 1
        options = retrofit_options(ctx, extra=((spec, quantity),), site=site)
        out["label"] = f"{quantity} x {spec.name or spec.slug} more"
    else:
        options = retrofit_options(ctx, target_kw=data["target_kw"], site=site)
        out["label"] = f"a rack IT load of {data['target_kw']:g} kW"
    out.update({"asked": True, "retrofits": retrofit_rows(options)})
    return out


@reader_required
def rack_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rack = get_object_or_404(Rack.objects.select_related("row__room__site"), pk=pk)
    ctx = selectors.rack_context(rack.id, rack=rack)
    result = engine.check_rack(ctx)
    models = selectors.catalogue_specs()
    head = engine.rack_headroom(ctx, models).to_dict()
    statuses = dict(Node.objects.filter(rack_id=rack.id).values_list("id", "status"))
    figures = figures_from_context(ctx)
    source_names = {s.source_id: s.name for s in ctx.sources}
    currents = engine.phase_currents(ctx)  # POWER_PHASE's per-phase figures (whole rack on each side)
    pdus = {"A": [], "B": []}
    for p in ctx.pdus:
        pdus.setdefault(p.side, []).append(
            {
                "id": p.pdu_id,
                "name": p.name,
                "phases": p.phases,
                "voltage_v": p.voltage_v,
                "current_a": p.current_a,
                "power_factor": p.power_factor,
                "usable_kw": engine.pdu_usable_kw(
                    voltage_v=p.voltage_v,
                    current_a=p.current_a,
                    phases=p.phases,
                    derating=ctx.site.power_derating,
                    power_factor=p.power_factor,
                ),
                "source": source_names.get(p.source_id, "—"),
                "circuit": currents.get(p.pdu_id),
            }
        )
    pdu_sides = [
        {"side": side, "items": items, "total_kw": sum(p["usable_kw"] for p in items)} for side, items in pdus.items()
    ]
    failing = result.failing
    plan = _retrofit_plan(request, ctx, models, rack.row.room.site)
    loops = [
        {
            "name": lp.name,
            "kind": LOOP_KINDS.get(lp.kind, lp.kind),
            "usable_kw": engine.loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units),
            "supply_temp_c": lp.supply_temp_c,
            "racks_served": lp.racks_served,
            "other_heat_kw": lp.other_heat_kw,
        }
        for lp in ctx.loops
    ]
    fits = sorted(((m.name or m.slug, m.slug, head.get("fits", {}).get(m.slug, 0)) for m in models), key=lambda t: t[0])
    return page(
        request,
        "planner/rack_detail.html",
        {
            "rack": rack,
            "row": rack.row,
            "room": rack.row.room,
            "site": rack.row.room.site,
            "slots": _elevation(ctx, statuses),
            "pdus": pdu_sides,
            "checks": check_rows(result),
            "ok": result.ok,
            "failing": failing,
            "retrofits": plan["retrofits"]
            if plan["asked"]
            else (
                retrofit_rows(retrofit_options(ctx, failing_codes=failing, site=rack.row.room.site))
                if needs_retrofit(failing)
                else None
            ),
            "plan": plan,
            "headroom": headroom_rows(head),
            "binding": binding_label(head.get("binding")),
            "space": head.get("space", {}),
            "fits": fits,
            "loops": loops,
            "figures": figures,
            "kw_text": format_value(figures.kw, "kW"),
            "nodes": [
                {
                    "id": n.node_id,
                    "name": n.name,
                    "model": n.model.name or n.model.slug,
                    "u": n.u_position,
                    "top": n.u_position + n.model.u_height - 1,
                    "kw": n.model.max_power_kw,
                    "status": statuses.get(n.node_id, ""),
                }
                for n in ctx.nodes
            ],
            "history": rack_history_context(rack.id),
        },
        status=400 if plan["errors"] else 200,
    )


@reader_required
def sources_page(request: HttpRequest) -> HttpResponse:
    """The reference entries the catalogue and the advisor cite; every ``[Sxx]`` shown on a page links here."""
    entries = list(reference_sources().values())
    return page(
        request,
        "planner/sources.html",
        {
            "sections": [(name, [e for e in entries if e.section == name]) for name in ("Sources", "Sources (new)")],
            "count": len(entries),
        },
    )


@reader_required
def catalogue(request: HttpRequest) -> HttpResponse:
    models = NodeModel.objects.annotate(placed=Count("nodes")).order_by("vendor", "max_power_kw", "name")
    return page(request, "planner/catalogue.html", {"models": models})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for load balancers and docker compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
