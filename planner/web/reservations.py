"""The reservations page (issue 16): planned nodes grouped by the reservation that holds them, installed or
released as a set (``services.reservation_install`` / ``reservation_release``, as ``POST
reservations/{id}/install/`` and ``.../release/``), and each reservation's history."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from planner import services
from planner.models import Reservation
from planner.roles import can_write
from planner.selectors.history import object_history, trail_history
from planner.web.access import page, reader_required
from planner.web.history import HISTORY_LIMIT, _api_url, _shown, _with_baselines
from racks.models import Node, Site

LIST_LIMIT = 100  # reservations shown (held first, then newest); the API pages through the rest
UNRESERVED_LIMIT = 200
STATUSES = [s for s, _ in Reservation.Status.choices]


def _nodes():
    return Node.objects.select_related("model", "rack__row__room").order_by(
        "rack__row__room__name", "rack__name", "u_position"
    )


def _node_rows(nodes) -> list[dict]:
    return [
        {
            "id": n.pk,
            "name": n.name,
            "model": n.model.name,
            "rack_id": n.rack_id,
            "where": f"{n.rack.row.room.name} / {n.rack.row.name} / {n.rack.name}",
            "u": n.u_position,
            "status": n.status,
        }
        for n in nodes
    ]


@reader_required
def reservation_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    site_id = request.GET.get("site", "")
    reservations = Reservation.objects.select_related("site", "model", "created_by").prefetch_related(
        Prefetch("nodes", queryset=_nodes())
    )
    if status in STATUSES:
        reservations = reservations.filter(status=status)
    if site_id.isdigit():
        reservations = reservations.filter(site_id=int(site_id))
    held_first = sorted(
        reservations.order_by("-created_at", "-id")[:LIST_LIMIT], key=lambda r: r.status != Reservation.Status.HELD
    )
    unreserved = _nodes().filter(status=Node.Status.PLANNED, reservations__isnull=True)
    if site_id.isdigit():
        unreserved = unreserved.filter(rack__row__room__site_id=int(site_id))
    unreserved = list(unreserved[: UNRESERVED_LIMIT + 1])
    return page(
        request,
        "planner/reservations.html",
        {
            "groups": [{"reservation": r, "nodes": _node_rows(r.nodes.all())} for r in held_first],
            "unreserved": _node_rows(unreserved[:UNRESERVED_LIMIT]),
            "unreserved_more": len(unreserved) > UNRESERVED_LIMIT,
            "status": status,
            "statuses": STATUSES,
            "site_id": int(site_id) if site_id.isdigit() else None,
            "sites": Site.objects.order_by("name").only("pk", "name"),
        },
    )


def _history(reservation) -> dict:
    """The reservation's own changes (status, who) and those of every node it reserved, deleted ones included
    (a release deletes them): newest first, two queries."""
    own, more_own = object_history(Reservation, reservation.pk, HISTORY_LIMIT)
    nodes, more_nodes = trail_history(
        Node.history.filter(id__in=reservation.node_ids or [0]),
        HISTORY_LIMIT,
        describe=lambda rec: {
            "label": f"Node {rec.name}",
            "api_url": _api_url("nodes", rec.id),
            "baseline": rec.previous_history_id is not None,
        },
    )
    nodes = [{**e, "baseline": e["object"]["baseline"]} for e in nodes]
    merged = sorted(_with_baselines(own, more_own) + nodes, key=lambda e: e["at"], reverse=True)
    return {
        "entries": _shown(merged[:HISTORY_LIMIT]),
        "more": more_own or more_nodes or len(merged) > HISTORY_LIMIT,
        "limit": HISTORY_LIMIT,
        "api_url": f"/api/v1/reservations/{reservation.pk}/",
        "with_objects": True,
        "self_label": "Reservation",
    }


@reader_required
def reservation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the reservation, its nodes and its history. POST ``action=install|release``: as a set (writers)."""
    if request.method == "POST":
        if not can_write(request.user):
            raise PermissionDenied("Only facilities users may install or release reservations.")
        action = request.POST.get("action")
        if action not in {"install", "release"}:
            raise Http404("No such action.")
        service = services.reservation_install if action == "install" else services.reservation_release
        try:
            reservation = service(reservation_id=pk)
        except services.NotFound as exc:
            raise Http404(str(exc)) from None
        except services.Conflict as exc:
            messages.error(request, exc.payload.get("detail", str(exc)))
            return redirect("reservation-detail", pk)
        done = "installed" if action == "install" else "released (its planned nodes removed, capacity freed)"
        messages.success(request, f"Reservation {pk}: {reservation.quantity} x {reservation.model.name} {done}.")
        return redirect("reservation-detail", pk)
    reservation = get_object_or_404(Reservation.objects.select_related("site", "model", "created_by"), pk=pk)
    return page(
        request,
        "planner/reservation_detail.html",
        {
            "reservation": reservation,
            "site": reservation.site,
            "nodes": _node_rows(_nodes().filter(reservations=reservation)),
            "history": _history(reservation),
        },
    )
