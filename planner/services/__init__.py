"""Services: every write that must obey the placement rules.

Each service runs in one transaction, locks what it draws on (site, its power sources and cooling loops,
the rack and its PDUs) with SELECT ... FOR UPDATE in a fixed order, re-runs the engine on the locked state,
and writes only if every rule passes. Two concurrent placements therefore cannot both take the last
headroom: the second waits for the first lock, then sees the first one's node.

Services speak the domain, not HTTP: they raise :class:`InvalidInput` (bad values, field by field),
:class:`NotFound` (an object named by id does not exist) and :class:`Conflict` (a refused write). The API
(``planner.api.exceptions``) answers them 400, 404 and 409 in its error shape; the pages show their messages
with the same statuses.
"""

from __future__ import annotations

from django.db import transaction

from cooling.models import CoolingLoop
from planner import engine, selectors
from planner.engine.inputs import Placement
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Site


class DomainError(Exception):
    """An error a service raises for its caller to answer (the API and the pages map each kind to a status)."""

    status_code = 400


class InvalidInput(DomainError):
    """Input refused field by field: ``errors`` is ``{field: [message, ...]}`` (400)."""

    status_code = 400

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = {field: list(messages) for field, messages in errors.items()}
        field, messages = next(iter(self.errors.items()))
        super().__init__(f"{field}: {messages[0]}")


class NotFound(DomainError):
    """The object a request names by id does not exist (404)."""

    status_code = 404


class Conflict(DomainError):
    """A refused write. The API answers 409 with ``payload`` as is (numbers stay numbers)."""

    status_code = 409

    def __init__(self, payload: dict):
        super().__init__(payload.get("detail", "conflict"))
        self.payload = payload


class PlacementRejected(Conflict):
    """A placement breaks a rule: 409 with the full check result."""

    def __init__(self, result):
        self.result = result
        failing = [c.code for c in result.checks if c.status == "fail"]
        super().__init__({"detail": f"Placement breaks: {', '.join(failing)}.", **result.to_dict()})


class DeleteNotConfirmed(Conflict):
    pass


def ensure_delete_confirmed(*, holder, node_count: int, confirm: str | None) -> None:
    """Refuse to delete something that still holds nodes unless the caller confirms (``confirm=true``)."""
    if node_count and str(confirm).lower() not in {"1", "true", "yes"}:
        raise DeleteNotConfirmed(
            {
                "detail": f"{holder} still holds {node_count} node(s); deleting it deletes them too. "
                "Repeat the request with ?confirm=true to proceed.",
                "node_count": node_count,
            }
        )


def _lock_budgets(rack_ids: list[int]) -> dict[int, Rack]:
    """Lock, in a fixed order (sites, sources, loops, racks, PDUs, all by id), what the racks draw on."""
    site_ids = sorted(set(Rack.objects.filter(pk__in=rack_ids).values_list("row__room__site_id", flat=True)))
    list(Site.objects.select_for_update().filter(pk__in=site_ids).order_by("pk").values_list("pk", flat=True))
    list(
        PowerSource.objects.select_for_update().filter(site_id__in=site_ids).order_by("pk").values_list("pk", flat=True)
    )
    list(
        CoolingLoop.objects.select_for_update().filter(site_id__in=site_ids).order_by("pk").values_list("pk", flat=True)
    )
    racks = {
        r.pk: r
        for r in Rack.objects.select_for_update(of=("self",))
        .select_related("row__room__site")
        .filter(pk__in=rack_ids)
        .order_by("pk")
    }
    list(Pdu.objects.select_for_update().filter(rack_id__in=rack_ids).order_by("pk").values_list("pk", flat=True))
    missing = set(rack_ids) - set(racks)
    if missing:
        raise InvalidInput({"rack": [f"Rack {sorted(missing)[0]} does not exist."]})
    return racks


def _get_model(model_id: int) -> NodeModel:
    try:
        return NodeModel.objects.get(pk=model_id)
    except NodeModel.DoesNotExist:
        raise InvalidInput({"model": [f"Node model {model_id} does not exist."]}) from None


def _free_names(slug: str, count: int, taken: set[str]) -> list[str]:
    names, n = [], 1
    while len(names) < count:
        candidate = f"{slug}-{n}"
        if candidate not in taken:
            names.append(candidate)
        n += 1
    return names


def check_placement(
    *,
    rack_id: int,
    model_id: int,
    quantity: int = 1,
    u_position: int | None = None,
    rack: Rack | None = None,
    model: NodeModel | None = None,
):
    """Evaluate every rule for a proposed placement without writing. Returns (context, model, result).

    ``rack`` (with ``row__room__site`` selected) and ``model`` may be passed when the caller has them already.
    """
    try:
        ctx = selectors.rack_context(rack_id, rack=rack)
    except Rack.DoesNotExist:
        raise NotFound(f"Rack {rack_id} does not exist.") from None
    if model is None or model.pk != model_id:
        model = _get_model(model_id)
    placement = Placement(model=selectors.node_model_spec(model), quantity=quantity, u_position=u_position)
    return ctx, model, engine.check_placement(ctx, placement)


@transaction.atomic
def nodes_place(
    *,
    rack_id: int,
    model_id: int,
    quantity: int = 1,
    u_position: int | None = None,
    status: str = Node.Status.PLANNED,
    name: str | None = None,
) -> list[Node]:
    """Place ``quantity`` units of a model in a rack if every rule passes; else raise PlacementRejected."""
    if quantity < 1:
        raise InvalidInput({"quantity": ["Must be at least 1."]})
    if name is not None and quantity != 1:
        raise InvalidInput({"name": ["A name can be given only when placing one unit."]})
    racks = _lock_budgets([rack_id])
    model = _get_model(model_id)
    ctx = selectors.rack_context(rack_id, rack=racks[rack_id])
    result = engine.check_placement(
        ctx, Placement(model=selectors.node_model_spec(model), quantity=quantity, u_position=u_position)
    )
    if not result.ok:
        raise PlacementRejected(result)
    taken = {n.name for n in ctx.nodes}
    if name is not None and name in taken:
        raise InvalidInput({"name": [f'Rack {racks[rack_id]} already has a node named "{name}".']})
    names = [name] if name is not None else _free_names(model.slug, quantity, taken)
    nodes = [
        Node(rack_id=rack_id, model=model, u_position=pos, name=nm, status=status)
        for pos, nm in zip(result.positions, names, strict=True)
    ]
    for node in nodes:
        node.save()  # one by one so the audit history records each placement
    return nodes


def node_create(
    *, rack_id: int, model_id: int, u_position: int | None = None, name: str | None = None, status: str = "planned"
) -> Node:
    """Place one node (see nodes_place)."""
    return nodes_place(rack_id=rack_id, model_id=model_id, quantity=1, u_position=u_position, status=status, name=name)[
        0
    ]


@transaction.atomic
def node_update(
    *,
    node_id: int,
    rack_id: int | None = None,
    model_id: int | None = None,
    u_position: int | None = None,
    name: str | None = None,
    status: str | None = None,
) -> Node:
    """Rename, change status, or move a node (another U, rack or model). Moves re-run every rule."""
    current = Node.objects.filter(pk=node_id).values("rack_id").first()
    if current is None:
        raise NotFound(f"Node {node_id} does not exist.")
    target_rack_id = rack_id if rack_id is not None else current["rack_id"]
    _lock_budgets(sorted({current["rack_id"], target_rack_id}))
    node = Node.objects.select_for_update().select_related("model").get(pk=node_id)
    moves = (
        (rack_id is not None and rack_id != node.rack_id)
        or (model_id is not None and model_id != node.model_id)
        or (u_position is not None and u_position != node.u_position)
    )
    if moves:
        model = _get_model(model_id) if model_id is not None else node.model
        same_rack = target_rack_id == node.rack_id
        # Within its rack a node keeps its U unless told otherwise; into another rack it takes the lowest free.
        position = u_position if u_position is not None else (node.u_position if same_rack else None)
        placement = Placement(
            model=selectors.node_model_spec(model),
            quantity=1,
            u_position=position,
            exclude_node_ids=(node.id,) if same_rack else (),
        )
        result = engine.check_placement(selectors.rack_context(target_rack_id), placement)
        if not result.ok:
            raise PlacementRejected(result)
        node.rack_id, node.model, node.u_position = target_rack_id, model, result.positions[0]
    taken = set(Node.objects.filter(rack_id=node.rack_id).exclude(pk=node.pk).values_list("name", flat=True))
    if name is not None and name != node.name:
        if name in taken:
            raise InvalidInput({"name": [f'This rack already has a node named "{name}".']})
        node.name = name
    elif node.name in taken:
        node.name = _free_names(node.model.slug, 1, taken)[0]
    if status is not None:
        node.status = status
    node.save()
    return node


@transaction.atomic
def node_delete(*, node_id: int) -> None:
    """Remove a node. Freeing capacity needs no check, but the rack is locked so a concurrent check waits."""
    rack_id = Node.objects.filter(pk=node_id).values_list("rack_id", flat=True).first()
    if rack_id is None:
        raise NotFound(f"Node {node_id} does not exist.")
    _lock_budgets([rack_id])
    Node.objects.get(pk=node_id).delete()


@transaction.atomic
def feasibility_commit(*, model_id: int, placements, status: str = Node.Status.PLANNED) -> list[Node]:
    """Reserve a feasibility plan as nodes in one transaction. Each rack's units are re-checked under lock;
    if anything changed since the plan was made and a unit no longer fits, nothing is written (409)."""
    by_rack: dict[int, list[int]] = {}
    for p in placements:
        by_rack.setdefault(p["rack"], []).append(p["u_position"])
    nodes: list[Node] = []
    for rack_id in sorted(by_rack):
        for u in sorted(by_rack[rack_id]):
            nodes += nodes_place(rack_id=rack_id, model_id=model_id, quantity=1, u_position=u, status=status)
    return nodes


# ---- reservations ----------------------------------------------------------------------------------------

IDEMPOTENCY_WINDOW_HOURS = 24


class ReservationRefused(Conflict):
    """Nothing (or, all-or-nothing, not everything) of an order can be reserved: 409 with the reasons."""


def _replay(*, user_id: int | None, key: str, site_id: int, model_id: int, quantity: int, partial: bool):
    """The reservation an earlier request with this key made within the window, or None. A key reused for a
    different order is refused (409): it would otherwise silently return the wrong reservation."""
    from datetime import timedelta

    from django.utils import timezone

    from planner.models import Reservation

    found = Reservation.objects.filter(created_by_id=user_id, idempotency_key=key).first()
    if found is None:
        return None
    if found.created_at < timezone.now() - timedelta(hours=IDEMPOTENCY_WINDOW_HOURS):
        Reservation.objects.filter(pk=found.pk).update(idempotency_key=None)  # expired: the key is free again
        return None
    if (found.site_id, found.model_id, found.requested) != (site_id, model_id, quantity):
        raise Conflict(
            {
                "detail": f"Idempotency-Key {key[:60]!r} was used for another order (reservation {found.pk}); "
                "use a new key for a new order.",
                "code": "idempotency_key_reused",
                "reservation": found.pk,
            }
        )
    return found


def reservation_commit(
    *,
    site_id: int,
    model_id: int,
    quantity: int,
    plan,
    partial: bool = False,
    user_id: int | None = None,
    idempotency_key: str | None = None,
):
    """Reserve a feasibility ``plan`` (planning.FeasibilityPlan for ``quantity`` units) as one reservation.

    All or nothing unless ``partial``: an order that does not fit whole reserves nothing (409 with the binding
    rules); an order of which nothing fits is refused even with ``partial``. Each unit is re-checked under the
    usual locks (feasibility_commit). With ``idempotency_key`` the reservation row is inserted first: its unique
    constraint makes a parallel identical commit wait, then return the same reservation.
    Returns ``(reservation, replayed)``.
    """
    from django.db import IntegrityError

    from planner.models import Reservation

    if idempotency_key:
        found = _replay(
            user_id=user_id, key=idempotency_key, site_id=site_id, model_id=model_id, quantity=quantity, partial=partial
        )
        if found is not None:
            return found, True
    try:
        with transaction.atomic():
            reservation = Reservation.objects.create(
                site_id=site_id,
                model_id=model_id,
                quantity=0,
                requested=quantity,
                created_by_id=user_id,
                idempotency_key=idempotency_key or None,
            )
            placed = len(plan.placements)
            if placed == 0 or (placed < quantity and not partial):
                reasons = ", ".join(f"{code} ({count})" for code, count in plan.binding.items()) or "no rack fits"
                what = "nothing fits" if placed == 0 else f"only {placed} of {quantity} fit"
                hint = "" if placed == 0 else "; send partial: true to reserve what fits"
                raise ReservationRefused(
                    {
                        "detail": f"Nothing reserved: {what} (binding: {reasons}){hint}.",
                        "code": "does_not_fit",
                        **plan.to_dict(),
                    }
                )
            nodes = feasibility_commit(model_id=model_id, placements=plan.placements)
            reservation.quantity = len(nodes)
            reservation.node_ids = [n.pk for n in nodes]
            reservation.save(update_fields=["quantity", "node_ids", "updated_at"])
            reservation.nodes.set(nodes)
    except IntegrityError:
        if not idempotency_key:
            raise
        # A parallel request with the same key committed first; its reservation is the answer.
        found = _replay(
            user_id=user_id, key=idempotency_key, site_id=site_id, model_id=model_id, quantity=quantity, partial=partial
        )
        if found is None:
            raise
        return found, True
    return reservation, False


def _locked_reservation(reservation_id: int):
    from planner.models import Reservation

    rack_ids = sorted(set(Node.objects.filter(reservations__pk=reservation_id).values_list("rack_id", flat=True)))
    if rack_ids:
        _lock_budgets(rack_ids)  # the usual order: budgets first, then the reservation row
    try:
        return Reservation.objects.select_for_update().get(pk=reservation_id)
    except Reservation.DoesNotExist:
        raise NotFound(f"Reservation {reservation_id} does not exist.") from None


def _require_held(reservation, action: str) -> None:
    if reservation.status != reservation.Status.HELD:
        raise Conflict(
            {
                "detail": f"Reservation {reservation.pk} is {reservation.status}; only a held one can be {action}.",
                "code": "not_held",
            }
        )


@transaction.atomic
def reservation_install(*, reservation_id: int):
    """Mark every node of a held reservation installed, as a set."""
    reservation = _locked_reservation(reservation_id)
    _require_held(reservation, "installed")
    for node in reservation.nodes.select_for_update().order_by("pk"):
        node.status = Node.Status.INSTALLED
        node.save(update_fields=["status"])  # one by one: the audit history records each
    reservation.status = reservation.Status.INSTALLED
    reservation.save(update_fields=["status", "updated_at"])
    return reservation


@transaction.atomic
def reservation_release(*, reservation_id: int):
    """Give a held reservation back: its planned nodes are removed together, freeing their capacity."""
    reservation = _locked_reservation(reservation_id)
    _require_held(reservation, "released")
    for node in reservation.nodes.select_for_update().order_by("pk"):
        node.delete()
    reservation.status = reservation.Status.RELEASED
    reservation.save(update_fields=["status", "updated_at"])
    return reservation


# --- fabric switches (issue 18) ---------------------------------------------------------------------------


def _switch_model_fields(*, u_height: int, max_power_kw: float, weight_kg: float) -> dict:
    return {
        "u_height": u_height,
        "max_power_kw": max_power_kw,
        "typical_power_kw": max_power_kw,
        "weight_kg": weight_kg,
        "cooling": NodeModel.Cooling.AIR,
        "liquid_fraction": 0.0,
        "kind": NodeModel.Kind.SWITCH,
        "gpus": 0,
    }


@transaction.atomic
def switch_create(
    *,
    fabric_id: int,
    rack_id: int,
    name: str,
    ports: int,
    port_speed_gbps: float,
    u_height: int,
    max_power_kw: float,
    weight_kg: float,
    role: str = "leaf",
    u_position: int | None = None,
    uplink_ports: int | None = None,
    rail: int | None = None,
):
    """Place a fabric switch in a rack: its rack-load model and node are written only if every rule passes
    (its power, heat, weight and U then count in every budget like any node's)."""
    import uuid

    from django.utils.text import slugify

    from racks.models import Fabric, Switch

    racks = _lock_budgets([rack_id])
    rack = racks[rack_id]
    fabric = Fabric.objects.filter(pk=fabric_id).first()
    if fabric is None:
        raise InvalidInput({"fabric": [f"Fabric {fabric_id} does not exist."]})
    if rack.row.room.site_id != fabric.site_id:
        raise InvalidInput({"rack": [f'Rack "{rack}" is not in the site of fabric "{fabric}".']})
    if uplink_ports is not None and uplink_ports > ports:
        raise InvalidInput({"uplink_ports": ["Cannot exceed ports."]})
    if Switch.objects.filter(fabric=fabric, name__iexact=name).exists():
        raise InvalidInput({"name": [f'Fabric "{fabric}" already has a switch named "{name}".']})
    model = NodeModel(
        slug=f"switch-{fabric.pk}-{slugify(name)[:30] or 'x'}-{uuid.uuid4().hex[:8]}",
        vendor="switch",
        name=f"{fabric.name} / {name}"[:100],
        source=f"Fabric switch ({fabric.name}); figures as entered.",
        **_switch_model_fields(u_height=u_height, max_power_kw=max_power_kw, weight_kg=weight_kg),
    )
    ctx = selectors.rack_context(rack_id, rack=rack)
    result = engine.check_placement(
        ctx, Placement(model=selectors.node_model_spec(model), quantity=1, u_position=u_position)
    )
    if not result.ok:
        raise PlacementRejected(result)
    taken = {n.name for n in ctx.nodes}
    model.save()
    node = Node(
        rack_id=rack_id,
        model=model,
        u_position=result.positions[0],
        name=name if name not in taken else _free_names(slugify(name) or "switch", 1, taken)[0],
    )
    node.save()
    return Switch.objects.create(
        fabric=fabric,
        node=node,
        name=name,
        role=role,
        ports=ports,
        port_speed_gbps=port_speed_gbps,
        uplink_ports=uplink_ports,
        rail=rail,
    )


@transaction.atomic
def switch_update(*, switch_id: int, **changes):
    """Change a switch: its network side (name, role, ports, speed, uplinks, rail), and its place and load (rack,
    U, height, power, weight: every rule runs again on the target rack, a fail raises PlacementRejected)."""
    from racks.models import Switch

    current = Switch.objects.filter(pk=switch_id).values("node__rack_id").first()
    if current is None:
        raise NotFound(f"Switch {switch_id} does not exist.")
    target = changes.get("rack", current["node__rack_id"])
    racks = _lock_budgets(sorted({current["node__rack_id"], target}))
    sw = Switch.objects.select_for_update().select_related("node__model").get(pk=switch_id)
    node, model = sw.node, sw.node.model
    ports = changes.get("ports", sw.ports)
    uplinks = changes.get("uplink_ports", sw.uplink_ports)
    if uplinks is not None and uplinks > ports:
        raise InvalidInput({"uplink_ports": ["Cannot exceed ports."]})
    renamed = "name" in changes and changes["name"] != sw.name
    if (
        renamed
        and Switch.objects.filter(fabric_id=sw.fabric_id, name__iexact=changes["name"]).exclude(pk=sw.pk).exists()
    ):
        raise InvalidInput({"name": ["This fabric already has a switch of that name."]})
    load = {k: changes[k] for k in ("u_height", "max_power_kw", "weight_kg") if k in changes}
    same = target == node.rack_id
    position = changes.get("u_position", node.u_position if same else None)
    moves = not same or position != node.u_position or any(getattr(model, k) != v for k, v in load.items())
    if moves:
        for k, v in load.items():
            setattr(model, k, v)
        model.typical_power_kw = model.max_power_kw
        placement = Placement(
            model=selectors.node_model_spec(model),
            quantity=1,
            u_position=position,
            exclude_node_ids=(node.id,) if same else (),
        )
        result = engine.check_placement(selectors.rack_context(target, rack=racks[target]), placement)
        if not result.ok:
            raise PlacementRejected(result)
        model.save()
        if not same:
            taken = set(Node.objects.filter(rack_id=target).values_list("name", flat=True))
            if node.name in taken:
                node.name = _free_names(node.name, 1, taken)[0]
        node.rack_id, node.u_position = target, result.positions[0]
        node.save()
    for k in ("name", "role", "ports", "port_speed_gbps", "uplink_ports", "rail"):
        if k in changes:
            setattr(sw, k, changes[k])
    sw.save()
    return sw


@transaction.atomic
def switch_delete(*, switch_id: int) -> None:
    """Remove a switch, its node and its rack-load model."""
    from racks.models import Switch

    rack_id = Switch.objects.filter(pk=switch_id).values_list("node__rack_id", flat=True).first()
    if rack_id is None:
        raise NotFound(f"Switch {switch_id} does not exist.")
    _lock_budgets([rack_id])
    sw = Switch.objects.select_related("node__model").get(pk=switch_id)
    node, model = sw.node, sw.node.model
    node.delete()  # cascades to the switch row
    if not model.nodes.exists():
        model.delete()
