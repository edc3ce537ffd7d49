"""Services: every write that must obey the placement rules.

Each service runs in one transaction, locks what it draws on (site, its power sources and cooling loops,
the rack and its PDUs) with SELECT ... FOR UPDATE in a fixed order, re-runs the engine on the locked state,
and writes only if every rule passes. Two concurrent placements therefore cannot both take the last
headroom: the second waits for the first lock, then sees the first one's node.
"""

from __future__ import annotations

from django.db import transaction
from rest_framework.exceptions import NotFound, ValidationError

from cooling.models import CoolingLoop
from planner import engine, selectors
from planner.engine.inputs import Placement
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Site


class Conflict(Exception):
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
        raise ValidationError({"rack": [f"Rack {sorted(missing)[0]} does not exist."]})
    return racks


def _get_model(model_id: int) -> NodeModel:
    try:
        return NodeModel.objects.get(pk=model_id)
    except NodeModel.DoesNotExist:
        raise ValidationError({"model": [f"Node model {model_id} does not exist."]}) from None


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
        raise ValidationError({"quantity": ["Must be at least 1."]})
    if name is not None and quantity != 1:
        raise ValidationError({"name": ["A name can be given only when placing one unit."]})
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
        raise ValidationError({"name": [f'Rack {racks[rack_id]} already has a node named "{name}".']})
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
            raise ValidationError({"name": [f'This rack already has a node named "{name}".']})
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
