"""Bulk writes of the reference data (issue 16): a row of racks from a template, a rack cloned with its PDUs,
bulk edit and bulk delete from the lists.

Every service is keyword-only and runs in one transaction: it locks the sites it touches (``lock_sites``, the
order every writer locks in), validates each object through the model (``full_clean``: validators, ``clean()``
and constraints, as the API and the forms do), and refuses the whole batch on the first bad item (nothing is
written). Edits and deletes that change capacity re-run the engine on the site before and after, inside the
transaction: a batch that makes a rack with nodes fail a rule it passed is refused unless ``confirm``; a delete
that takes nodes with it names them and needs ``confirm`` too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, ProtectedError, Q, RestrictedError
from django.db.models.functions import Lower

from planner import engine, selectors
from planner.services import Conflict, DeleteNotConfirmed, InvalidInput, NotFound
from racks.models import Node, Pdu, PowerSource, Rack, Row, Site, lock_sites

MAX_ROW_RACKS = 200  # racks one row-create may add (a long row is about 30; configuration, not a spec)
MAX_BULK_OBJECTS = 1000  # objects one bulk edit or delete may touch (as the API's bulk lists, MAX_ITEMS)
CONFIRM_WORDS = {"1", "true", "yes", "on"}


def _confirmed(confirm) -> bool:
    return str(confirm).lower() in CONFIRM_WORDS


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


def _prefixed(prefix: str, exc: ValidationError) -> dict[str, list[str]]:
    return {f"{prefix}.{field}": msgs for field, msgs in _messages(exc).items()}


def rack_next_position(*, row_id: int) -> int:
    """The next free slot of a row: one past the highest position taken (1 in an empty row)."""
    top = Rack.objects.filter(row_id=row_id).aggregate(top=Max("position"))["top"]
    return (top or 0) + 1


@dataclass(frozen=True)
class PduTemplate:
    """One PDU per side of every new rack: ``sides`` ("A", "B" or both), and their electrical figures."""

    sides: tuple[str, ...] = ("A", "B")
    phases: int = 3
    voltage_v: float = 415.0
    current_a: float = 32.0
    power_factor: float = 1.0
    source_a_id: int | None = None
    source_b_id: int | None = None


def _locked_row(row_id: int) -> Row:
    lock_sites(Q(rooms__rows__id=row_id))
    try:
        return Row.objects.select_related("room__site").select_for_update(of=("self",)).get(pk=row_id)
    except Row.DoesNotExist:
        raise NotFound(f"Row {row_id} does not exist.") from None


def _rack_names(*, prefix: str, first_number: int, count: int, digits: int) -> list[str]:
    return [f"{prefix}{n:0{digits}d}" for n in range(first_number, first_number + count)]


@transaction.atomic
def racks_create_row(
    *,
    row_id: int,
    count: int,
    name_prefix: str,
    first_number: int = 1,
    digits: int = 2,
    first_position: int | None = None,
    u_height: int = 42,
    width_mm: float = 600.0,
    depth_mm: float = 1200.0,
    max_load_kg: float,
    empty_weight_kg: float,
    pdus: PduTemplate | None = None,
) -> list[Rack]:
    """Add ``count`` racks to a row in consecutive free positions (from ``first_position``, default the next free
    one), named ``name_prefix`` + number, each with one PDU per side of ``pdus``. Empty racks add no load, so
    no rule can newly fail; every rack and PDU is still validated by its model. All or nothing."""
    errors: dict[str, list[str]] = {}
    if not isinstance(count, int) or not 1 <= count <= MAX_ROW_RACKS:
        raise InvalidInput({"count": [f"Give 1 to {MAX_ROW_RACKS} racks."]})
    if not 1 <= digits <= 6:
        raise InvalidInput({"digits": ["Give 1 to 6 digits."]})
    if first_number < 0:
        raise InvalidInput({"first_number": ["Give a number from 0."]})
    row = _locked_row(row_id)
    start = first_position if first_position is not None else rack_next_position(row_id=row.pk)
    if start < 1:
        raise InvalidInput({"first_position": ["Positions start at 1."]})
    positions = list(range(start, start + count))
    names = _rack_names(prefix=name_prefix, first_number=first_number, count=count, digits=digits)
    taken_positions = set(Rack.objects.filter(row_id=row.pk, position__in=positions).values_list("position", flat=True))
    if taken_positions:
        errors["first_position"] = [
            f"Position{'s' if len(taken_positions) > 1 else ''} {', '.join(map(str, sorted(taken_positions)))} of "
            f"row {row.name} {'are' if len(taken_positions) > 1 else 'is'} taken; the next free one is "
            f"{rack_next_position(row_id=row.pk)}."
        ]
    taken_names = set(
        Rack.objects.filter(row_id=row.pk)
        .annotate(lower=Lower("name"))
        .filter(lower__in=[n.lower() for n in names])
        .values_list("name", flat=True)
    )
    if taken_names:
        errors["name_prefix"] = [f"Row {row.name} already has rack(s) named {', '.join(sorted(taken_names))}."]
    if errors:
        raise InvalidInput(errors)
    pdus = pdus or PduTemplate(sides=())
    sources = {}
    for side, source_id in (("A", pdus.source_a_id), ("B", pdus.source_b_id)):
        if source_id is not None and side in pdus.sides:
            source = PowerSource.objects.filter(pk=source_id).first()
            if source is None:
                errors[f"source_{side.lower()}"] = [f"Power source {source_id} does not exist."]
            sources[side] = source
    if errors:
        raise InvalidInput(errors)
    created: list[Rack] = []
    for i, (name, position) in enumerate(zip(names, positions, strict=True)):
        rack = Rack(
            row=row,
            name=name,
            position=position,
            u_height=u_height,
            width_mm=width_mm,
            depth_mm=depth_mm,
            max_load_kg=max_load_kg,
            empty_weight_kg=empty_weight_kg,
        )
        try:
            rack.full_clean()
        except ValidationError as exc:
            raise InvalidInput(_prefixed(f"racks.{i}", exc) if i else _messages(exc)) from None
        rack.save()
        for side in pdus.sides:
            pdu = Pdu(
                rack=rack,
                name=f"PDU-{side}",
                side=side,
                phases=pdus.phases,
                voltage_v=pdus.voltage_v,
                current_a=pdus.current_a,
                power_factor=pdus.power_factor,
                source=sources.get(side),
            )
            try:
                pdu.full_clean()
            except ValidationError as exc:
                raise InvalidInput(_prefixed(f"pdu_{side.lower()}", exc)) from None
            pdu.save()
        created.append(rack)
    return created


@transaction.atomic
def rack_clone(*, rack_id: int, name: str | None = None, row_id: int | None = None, position: int | None = None):
    """A copy of a rack (its frame figures and PDUs, fed from the same sources) in ``row_id`` (default its own
    row, of the same site) at ``position`` (default the next free one), named ``name`` (default ``<name>-copy``,
    ``-copy-2``...). Nodes are not copied: an empty rack adds no load."""
    original = Rack.objects.select_related("row__room").filter(pk=rack_id).first()
    if original is None:
        raise NotFound(f"Rack {rack_id} does not exist.")
    target = _locked_row(row_id if row_id is not None else original.row_id)
    if target.room.site_id != original.row.room.site_id:
        raise InvalidInput({"row": ["Clone into a row of the same site: the PDUs keep their power sources."]})
    existing = {n.lower() for n in Rack.objects.filter(row_id=target.pk).values_list("name", flat=True)}
    if not name:
        name, n = f"{original.name}-copy", 1
        while name.lower() in existing:
            n += 1
            name = f"{original.name}-copy-{n}"
    clone = Rack(
        row=target,
        name=name,
        position=position if position is not None else rack_next_position(row_id=target.pk),
        u_height=original.u_height,
        width_mm=original.width_mm,
        depth_mm=original.depth_mm,
        max_load_kg=original.max_load_kg,
        empty_weight_kg=original.empty_weight_kg,
    )
    try:
        clone.full_clean()
    except ValidationError as exc:
        raise InvalidInput(_messages(exc)) from None
    clone.save()
    for pdu in Pdu.objects.filter(rack_id=original.pk).order_by("side", "name"):
        Pdu.objects.create(
            rack=clone,
            name=pdu.name,
            side=pdu.side,
            phases=pdu.phases,
            voltage_v=pdu.voltage_v,
            current_a=pdu.current_a,
            power_factor=pdu.power_factor,
            source_id=pdu.source_id,
        )
    return clone


# ---- bulk edit and delete -------------------------------------------------------------------------------------

SITE_PATH = {  # model -> lookup from the model to its site id (for the locks and the engine re-run)
    "Site": "pk",
    "Room": "site_id",
    "Row": "room__site_id",
    "Rack": "row__room__site_id",
    "PowerSource": "site_id",
    "Pdu": "rack__row__room__site_id",
    "CoolingLoop": "site_id",
}
NODE_PATH = {  # model -> Node lookup reaching it (deleting it deletes those nodes)
    "Site": "rack__row__room__site",
    "Room": "rack__row__room",
    "Row": "rack__row",
    "Rack": "rack",
    "NodeModel": "model",
}


def _site_ids(model, ids) -> list[int]:
    path = SITE_PATH.get(model.__name__)
    if path is None:  # node models: every site that uses one
        if model.__name__ == "NodeModel":
            return sorted(set(Node.objects.filter(model_id__in=ids).values_list("rack__row__room__site_id", flat=True)))
        return []
    return sorted(set(model.objects.filter(pk__in=ids).values_list(path, flat=True)))


def _failing(site_ids) -> dict[int, tuple[str, set[str]]]:
    """Rack id -> (name, failing rule codes) for every rack with nodes of these sites, from one snapshot each."""
    out: dict[int, tuple[str, set[str]]] = {}
    for site_id in site_ids:
        if not Site.objects.filter(pk=site_id).exists():
            continue
        snapshot = selectors.site_snapshot(site_id)
        for rack in snapshot.racks:
            ctx = snapshot.contexts[rack.id]
            if ctx.nodes:
                out[rack.id] = (rack.name, set(engine.check_rack(ctx).failing))
    return out


def _newly_failing(before, after) -> list[str]:
    lines = []
    for rack_id, (name, codes) in sorted(after.items(), key=lambda kv: kv[1][0]):
        new = codes - before.get(rack_id, ("", set()))[1]
        if new:
            lines.append(f"{name}: {', '.join(sorted(new))}")
    return lines


class CapacityLoss(Conflict):
    """A bulk edit or delete would make racks with nodes fail rules they pass now (409 unless confirmed)."""


def _objects(model, ids) -> list:
    ids = sorted({int(i) for i in ids})
    if not ids:
        raise InvalidInput({"ids": ["Select at least one object."]})
    if len(ids) > MAX_BULK_OBJECTS:
        raise InvalidInput({"ids": [f"At most {MAX_BULK_OBJECTS} objects at once ({len(ids)} selected)."]})
    objects = list(model.objects.filter(pk__in=ids).order_by("pk"))
    missing = sorted(set(ids) - {o.pk for o in objects})
    if missing:
        raise NotFound(f"{model._meta.verbose_name} {', '.join(map(str, missing))} do(es) not exist.")
    return objects


def _lock(model, ids) -> list[int]:
    site_ids = _site_ids(model, ids)
    if site_ids:
        lock_sites(Q(pk__in=site_ids))
    return site_ids


@transaction.atomic
def objects_bulk_update(*, model, ids, changes: dict, allowed: tuple[str, ...], confirm=False) -> list:
    """Set ``changes`` (field -> value, only ``allowed`` fields) on every object of ``ids``, each validated by
    its model; refused whole on the first bad one. If racks with nodes would newly fail a rule, refused (409,
    naming them) unless ``confirm``."""
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise InvalidInput({f: ["This field cannot be edited in bulk."] for f in unknown})
    if not changes:
        raise InvalidInput({"changes": ["Give at least one field to change."]})
    objects = _objects(model, ids)
    site_ids = _lock(model, [o.pk for o in objects])
    before = _failing(site_ids)
    for obj in objects:
        for field, value in changes.items():
            setattr(obj, field, value)
        try:
            obj.full_clean()
        except ValidationError as exc:
            raise InvalidInput({f"{obj}.{f}": msgs for f, msgs in _messages(exc).items()}) from None
        obj.save()
    lost = _newly_failing(before, _failing(site_ids))
    if lost and not _confirmed(confirm):
        raise CapacityLoss(
            {
                "detail": f"Nothing changed: {len(lost)} rack(s) with nodes would fail rules they pass now "
                f"({'; '.join(lost[:10])}{'; ...' if len(lost) > 10 else ''}). Confirm to apply anyway.",
                "code": "capacity_lost",
                "racks": lost,
            }
        )
    return objects


def bulk_delete_impact(*, model, ids) -> dict:
    """What deleting these objects takes with it: nodes per object (``name -> count``), in two queries."""
    path = NODE_PATH.get(model.__name__)
    objects = _objects(model, ids)
    counts = {}
    if path is not None:
        rows = Node.objects.filter(**{f"{path}__in": [o.pk for o in objects]}).values(path).annotate(n=Count("pk"))
        counts = {r[path]: r["n"] for r in rows}
    return {"objects": objects, "nodes": {str(o): counts.get(o.pk, 0) for o in objects if counts.get(o.pk)}}


@transaction.atomic
def objects_bulk_delete(*, model, ids, confirm=False) -> int:
    """Delete every object of ``ids`` in one transaction. Refused (409, nothing deleted) unless ``confirm`` when
    they hold nodes (named with their counts) or when the remaining racks with nodes would newly fail a rule
    (a PDU, source or loop taken away). Returns how many objects were deleted."""
    impact = bulk_delete_impact(model=model, ids=ids)
    objects = impact["objects"]
    if model.__name__ == "NodeModel" and impact["nodes"]:
        raise Conflict({"detail": "Only node models no node uses can be deleted.", "code": "protected"})
    total = sum(impact["nodes"].values())
    if total and not _confirmed(confirm):
        listing = ", ".join(f"{name} ({n})" for name, n in list(impact["nodes"].items())[:10])
        raise DeleteNotConfirmed(
            {
                "detail": f"Deleting these {len(objects)} object(s) deletes {total} node(s) with them: {listing}. "
                "Confirm to proceed.",
                "node_count": total,
                "nodes": impact["nodes"],
            }
        )
    site_ids = _lock(model, [o.pk for o in objects])
    before = _failing(site_ids) if model.__name__ not in {"Site", "Rack", "Row", "Room"} else {}
    try:
        for obj in objects:
            obj.delete()
    except (ProtectedError, RestrictedError) as exc:
        used = getattr(exc, "protected_objects", None) or exc.restricted_objects
        names = sorted({str(o) for o in list(used)[:10]})
        raise Conflict(
            {"detail": f"Still in use by {', '.join(names)}; remove or repoint those first.", "code": "in_use"}
        ) from None
    if before:
        lost = _newly_failing(before, _failing(site_ids))
        if lost and not _confirmed(confirm):
            raise CapacityLoss(
                {
                    "detail": f"Nothing deleted: {len(lost)} rack(s) with nodes would fail rules they pass now "
                    f"({'; '.join(lost[:10])}). Confirm to delete anyway.",
                    "code": "capacity_lost",
                    "racks": lost,
                }
            )
    return len(objects)
