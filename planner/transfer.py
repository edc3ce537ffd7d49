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

Import runs in one transaction and validates every record with the API serializer of its resource; every node
is judged by the engine's placement rules on the context ``planner.services`` would build (``as_is`` skips the
rules: superusers and the command line only). Racks, PDUs and nodes are then written in bulk, each with its
audit-history row (a 2,500-rack site in seconds, not the minutes a query per rule took); see ``_NodePlacer``
for why the result is the same as placing them one by one. Any invalid record aborts the whole import with
:class:`ImportFailed`, which carries the record's path (``rooms[0].rows[1].racks[2].nodes[0]``) and its
errors; nothing is written.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.validators import UniqueTogetherValidator, UniqueValidator
from simple_history.utils import bulk_create_with_history

from cooling.models import CoolingLoop
from planner import budget_tokens, engine, selectors, services
from planner.api import serializers as s
from planner.engine.flow import rack_heat_kw
from planner.engine.inputs import PlacedNode, Placement
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


ProgressCallback = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: called while an import runs (``done`` of ``total`` work units)."""

# Records written per INSERT when racks, PDUs and nodes are created in bulk.
BATCH_SIZE = 500
PHASE_CHECKING = "checking"
PHASE_RACKS = "racks"
PHASE_NODES = "nodes"
PHASE_SAVING = "saving"


def _count_work(doc: dict) -> tuple[int, int]:
    """(racks, nodes) in the document, counted leniently (a malformed part counts as 0; validation says why)."""
    racks = nodes = 0
    for room in doc.get("rooms") or () if isinstance(doc.get("rooms"), list) else ():
        rows = room.get("rows") if isinstance(room, dict) else None
        for row in rows if isinstance(rows, list) else ():
            row_racks = row.get("racks") if isinstance(row, dict) else None
            for rack in row_racks if isinstance(row_racks, list) else ():
                racks += 1
                rack_nodes = rack.get("nodes") if isinstance(rack, dict) else None
                nodes += len(rack_nodes) if isinstance(rack_nodes, list) else 0
    return racks, nodes


class _Checker:
    """Validates many records of one kind with one API serializer instance, for the records written in bulk.

    The serializer's own fields, ``validate()`` and field validators all run, as for ``_save``; what differs
    is what costs a query per record and checks nothing the bulk write does not check again: parents given
    by id are taken from ``known`` (the rows this import just wrote) instead of being fetched, and uniqueness
    is left to the database's unique constraints, whose refusal makes ``_bulk_create`` save the batch one by
    one through ``_save``, so the error names the record just as before.
    """

    def __init__(self, serializer_class, known: dict[str, dict]):
        self.serializer = serializer_class(data={})
        fields = self.serializer.fields
        for name, objects in known.items():
            fields[name] = _KnownRelatedField(
                objects, queryset=fields[name].queryset, allow_null=fields[name].allow_null
            )
        for fld in fields.values():
            fld.validators = [v for v in fld.validators if not isinstance(v, UniqueValidator)]
        self.serializer.validators = [
            v for v in self.serializer.get_validators() if not isinstance(v, UniqueTogetherValidator)
        ]

    def __call__(self, data: dict, path: str) -> dict:
        serializer = self.serializer
        for cached in ("_validated_data", "_errors", "_data"):
            serializer.__dict__.pop(cached, None)
        serializer.initial_data = data
        if not serializer.is_valid():
            raise ImportFailed(path, serializer.errors)
        return serializer.validated_data


class _KnownRelatedField(serializers.PrimaryKeyRelatedField):
    """A parent by id, from the rows this import wrote (falls back to the query for any other id)."""

    def __init__(self, objects: dict, **kwargs):
        self.objects = objects
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        found = self.objects.get(data) if isinstance(data, int) and not isinstance(data, bool) else None
        return found if found is not None else super().to_internal_value(data)


def _bulk_create(model, objs: list, *, history_user, fallback) -> list:
    """INSERT the objects in batches, each with its audit-history row (simple_history's bulk helper, which
    records the same "created" entry a ``save()`` would). A database refusal (two records of the document
    that clash with each other: serializer checks only see what is already written) rolls the batch back
    and ``fallback()`` saves the records one by one, so the error names the record that clashes."""
    if not objs:
        return objs
    try:
        with transaction.atomic():
            return bulk_create_with_history(objs, model, batch_size=BATCH_SIZE, default_user=history_user)
    except IntegrityError:
        fallback()
        raise  # the fallback raises ImportFailed for the clashing record; a refusal it cannot name stays an error


class _NodePlacer:
    """Places the document's nodes through the engine's placement rules, without a query per node.

    The site is new and not yet committed, so no other transaction can see it, let alone place into it:
    the locks ``services.nodes_place`` takes guard against nothing here. What must hold is that every node is
    judged on the same context the service would build. The service's context for a rack is "site budgets
    minus this rack's own share" plus the rack's nodes; here the budgets are loaded once (no nodes yet, the
    same selector code), a rack's nodes are kept in memory while its nodes are placed (its own share is
    then zero, so "other" is exactly the rest of the site), and when the rack is done its share is added to
    the totals with ``selectors.build_site_budgets`` over that one rack: the same heat and feed rules.
    """

    def __init__(self, site: Site):
        self.site = site
        self.budgets = selectors._load_site_budgets(site.pk)
        self.links = list(
            CoolingLoop.racks.through.objects.filter(coolingloop__site=site).values_list("coolingloop_id", "rack_id")
        )
        self.rows: dict[int, Row] = {}
        self.rooms: dict[int, Room] = {}
        self.row_specs: dict[int, object] = {}
        self.pdus: dict[int, list] = defaultdict(list)
        self.specs: dict[int, object] = {}

    def add_rack(self, rack: Rack, row: Row, room: Room, pdus: list[Pdu]) -> None:
        self.rows[rack.pk], self.rooms[rack.pk] = row, room
        if row.pk not in self.row_specs:
            self.row_specs[row.pk] = selectors._row_spec(row)
        self.pdus[rack.pk] = sorted((selectors._pdu_spec(p) for p in pdus), key=lambda p: (p.side, p.name))

    def _spec(self, model: NodeModel):
        spec = self.specs.get(model.pk)
        if spec is None:
            spec = self.specs[model.pk] = selectors.node_model_spec(model)
        return spec

    def place(self, rack: Rack, placed: list[PlacedNode], model: NodeModel, u_position: int | None):
        """The engine's verdict for one more node in ``rack``, whose nodes so far are ``placed``."""
        ctx = selectors.budget_context(
            self.budgets,
            site=self.site,
            room=self.rooms[rack.pk],
            row_spec=self.row_specs[self.rows[rack.pk].pk],
            rack=rack,
            nodes=placed,
            pdus=self.pdus[rack.pk],
        )
        return engine.check_placement(ctx, Placement(model=self._spec(model), quantity=1, u_position=u_position))

    def rack_done(self, rack: Rack, placed: list[PlacedNode]) -> None:
        """Add the finished rack's load to the site's totals, as ``_load_site_budgets`` would count it."""
        if not placed:
            return
        b = self.budgets
        listed = b.loops_by_rack.get(rack.pk, frozenset())
        # Only the loops that can serve this rack (listing it, or listing no rack); the links of those loops
        # in full, so each loop's ``n_racks`` is recomputed to the value it has.
        loops = [lp for lp in b.loops if lp.id in listed or lp.n_racks == 0]
        links = [link for link in self.links if link[0] in listed]
        power_kw, heat_kw, liquid_kw = rack_heat_kw((n.model, 1) for n in placed)
        one = selectors.build_site_budgets(
            sources=b.sources,
            loops=loops,
            links=links,
            rack_loads=[(rack.pk, self.rooms[rack.pk].pk, power_kw, liquid_kw, heat_kw)],
            pdu_sources=[(rack.pk, p.source_id) for p in self.pdus[rack.pk]],
            rack_air=[(rack.pk, *selectors.rack_air_inputs((n.model, 1) for n in placed))],
        )
        b.shares[rack.pk] = one.shares[rack.pk]
        b.rack_airflow_cfm[rack.pk] = one.rack_airflow_cfm.get(rack.pk, 0.0)
        for total, part in (
            (b.room_air_heat_kw, one.room_air_heat_kw),
            (b.source_kw, one.source_kw),
            (b.loop_liquid_heat_kw, one.loop_liquid_heat_kw),
            (b.room_airflow_cfm, one.room_airflow_cfm),
            (b.room_airflow_unknown, one.room_airflow_unknown),
        ):
            for key, kw in part.items():
                total[key] = total.get(key, 0.0) + kw
        self.budgets = dataclasses.replace(b, site_kw=b.site_kw + one.site_kw)


def _check_node(check: _Checker, data: dict, rack: Rack, models: dict[str, NodeModel], path: str) -> dict:
    model_slug = data.get("model")
    if not isinstance(model_slug, str) or model_slug not in models:
        raise ImportFailed(path, {"model": ["Give the node model by slug, one listed in node_models."]})
    return check({**data, "rack": rack.pk, "model": models[model_slug].pk}, path)


def _node_nodes(
    jobs: list[tuple[dict, object, Rack, str]],
    models: dict[str, NodeModel],
    placer: _NodePlacer | None,
    tick: Callable[[], None],
) -> list[Node]:
    """The document's nodes as unsaved Node rows, each judged by the placement rules (``placer``) or, when
    ``placer`` is None (as is), only by its own record and free space in the document's own terms."""
    nodes: list[Node] = []
    known_racks = {job[2].pk: job[2] for job in jobs}
    check = _Checker(s.NodeSerializer, {"rack": known_racks, "model": {m.pk: m for m in models.values()}})
    for rack, group in itertools.groupby(jobs, key=lambda job: job[2]):
        placed: list[PlacedNode] = []
        taken: set[str] = set()
        for data, stamp, _rack, path in group:
            when = _created_at(stamp, path)
            valid = _check_node(check, data, rack, models, path)
            model = valid["model"]
            u_position = valid.get("u_position")
            name = valid.get("name") or None
            if placer is None:
                if u_position is None:
                    raise ImportFailed(path, {"u_position": ["Required when importing as is."]})
                name = name or f"{model.slug}-{u_position}"
            else:
                result = placer.place(rack, placed, model, u_position)
                if not result.ok:
                    failing = [c.code for c in result.checks if c.status == "fail"]
                    raise ImportFailed(
                        path,
                        {"checks": [c.to_dict() for c in result.checks if c.status == "fail"]},
                        detail=f"The node at {path} breaks the placement rules here: "
                        f"Placement breaks: {', '.join(failing)}.",
                    )
                u_position = result.positions[0]
                if name is not None and name in taken:
                    raise ImportFailed(path, {"name": [f'Rack {rack} already has a node named "{name}".']})
                if name is None:
                    name = services._free_names(model.slug, 1, taken)[0]
            taken.add(name)
            placed.append(PlacedNode(model=placer._spec(model) if placer else None, u_position=u_position, name=name))
            node = Node(
                rack=rack,
                model=model,
                u_position=u_position,
                name=name,
                status=valid.get("status", Node.Status.PLANNED),
            )
            node._import_created_at = when
            node._import_path = path
            nodes.append(node)
            tick()
        if placer is not None:
            placer.rack_done(rack, placed)
    return nodes


def import_site(
    doc,
    *,
    name: str | None = None,
    slug: str | None = None,
    as_is: bool = False,
    progress: ProgressCallback | None = None,
    history_user=None,
) -> ImportResult:
    """Create a new site from an export document. All or nothing: raises ImportFailed on the first bad record.

    ``progress(phase, done, total)`` is called as racks and nodes are written (``total`` = racks + nodes + 1
    for the final write); it must write outside this transaction to be seen before the import commits.
    ``history_user`` is recorded on the audit-history rows written in bulk (racks, PDUs, nodes).
    """
    _need(doc, dict, "$")
    if doc.get("format") != FORMAT:
        raise ImportFailed("format", {"format": [f'Expected "{FORMAT}".']}, detail="Not a site export document.")
    if doc.get("version") != VERSION:
        raise ImportFailed("version", {"version": [f"Only version {VERSION} can be imported."]})
    unknown = sorted(set(doc) - TOP_KEYS)
    if unknown:
        raise ImportFailed("$", {key[:100]: ["Unknown field."] for key in unknown[:20]})
    n_racks, n_nodes = _count_work(doc)
    total = n_racks + n_nodes + 1
    done = 0

    def report(phase: str) -> None:
        if progress is not None:
            progress(phase, done, total)

    def tick(phase: str) -> None:
        nonlocal done
        done += 1
        report(phase)

    counts: dict[str, int] = defaultdict(int)
    report(PHASE_CHECKING)
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
        rack_pdus: list[tuple[Rack, Row, Room, list[Pdu]]] = []
        known_rows: dict[int, Row] = {}
        known_racks: dict[int, Rack] = {}
        checks = {
            Rack: _Checker(s.RackSerializer, {"row": known_rows}),
            Pdu: _Checker(s.PduSerializer, {"rack": known_racks, "source": {src.pk: src for src in sources.values()}}),
        }
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
                known_rows[row.pk] = row
                _write_row_racks(
                    row_rec,
                    row_path,
                    row,
                    room,
                    sources,
                    history_user,
                    checks,
                    known_racks,
                    rack_ids,
                    node_jobs,
                    rack_pdus,
                )
                for _ in range(len(_items(row_rec, "racks", row_path))):
                    tick(PHASE_RACKS)
        counts["racks"] = len(rack_ids)
        counts["pdus"] = sum(len(pdus) for *_, pdus in rack_pdus)

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
        placer = None
        if not as_is:
            placer = _NodePlacer(site)
            for rack, row, room, pdus in rack_pdus:
                placer.add_rack(rack, row, room, pdus)
        nodes = _node_nodes(node_jobs, models, placer, lambda: tick(PHASE_NODES))
        report(PHASE_SAVING)

        def one_by_one():
            for node in nodes:
                try:
                    with transaction.atomic():
                        node.save()
                except IntegrityError as exc:
                    raise ImportFailed(
                        node._import_path, {"non_field_errors": [f"Refused by a database constraint: {exc}"]}
                    ) from None

        _bulk_create(Node, nodes, history_user=history_user, fallback=one_by_one)
        counts["nodes"] = len(nodes)
        dated = []
        for node in nodes:
            if node._import_created_at is not None:
                node.created_at = node._import_created_at  # the original placement date, not the day of the import
                dated.append(node)
        Node.objects.bulk_update(dated, ["created_at"], batch_size=BATCH_SIZE)
        # Racks, PDUs and nodes were written in bulk (no signals): renew the new site's budget token once.
        budget_tokens.touch_sites(Q(pk=site.pk))
        tick(PHASE_SAVING)
    return ImportResult(site=site, counts=dict(counts), created_models=created_models)


def _write_row_racks(
    row_rec, row_path, row, room, sources, history_user, checks, known_racks, rack_ids, node_jobs, rack_pdus
) -> None:
    """One row's racks and their PDUs: each record validated by its API serializer, then written in bulk."""
    records = _items(row_rec, "racks", row_path)
    racks: list[Rack] = []
    for k, rack_rec in enumerate(records):
        rack_path = f"{row_path}.racks[{k}]"
        rack_data = _plain(rack_rec, rack_path, RACK_FIELDS, ("pdus", "nodes"))
        racks.append(Rack(**checks[Rack]({**rack_data, "row": row.pk}, rack_path)))

    def racks_one_by_one():
        for k, rack_rec in enumerate(records):
            rack_path = f"{row_path}.racks[{k}]"
            _save(
                s.RackSerializer,
                {**_plain(rack_rec, rack_path, RACK_FIELDS, ("pdus", "nodes")), "row": row.pk},
                rack_path,
            )

    racks = _bulk_create(Rack, racks, history_user=history_user, fallback=racks_one_by_one)
    known_racks.update((rack.pk, rack) for rack in racks)
    pdus: list[Pdu] = []
    pdu_records: list[tuple[dict, str]] = []
    for k, (rack_rec, rack) in enumerate(zip(records, racks, strict=True)):
        rack_path = f"{row_path}.racks[{k}]"
        rack_ids[(room.name, row.name, rack.name)] = rack
        own: list[Pdu] = []
        for m, pdu_rec in enumerate(_items(rack_rec, "pdus", rack_path)):
            pdu_path = f"{rack_path}.pdus[{m}]"
            pdu_data = _plain(pdu_rec, pdu_path, PDU_FIELDS, ("source",))
            source = pdu_rec.get("source")
            if source is not None and (not isinstance(source, str) or source not in sources):
                raise ImportFailed(pdu_path, {"source": ["Give a power source of this document by name, or null."]})
            pdu_data["source"] = sources[source].pk if source is not None else None
            pdu_data["rack"] = rack.pk
            pdu_records.append((pdu_data, pdu_path))
            own.append(Pdu(**checks[Pdu](pdu_data, pdu_path)))
        pdus.extend(own)
        rack_pdus.append((rack, row, room, own))
        for m, node_rec in enumerate(_items(rack_rec, "nodes", rack_path)):
            node_path = f"{rack_path}.nodes[{m}]"
            node_data = _plain(node_rec, node_path, NODE_FIELDS, ("model", "created_at"))
            node_data["model"] = node_rec.get("model")
            node_jobs.append((node_data, node_rec.get("created_at"), rack, node_path))

    def pdus_one_by_one():
        for data, path in pdu_records:
            _save(s.PduSerializer, data, path)

    _bulk_create(Pdu, pdus, history_user=history_user, fallback=pdus_one_by_one)
