"""Create, edit and delete pages for the reference data (writers only).

One registry entry per kind (the API's resource names); forms validate like the API (``planner.web.forms``),
and deleting something that still holds nodes needs an explicit confirmation, as ``?confirm=true`` does in
the API (``services.ensure_delete_confirmed``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from cooling.models import CoolingLoop
from planner import services
from planner.web.access import page, writer_required
from planner.web.forms import KIND_FORMS
from planner.web.history import history_context
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site


@dataclass(frozen=True)
class Kind:
    key: str
    model: type
    label: str
    parent: str | None  # create: the query parameter naming the parent (?site=, ?room=, ...)
    site: str | None  # attribute path from an object to its site
    node_lookup: str | None  # Node filter reaching this object (deleting it deletes those nodes)
    after_save: Callable[[object], str]
    after_delete: Callable[[object], str]
    related: tuple[str, ...] = ()  # select_related for the edit/delete lookups


def _site_url(site_id) -> str:
    return f"/sites/{site_id}/"


KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        Kind("sites", Site, "site", None, "", "rack__row__room__site", lambda o: _site_url(o.pk), lambda o: "/"),
        Kind(
            "rooms",
            Room,
            "room",
            "site",
            "site",
            "rack__row__room",
            lambda o: f"/rooms/{o.pk}/",
            lambda o: _site_url(o.site_id),
            ("site",),
        ),
        Kind(
            "rows",
            Row,
            "row",
            "room",
            "room.site",
            "rack__row",
            lambda o: f"/rooms/{o.room_id}/",
            lambda o: f"/rooms/{o.room_id}/",
            ("room__site",),
        ),
        Kind(
            "racks",
            Rack,
            "rack",
            "row",
            "row.room.site",
            "rack",
            lambda o: f"/racks/{o.pk}/",
            lambda o: f"/rooms/{o.row.room_id}/",
            ("row__room__site",),
        ),
        Kind(
            "power-sources",
            PowerSource,
            "power source",
            "site",
            "site",
            None,
            lambda o: _site_url(o.site_id) + "#power",
            lambda o: _site_url(o.site_id) + "#power",
            ("site",),
        ),
        Kind(
            "pdus",
            Pdu,
            "PDU",
            "rack",
            "rack.row.room.site",
            None,
            lambda o: f"/racks/{o.rack_id}/",
            lambda o: f"/racks/{o.rack_id}/",
            ("rack__row__room__site",),
        ),
        Kind(
            "cooling-loops",
            CoolingLoop,
            "cooling loop",
            "site",
            "site",
            None,
            lambda o: _site_url(o.site_id) + "#cooling",
            lambda o: _site_url(o.site_id) + "#cooling",
            ("site",),
        ),
        Kind(
            "node-models",
            NodeModel,
            "node model",
            None,
            None,
            "model",
            lambda o: f"/catalogue/#model-{o.slug}",
            lambda o: "/catalogue/",
        ),
    )
}

OWN_PAGE = {"sites", "rooms", "racks"}  # kinds with a page of their own (history shown there)

PARENT_MODELS = {"site": Site, "room": Room, "row": Row, "rack": Rack}
PARENT_SITE = {"site": "", "room": "site", "row": "room.site", "rack": "row.room.site"}
PARENT_RELATED = {"site": (), "room": ("site",), "row": ("room__site",), "rack": ("row__room__site",)}


def _kind(key: str) -> Kind:
    try:
        return KINDS[key]
    except KeyError:
        raise Http404("No such kind of object.") from None


def _site_of(obj, path: str | None) -> Site | None:
    if path is None:
        return None
    return obj if path == "" else attrgetter(path)(obj)


def _mark_invalid(form) -> None:
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs["aria-invalid"] = "true"
            described = form.fields[name].widget.attrs.get("aria-describedby", "")
            form.fields[name].widget.attrs["aria-describedby"] = f"{described} id_{name}_error".strip()


def _save(request: HttpRequest, kind: Kind, form, *, created: bool) -> HttpResponse | None:
    try:
        with transaction.atomic():
            obj = form.save()
    except IntegrityError as exc:  # a concurrent write won the race for a unique name or position
        form.add_error(None, f"Refused by the database: {exc}")
        return None
    except ValidationError as exc:  # the write-time guard (racks.models) saw a concurrent change the form did not
        form.add_error(None, exc.messages)
        return None
    messages.success(request, f"{'Created' if created else 'Saved'} {kind.label} {obj}.")
    return redirect(kind.after_save(obj))


@writer_required
def create(request: HttpRequest, kind_key: str) -> HttpResponse:
    kind = _kind(kind_key)
    parent = site = None
    if kind.parent and request.GET.get(kind.parent, "").isdigit():
        model = PARENT_MODELS[kind.parent]
        parent = get_object_or_404(
            model.objects.select_related(*PARENT_RELATED[kind.parent]), pk=request.GET[kind.parent]
        )
        site = _site_of(parent, PARENT_SITE[kind.parent])
    form_class = KIND_FORMS[kind.key]
    initial = {kind.parent: parent} if parent is not None else {}
    if kind.key == "cooling-loops" and parent is not None and request.GET.get("room", "").isdigit():
        initial["room"] = request.GET["room"]
    form = form_class(request.POST or None, initial=initial, site=site)
    if request.method == "POST" and form.is_valid():
        response = _save(request, kind, form, created=True)
        if response is not None:
            return response
    _mark_invalid(form)
    return page(
        request,
        "planner/form.html",
        {
            "form": form,
            "kind": kind,
            "title": f"New {kind.label}",
            "site": site,
            "cancel_url": _cancel_url(kind, parent),
        },
        status=400 if form.errors else 200,
    )


def _cancel_url(kind: Kind, parent) -> str:
    """Where "Cancel" on a new-object form goes: the parent's page."""
    if kind.key == "node-models":
        return "/catalogue/"
    if parent is None:
        return "/"
    return {
        "site": lambda p: _site_url(p.pk),
        "room": lambda p: f"/rooms/{p.pk}/",
        "row": lambda p: f"/rooms/{p.room_id}/",
        "rack": lambda p: f"/racks/{p.pk}/",
    }[kind.parent](parent)


@writer_required
def edit(request: HttpRequest, kind_key: str, pk: int) -> HttpResponse:
    kind = _kind(kind_key)
    obj = get_object_or_404(kind.model.objects.select_related(*kind.related), pk=pk)
    site = _site_of(obj, kind.site)
    form = KIND_FORMS[kind.key](request.POST or None, instance=obj, site=site)
    if request.method == "POST" and form.is_valid():
        response = _save(request, kind, form, created=False)
        if response is not None:
            return response
    _mark_invalid(form)
    return page(
        request,
        "planner/form.html",
        {
            "form": form,
            "kind": kind,
            "object": obj,
            "title": f"Edit {kind.label} {obj}",
            "site": site,
            "cancel_url": kind.after_save(obj),
            "delete_url": f"/{kind.key}/{obj.pk}/delete/",
            # Sites, rooms and racks show their history on their own page.
            "history": history_context(kind.model, obj.pk, kind.key) if kind.key not in OWN_PAGE else None,
        },
        status=400 if form.errors else 200,
    )


@writer_required
def delete(request: HttpRequest, kind_key: str, pk: int) -> HttpResponse:
    kind = _kind(kind_key)
    obj = get_object_or_404(kind.model.objects.select_related(*kind.related), pk=pk)
    node_count = Node.objects.filter(**{kind.node_lookup: obj}).count() if kind.node_lookup else 0
    context = {
        "object": obj,
        "kind_label": kind.label,
        "node_count": node_count,
        "cancel_url": kind.after_save(obj),
        "consequence": CONSEQUENCES.get(kind.key, ""),
        "protected": kind.key == "node-models" and node_count > 0,
    }
    if request.method != "POST":
        return page(request, "planner/confirm_delete.html", context)
    try:
        if kind.key != "node-models":
            services.ensure_delete_confirmed(holder=obj, node_count=node_count, confirm=request.POST.get("confirm"))
        target = kind.after_delete(obj)
        obj.delete()
    except services.DeleteNotConfirmed:
        context["error"] = f"{obj} still holds {node_count} node(s). Tick the box to confirm they are deleted too."
        return page(request, "planner/confirm_delete.html", context, status=409)
    except (ProtectedError, RestrictedError) as exc:
        used_by = sorted({str(o) for o in list(getattr(exc, "protected_objects", None) or exc.restricted_objects)[:10]})
        context["error"] = f"{obj} is still in use by {', '.join(used_by)}; remove or repoint those first."
        return page(request, "planner/confirm_delete.html", context, status=409)
    messages.success(request, f"Deleted {kind.label} {obj}.")
    return redirect(target)


CONSEQUENCES = {
    "sites": "Deletes its rooms, rows, racks, PDUs, power sources, cooling loops and every node placed there.",
    "rooms": "Deletes its rows, racks, their PDUs and every node placed there, and the room's cooling loops.",
    "rows": "Deletes its racks, their PDUs and every node placed there.",
    "racks": "Deletes its PDUs and every node placed in it.",
    "power-sources": "PDUs fed from it must be repointed first; the sources it feeds too.",
    "pdus": "The rack loses this PDU's capacity; nodes already placed stay.",
    "cooling-loops": "The racks it serves lose its capacity; nodes already placed stay.",
    "node-models": "Only a model no node uses can be deleted.",
}
