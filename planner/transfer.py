"""Site export and import: a whole site as one JSON document, and back, with nothing lost.

The document names things instead of numbering them, so it is the same whatever ids the rows have here or
elsewhere, and two exports of equal sites are equal (apart from the site's name, slug and ``exported_at``):

- the site's own fields;
- ``node_models``: every model the site's nodes use, all fields (catalogue or custom), by slug;
- ``power_sources``: each with its ``parent`` by name (parents first);
- ``rooms`` > ``rows`` > ``racks`` > ``pdus`` (``source`` by power-source name) and ``nodes`` (``model`` by
  slug, ``u_position``, ``name``, ``status``, ``created_at``);
- ``cooling_loops``: ``room`` by name, ``racks`` as ``[room, row, rack]`` names.

Every name used as a reference is unique where it is used (the models' unique constraints say so). Fields come
from the API serializers, so a field added to the contract is exported and imported without a change here.

Import runs in one transaction and validates every record with the API serializer of its resource; nodes are
placed through :mod:`planner.services`, so every placement rule holds (``as_is`` skips the rules: superusers
and the command line only). Any invalid record aborts the whole import with :class:`ImportFailed`, which
carries the record's path (``rooms[0].rows[1].racks[2].nodes[0]``) and its errors; nothing is written.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import APIException
from rest_framework.exceptions import ValidationError as DrfValidationError

from cooling.models import CoolingLoop
from planner import services
from planner.api import serializers as s
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site

FORMAT = "dc-capacity-planner/site"
VERSION = 1

# Keys that are not plain fields of a record: ids, parents (given by position in the document or by name),
# read-only figures the planner computes.
_NOT_EXPORTED = {"id", "usable_kw", "model_slug"}


def _fields(serializer_class, *, refs: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The serializer's fields minus ids, computed figures and the references handled by name."""
    return tuple(f for f in serializer_class.Meta.fields if f not in _NOT_EXPORTED and f not in refs)


SITE_FIELDS = _fields(s.SiteSerializer)
NODE_MODEL_FIELDS = _fields(s.NodeModelSerializer)
SOURCE_FIELDS = _fields(s.PowerSourceSerializer, refs=("site", "parent"))
ROOM_FIELDS = _fields(s.RoomSerializer, refs=("site",))
ROW_FIELDS = _fields(s.RowSerializer, refs=("room",))
RACK_FIELDS = _fields(s.RackSerializer, refs=("row",))
PDU_FIELDS = _fields(s.PduSerializer, refs=("rack", "source"))
LOOP_FIELDS = _fields(s.CoolingLoopSerializer, refs=("site", "room", "racks"))
NODE_FIELDS = _fields(s.NodeSerializer, refs=("rack", "model", "created_at"))

TOP_KEYS = {"format", "version", "exported_at", "site", "node_models", "power_sources", "rooms", "cooling_loops"}


class ImportFailed(Exception):
    """An import refused as a whole: ``path`` names the bad record, ``errors`` says what is wrong with it."""

    def __init__(self, path: str, errors, detail: str | None = None):
        self.path = path or "$"
        self.errors = errors
        self.detail = detail or f"Invalid record at {self.path}; nothing was imported."
        super().__init__(self.detail)

    @property
    def payload(self) -> dict:
        return {"detail": self.detail, "path": self.path, "errors": self.errors}


@dataclass
class ImportResult:
    site: Site
    counts: dict[str, int] = field(default_factory=dict)
    created_models: list[str] = field(default_factory=list)


# --- export -------------------------------------------------------------------------------------------------


def _value(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _record(obj, names: tuple[str, ...]) -> dict:
    return {name: _value(getattr(obj, name)) for name in names}


def _parents_first(sources: list[PowerSource]) -> list[PowerSource]:
    """Sources ordered so that each parent comes before its children (by name among equals)."""
    by_id = {src.id: src for src in sources}

    def depth(src: PowerSource) -> int:
        d, seen = 0, set()
        while src.parent_id in by_id and src.id not in seen:
            seen.add(src.id)
            src = by_id[src.parent_id]
            d += 1
        return d

    return sorted(sources, key=lambda src: (depth(src), src.name, src.id))


def export_site(site: Site) -> dict:
    """The whole site as a JSON-ready dict, in a fixed number of queries whatever its size."""
    rooms = list(Room.objects.filter(site=site).order_by("name", "id"))
    rows = list(Row.objects.filter(room__site=site).order_by("name", "id"))
    racks = list(Rack.objects.filter(row__room__site=site).order_by("position", "name", "id"))
    pdus = list(Pdu.objects.filter(rack__row__room__site=site).order_by("side", "name", "id"))
    nodes = list(Node.objects.filter(rack__row__room__site=site).select_related("model").order_by("u_position", "id"))
    sources = list(PowerSource.objects.filter(site=site))
    loops = list(CoolingLoop.objects.filter(site=site).order_by("name", "id"))
    loop_racks = defaultdict(list)
    for loop_id, rack_id in CoolingLoop.racks.through.objects.filter(coolingloop__site=site).values_list(
        "coolingloop_id", "rack_id"
    ):
        loop_racks[loop_id].append(rack_id)
    models = {n.model.slug: n.model for n in nodes}

    source_name = {src.id: src.name for src in sources}
    room_by_id = {room.id: room for room in rooms}
    row_by_id = {row.id: row for row in rows}
    rack_path = {
        rack.id: [room_by_id[row_by_id[rack.row_id].room_id].name, row_by_id[rack.row_id].name, rack.name]
        for rack in racks
    }

    pdus_by_rack, nodes_by_rack, racks_by_row, rows_by_room = (defaultdict(list) for _ in range(4))
    for pdu in pdus:
        pdus_by_rack[pdu.rack_id].append({**_record(pdu, PDU_FIELDS), "source": source_name.get(pdu.source_id)})
    for node in nodes:
        nodes_by_rack[node.rack_id].append(
            {"model": node.model.slug, **_record(node, NODE_FIELDS), "created_at": _value(node.created_at)}
        )
    for rack in racks:
        racks_by_row[rack.row_id].append(
            {**_record(rack, RACK_FIELDS), "pdus": pdus_by_rack[rack.id], "nodes": nodes_by_rack[rack.id]}
        )
    for row in rows:
        rows_by_room[row.room_id].append({**_record(row, ROW_FIELDS), "racks": racks_by_row[row.id]})

    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "site": _record(site, SITE_FIELDS),
        "node_models": [_record(models[slug], NODE_MODEL_FIELDS) for slug in sorted(models)],
        "power_sources": [
            {**_record(src, SOURCE_FIELDS), "parent": source_name.get(src.parent_id)} for src in _parents_first(sources)
        ],
        "rooms": [{**_record(room, ROOM_FIELDS), "rows": rows_by_room[room.id]} for room in rooms],
        "cooling_loops": [
            {
                **_record(loop, LOOP_FIELDS),
                "room": room_by_id[loop.room_id].name if loop.room_id in room_by_id else None,
                "racks": sorted(rack_path[rid] for rid in loop_racks[loop.id] if rid in rack_path),
            }
            for loop in loops
        ],
    }


# --- import -------------------------------------------------------------------------------------------------


def _need(value, kind: type, path: str):
    if not isinstance(value, kind):
        what = {dict: "an object", list: "a list", str: "a string"}.get(kind, kind.__name__)
        raise ImportFailed(path, {"non_field_errors": [f"Must be {what}."]})
    return value


def _plain(record, path: str, allowed: tuple[str, ...], nested: tuple[str, ...] = ()) -> dict:
    """The record's plain fields; unknown keys are refused (an import never drops data silently)."""
    _need(record, dict, path)
    unknown = sorted(set(record) - set(allowed) - set(nested))
    if unknown:
        raise ImportFailed(path, {key[:100]: ["Unknown field."] for key in unknown[:20]})
    return {key: record[key] for key in allowed if key in record}


def _items(record: dict, key: str, path: str) -> list:
    value = record.get(key, [])
    return _need(value, list, f"{path}.{key}" if path else key)


def _drf_errors(exc: APIException):
    return exc.detail if isinstance(exc.detail, (dict, list)) else {"non_field_errors": [str(exc.detail)]}


def _save(serializer_class, data: dict, path: str, *, instance=None):
    """Validate one record with the API serializer and save it (in a savepoint: a database refusal is caught)."""
    serializer = serializer_class(instance=instance, data=data)
    if not serializer.is_valid():
        raise ImportFailed(path, serializer.errors)
    try:
        with transaction.atomic():
            return serializer.save()
    except IntegrityError as exc:
        raise ImportFailed(path, {"non_field_errors": [f"Refused by a database constraint: {exc}"]}) from None


def _node_models(doc: dict) -> tuple[dict[str, NodeModel], list[str]]:
    """Node models of the document by slug: the existing one when its figures match, else a new one."""
    out: dict[str, NodeModel] = {}
    created: list[str] = []
    for i, record in enumerate(_items(doc, "node_models", "")):
        path = f"node_models[{i}]"
        data = _plain(record, path, NODE_MODEL_FIELDS)
        slug = data.get("slug")
        if not isinstance(slug, str) or not slug:
            raise ImportFailed(path, {"slug": ["This field is required."]})
        existing = NodeModel.objects.filter(slug=slug).first()
        if existing is None:
            out[slug] = _save(s.NodeModelSerializer, data, path)
            created.append(slug)
            continue
        # Same slug here: it must describe the same hardware, or the rules would judge other figures.
        checked = s.NodeModelSerializer(data=data)
        checked.fields["slug"].validators = []  # the slug exists by design; compare the figures instead
        if not checked.is_valid():
            raise ImportFailed(path, checked.errors)
        here = _record(existing, NODE_MODEL_FIELDS)
        theirs = {**here, **checked.validated_data}
        differ = {
            name: [f"Here {here[name]!r}, in the document {theirs[name]!r}."]
            for name in here
            if here[name] != theirs[name]
        }
        if differ:
            raise ImportFailed(
                path,
                differ,
                detail=f'Node model "{slug}" exists here with other figures ({path}); rename it in the document '
                "(slug) to import it as a new model, or align the figures. Nothing was imported.",
            )
        out[slug] = existing
    return out, created


def _power_sources(doc: dict, site: Site) -> dict[str, PowerSource]:
    records = _items(doc, "power_sources", "")
    pending: list[tuple[int, dict, str | None]] = []
    for i, record in enumerate(records):
        path = f"power_sources[{i}]"
        data = _plain(record, path, SOURCE_FIELDS, ("parent",))
        parent = record.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise ImportFailed(path, {"parent": ["Give the parent power source by name, or null."]})
        pending.append((i, data, parent))
    names = [data.get("name") for _, data, _ in pending]
    by_name: dict[str, PowerSource] = {}
    # Parents first whatever the order in the document; what never becomes ready has a missing parent or a loop.
    while pending:
        ready = [p for p in pending if p[2] is None or p[2] in by_name]
        if not ready:
            i, _, parent = pending[0]
            problem = "is part of a loop" if parent in names else "is not a power source of this document"
            raise ImportFailed(f"power_sources[{i}]", {"parent": [f'Parent "{parent[:100]}" {problem}.']})
        for item in ready:
            i, data, parent = item
            source = _save(
                s.PowerSourceSerializer,
                {**data, "site": site.pk, "parent": by_name[parent].pk if parent is not None else None},
                f"power_sources[{i}]",
            )
            by_name[source.name] = source
            pending.remove(item)
    return by_name


def _place_node(data: dict, rack: Rack, models: dict[str, NodeModel], path: str, as_is: bool) -> Node:
    model_slug = data.get("model")
    if not isinstance(model_slug, str) or model_slug not in models:
        raise ImportFailed(path, {"model": ["Give the node model by slug, one listed in node_models."]})
    checked = s.NodeSerializer(data={**data, "rack": rack.pk, "model": models[model_slug].pk})
    if not checked.is_valid():
        raise ImportFailed(path, checked.errors)
    valid = checked.validated_data
    if as_is:
        if valid.get("u_position") is None:
            raise ImportFailed(path, {"u_position": ["Required when importing as is."]})
        try:
            with transaction.atomic():
                return Node.objects.create(
                    rack=rack,
                    model=valid["model"],
                    u_position=valid["u_position"],
                    name=valid.get("name") or f"{model_slug}-{valid['u_position']}",
                    status=valid.get("status", Node.Status.PLANNED),
                )
        except IntegrityError as exc:
            raise ImportFailed(path, {"non_field_errors": [f"Refused by a database constraint: {exc}"]}) from None
    try:
        return services.node_create(
            rack_id=rack.pk,
            model_id=valid["model"].pk,
            u_position=valid.get("u_position"),
            name=valid.get("name") or None,
            status=valid.get("status", Node.Status.PLANNED),
        )
    except services.PlacementRejected as exc:
        failing = [c.to_dict() if hasattr(c, "to_dict") else c for c in exc.payload.get("checks", [])]
        raise ImportFailed(
            path,
            {"checks": [c for c in failing if isinstance(c, dict) and c.get("status") == "fail"]},
            detail=f"The node at {path} breaks the placement rules here: {exc}",
        ) from None
    except (services.Conflict, DrfValidationError) as exc:
        errors = exc.payload if isinstance(exc, services.Conflict) else _drf_errors(exc)
        raise ImportFailed(path, errors) from None


def _created_at(value, path: str):
    if value is None:
        return None
    try:
        when = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None:
        raise ImportFailed(path, {"created_at": ["Give an ISO 8601 date and time, or leave it out."]})
    return when if timezone.is_aware(when) else timezone.make_aware(when, datetime.UTC)


def import_site(doc, *, name: str | None = None, slug: str | None = None, as_is: bool = False) -> ImportResult:
    """Create a new site from an export document. All or nothing: raises ImportFailed on the first bad record."""
    _need(doc, dict, "$")
    if doc.get("format") != FORMAT:
        raise ImportFailed("format", {"format": [f'Expected "{FORMAT}".']}, detail="Not a site export document.")
    if doc.get("version") != VERSION:
        raise ImportFailed("version", {"version": [f"Only version {VERSION} can be imported."]})
    unknown = sorted(set(doc) - TOP_KEYS)
    if unknown:
        raise ImportFailed("$", {key[:100]: ["Unknown field."] for key in unknown[:20]})
    counts: dict[str, int] = defaultdict(int)
    with transaction.atomic():
        models, created_models = _node_models(doc)
        site_data = _plain(doc.get("site"), "site", SITE_FIELDS)
        if name is not None:
            site_data["name"] = name
        if slug is not None:
            site_data["slug"] = slug
        site = _save(s.SiteSerializer, site_data, "site")
        sources = _power_sources(doc, site)
        counts["power_sources"] = len(sources)

        rack_ids: dict[tuple, Rack] = {}
        room_ids: dict[str, Room] = {}
        node_jobs: list[tuple[dict, object, Rack, str]] = []
        for i, room_rec in enumerate(_items(doc, "rooms", "")):
            room_path = f"rooms[{i}]"
            room = _save(
                s.RoomSerializer, {**_plain(room_rec, room_path, ROOM_FIELDS, ("rows",)), "site": site.pk}, room_path
            )
            room_ids[room.name] = room
            counts["rooms"] += 1
            for j, row_rec in enumerate(_items(room_rec, "rows", room_path)):
                row_path = f"{room_path}.rows[{j}]"
                row = _save(
                    s.RowSerializer, {**_plain(row_rec, row_path, ROW_FIELDS, ("racks",)), "room": room.pk}, row_path
                )
                counts["rows"] += 1
                for k, rack_rec in enumerate(_items(row_rec, "racks", row_path)):
                    rack_path = f"{row_path}.racks[{k}]"
                    rack_data = _plain(rack_rec, rack_path, RACK_FIELDS, ("pdus", "nodes"))
                    rack = _save(s.RackSerializer, {**rack_data, "row": row.pk}, rack_path)
                    rack_ids[(room.name, row.name, rack.name)] = rack
                    counts["racks"] += 1
                    for m, pdu_rec in enumerate(_items(rack_rec, "pdus", rack_path)):
                        pdu_path = f"{rack_path}.pdus[{m}]"
                        pdu_data = _plain(pdu_rec, pdu_path, PDU_FIELDS, ("source",))
                        source = pdu_rec.get("source")
                        if source is not None and (not isinstance(source, str) or source not in sources):
                            raise ImportFailed(
                                pdu_path, {"source": ["Give a power source of this document by name, or null."]}
                            )
                        pdu_data["source"] = sources[source].pk if source is not None else None
                        _save(s.PduSerializer, {**pdu_data, "rack": rack.pk}, pdu_path)
                        counts["pdus"] += 1
                    for m, node_rec in enumerate(_items(rack_rec, "nodes", rack_path)):
                        node_path = f"{rack_path}.nodes[{m}]"
                        node_data = _plain(node_rec, node_path, NODE_FIELDS, ("model", "created_at"))
                        node_data["model"] = node_rec.get("model")
                        node_jobs.append((node_data, node_rec.get("created_at"), rack, node_path))

        for i, loop_rec in enumerate(_items(doc, "cooling_loops", "")):
            path = f"cooling_loops[{i}]"
            data = _plain(loop_rec, path, LOOP_FIELDS, ("room", "racks"))
            room_name = loop_rec.get("room")
            if room_name is not None and (not isinstance(room_name, str) or room_name not in room_ids):
                raise ImportFailed(path, {"room": ["Give a room of this document by name, or null."]})
            served = []
            for n, ref in enumerate(_items(loop_rec, "racks", path)):
                key = tuple(ref) if isinstance(ref, list) and len(ref) == 3 else None
                if key not in rack_ids:
                    raise ImportFailed(f"{path}.racks[{n}]", {"racks": ["Give a rack as [room, row, rack] names."]})
                served.append(rack_ids[key].pk)
            data.update(site=site.pk, room=room_ids[room_name].pk if room_name is not None else None, racks=served)
            _save(s.CoolingLoopSerializer, data, path)
            counts["cooling_loops"] += 1

        # Nodes last: the rules see the whole site's power chain, PDUs and cooling.
        dated: list[Node] = []
        for data, stamp, rack, path in node_jobs:
            when = _created_at(stamp, path)
            node = _place_node(data, rack, models, path, as_is)
            counts["nodes"] += 1
            if when is not None:
                node.created_at = when  # the original placement date, not the day of the import
                dated.append(node)
        Node.objects.bulk_update(dated, ["created_at"], batch_size=500)
    return ImportResult(site=site, counts=dict(counts), created_models=created_models)
