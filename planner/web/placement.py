"""Placing hardware: the placement wizard, moving and removing nodes, and the feasibility page.

Checks never write and are open to every reader (procurement included); commits go through
``planner.services`` (locks, re-check, one transaction) and are for writers only (403 otherwise).
"""

from __future__ import annotations

from collections import OrderedDict

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from planner import engine, planning, selectors, services
from planner.retrofits import retrofit_options
from planner.roles import can_write
from planner.web.access import page, reader_required, writer_required
from planner.web.forms import FeasibilityForm, NodeForm, PlaceForm
from planner.web.history import history_context
from planner.web.labels import retrofit_label, rule_label, rule_text
from planner.web.views import check_rows, headroom_rows, needs_retrofit, retrofit_rows
from racks.models import Node, Site


def _input_errors(form, exc: services.InvalidInput) -> None:
    """A service's field errors beside the form's fields (the rest above the form)."""
    for name, msgs in exc.errors.items():
        for message in msgs:
            form.add_error(name if name in form.fields else None, str(message))


def _wizard_site(request: HttpRequest, data) -> Site | None:
    """The site whose racks the wizard lists: the chosen rack's, else the chosen site, else the first."""
    rack_id, site_id = data.get("rack"), data.get("site")
    if rack_id and str(rack_id).isdigit() and not data.get("choose_site"):
        site = Site.objects.filter(rooms__rows__racks=int(rack_id)).first()
        if site is not None:
            return site
    if site_id and str(site_id).isdigit():
        site = Site.objects.filter(pk=int(site_id)).first()
        if site is not None:
            return site
    return Site.objects.order_by("name").first()


def _check(form: PlaceForm) -> dict:
    """Run the engine on a valid wizard form: the result, and retrofit options when a rule fails."""
    data = form.cleaned_data
    try:
        ctx, model, result = services.check_placement(
            rack_id=data["rack"].pk,
            model_id=data["model"].pk,
            quantity=data["quantity"],
            u_position=data.get("u_position"),
            rack=data["rack"],
        )
    except services.NotFound as exc:  # deleted since the form was read
        raise Http404(str(exc)) from None
    failing = result.failing
    spec = selectors.node_model_spec(model)
    return {
        "ok": result.ok,
        "checks": check_rows(result),
        "failing": failing,
        "positions": list(result.positions or ()),
        "retrofits": retrofit_rows(
            retrofit_options(
                ctx, extra=((spec, data["quantity"]),), failing_codes=failing, site=data["rack"].row.room.site
            )
        )
        if needs_retrofit(failing)
        else None,
        "headroom": headroom_rows(engine.rack_headroom(ctx, []).to_dict()),
        "rack": data["rack"],
        "model": model,
        "quantity": data["quantity"],
        "added_kw": model.max_power_kw * data["quantity"],
    }


def _by_rack(placements) -> list[dict]:
    """A plan's placements grouped by rack, in plan order: rack id, name, count and U positions."""
    by_rack: OrderedDict[int, dict] = OrderedDict()
    for p in placements:
        entry = by_rack.setdefault(p["rack"], {"rack": p["rack"], "name": p["rack_name"], "count": 0, "u": []})
        entry["count"] += 1
        entry["u"].append(p["u_position"])
    return list(by_rack.values())


def _suggest(site: Site, form: PlaceForm) -> dict | None:
    """Where the planner would put the units at this site (``planning.plan_feasibility``), by rack."""
    model, quantity = form.cleaned_data.get("model"), form.cleaned_data.get("quantity")
    if model is None or not quantity:
        return None
    plan = planning.plan_feasibility(selectors.site_snapshot(site.pk), selectors.node_model_spec(model), quantity)
    return {
        "model": model,
        "quantity": quantity,
        "racks": _by_rack(plan.placements),
        "unplaced": plan.unplaced,
        "binding": [{"code": c, "label": rule_label(c), "count": n} for c, n in plan.binding.items()],
    }


@reader_required
def place(request: HttpRequest) -> HttpResponse:
    """GET: choose and check (every reader). POST: commit as planned or installed (writers only)."""
    if request.method == "POST":
        return _place_commit(request)
    site = _wizard_site(request, request.GET)
    query = request.GET
    suggest = bool(query.get("suggest")) and site is not None
    context = {"site": site, "sites": Site.objects.order_by("name"), "check": None, "suggestion": None}
    if suggest:
        # A suggestion needs only a model and a quantity: parse them, show the form unbound (no "required" rack).
        parsed = PlaceForm(query, site=site)
        parsed.is_valid()
        context["suggestion"] = _suggest(site, parsed)
        form = PlaceForm(initial=query.dict(), site=site)
    else:
        bound = bool(query.get("rack")) and bool(query.get("model"))
        form = PlaceForm(query if bound else None, initial=query.dict(), site=site)
        if bound and form.is_valid():
            context["check"] = _check(form)
    context["form"] = form
    return page(request, "planner/place.html", context)


@reader_required
def place_check(request: HttpRequest) -> HttpResponse:
    """The live check fragment the wizard fetches while the user edits (GET, writes nothing)."""
    site = _wizard_site(request, request.GET)
    form = PlaceForm(request.GET, site=site)
    check = _check(form) if form.is_valid() else None
    return page(request, "planner/_check_result.html", {"form": form, "check": check})


def _place_commit(request: HttpRequest) -> HttpResponse:
    if not can_write(request.user):
        raise PermissionDenied("Only facilities users may place hardware.")
    site = _wizard_site(request, request.POST)
    form = PlaceForm(request.POST, site=site)
    context = {"form": form, "site": site, "sites": Site.objects.order_by("name"), "check": None, "suggestion": None}
    if not form.is_valid():
        return page(request, "planner/place.html", context, status=400)
    data = form.cleaned_data
    try:
        nodes = services.nodes_place(
            rack_id=data["rack"].pk,
            model_id=data["model"].pk,
            quantity=data["quantity"],
            u_position=data.get("u_position"),
            status=data.get("status") or Node.Status.PLANNED,
            name=data.get("name") or None,
        )
    except services.PlacementRejected:
        # Show every rule again (the state may have changed since the live check), with the failing ones.
        context["check"] = _check(form)
        context["rejected"] = True
        return page(request, "planner/place.html", context, status=409)
    except services.InvalidInput as exc:
        _input_errors(form, exc)
        return page(request, "planner/place.html", context, status=400)
    except services.NotFound as exc:
        raise Http404(str(exc)) from None
    status = dict(Node.Status.choices)[nodes[0].status].lower()
    messages.success(
        request,
        f"Placed {len(nodes)} x {data['model'].name} in {data['rack'].name} as {status} "
        f"(U{', U'.join(str(n.u_position) for n in nodes)}).",
    )
    return redirect("rack-detail", data["rack"].pk)


@writer_required
def node_edit(request: HttpRequest, pk: int) -> HttpResponse:
    node = get_object_or_404(Node.objects.select_related("model", "rack__row__room__site"), pk=pk)
    site = node.rack.row.room.site
    initial = {"rack": node.rack, "u_position": node.u_position, "name": node.name, "status": node.status}
    form = NodeForm(request.POST or None, initial=initial, site=site)
    context = {
        "form": form,
        "node": node,
        "rack": node.rack,
        "site": site,
        "check": None,
        "history": history_context(Node, node.pk, "nodes"),
    }
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.node_update(
                node_id=node.pk,
                rack_id=data["rack"].pk,
                u_position=data["u_position"],
                name=data["name"],
                status=data["status"],
            )
        except services.PlacementRejected as exc:
            context["check"] = {"ok": False, "checks": check_rows(exc.result), "rejected": True}
            return page(request, "planner/node_form.html", context, status=409)
        except services.InvalidInput as exc:
            _input_errors(form, exc)
            return page(request, "planner/node_form.html", context, status=400)
        messages.success(request, f"Saved node {data['name']}.")
        return redirect("rack-detail", data["rack"].pk)
    return page(request, "planner/node_form.html", context, status=400 if form.errors else 200)


@writer_required
def node_delete(request: HttpRequest, pk: int) -> HttpResponse:
    node = get_object_or_404(Node.objects.select_related("model", "rack"), pk=pk)
    if request.method == "POST":
        services.node_delete(node_id=node.pk)
        messages.success(request, f"Removed node {node.name} from {node.rack.name}.")
        return redirect("rack-detail", node.rack_id)
    return page(
        request,
        "planner/confirm_delete.html",
        {
            "object": node,
            "kind_label": "node",
            "consequence": f"{node.model.name} at U{node.u_position} in rack {node.rack.name}; its power, heat "
            "and weight are freed.",
            "cancel_url": f"/racks/{node.rack_id}/",
            "node_count": 0,
        },
    )


@reader_required
def feasibility(request: HttpRequest) -> HttpResponse:
    """Procurement's question: can site X take N more units of a model, where, and what must change?"""
    commit = request.method == "POST"
    if commit and not can_write(request.user):
        raise PermissionDenied("Only facilities users may reserve placements.")
    data = request.POST if commit else request.GET
    if commit or "model" in data:
        form = FeasibilityForm(data)
    else:  # the dashboard's link names only the site: a blank question for that site, not a 400
        form = FeasibilityForm(None, initial={"site": data["site"]} if data.get("site", "").isdigit() else None)
    context = {"form": form, "plan": None}
    if form.is_bound and form.is_valid():
        site, model, quantity = form.cleaned_data["site"], form.cleaned_data["model"], form.cleaned_data["quantity"]
        plan = planning.plan_feasibility(selectors.site_snapshot(site.pk), selectors.node_model_spec(model), quantity)
        if commit:
            if not plan.placements:
                messages.error(request, "Nothing fits now: no placement to reserve.")
            else:
                try:
                    nodes = services.feasibility_commit(model_id=model.pk, placements=plan.placements)
                except services.PlacementRejected as exc:
                    failing = ", ".join(exc.result.failing)
                    messages.error(
                        request, f"The site changed since the plan was made ({failing}); nothing was reserved."
                    )
                else:
                    messages.success(request, f"Reserved {len(nodes)} x {model.name} as planned nodes at {site.name}.")
                    return redirect("site-dashboard", site.pk)
        context.update(
            {
                "plan": plan.to_dict(),
                "site": site,
                "model": model,
                "by_rack": _by_rack(plan.placements),
                "binding": [
                    {"code": c, "label": rule_label(c), "rule": rule_text(c), "count": n}
                    for c, n in plan.binding.items()
                ],
                "retrofits": [{**r, "label": retrofit_label(r)} for r in plan.retrofits],
            }
        )
    return page(request, "planner/feasibility.html", context, status=400 if form.errors else 200)
