"""Write a NetBox import: one transaction, locks in a fixed order, the engine re-run on the result.

Matching: every imported object keeps its NetBox id (``netbox_id``; the site also the NetBox URL), so a
second import updates what came from NetBox and nothing else. Fields NetBox holds are NetBox's; fields it
does not hold (floor ratings, containment, cooling, panel and UPS capacity, a rack's weights when NetBox has
none) are ours and a re-import never touches them. Nothing is ever deleted: an object that came from
NetBox and is gone from it is listed under ``kept``. A dry run does everything, checks included, inside the
transaction and rolls it back.

Figures NetBox lacks are written so that no rule can pass on them until someone enters them (a PASS is
never wrong): a new room's floor rating is ``FLOOR_UNSET_KG_M2`` (FLOOR_UNIFORM fails), a new panel's
capacity ``PANEL_UNSET_KW`` (POWER_UPSTREAM fails under load). ``planner.netbox.checklist`` lists them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from simple_history.utils import bulk_create_with_history

from cooling.models import CoolingLoop
from planner import engine, selectors
from planner import headroom as headroom_mod
from planner.budget_tokens import touch_sites
from planner.netbox.mapping import (
    DEFAULT_MODEL_MAP,
    SOURCE_PREFIX,
    Estate,
    MappingError,
    ModelFigures,
    RowConfig,
    map_estate,
    psu_feed_notes,
)
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site

# The smallest rating the model accepts: FLOOR_UNIFORM fails for every rack until the real one is entered.
FLOOR_UNSET_KG_M2 = 0.001
# No capacity: POWER_UPSTREAM fails for every rack under load until the panel's capacity is entered.
PANEL_UNSET_KW = 0.0

Progress = Callable[[str, float], None]


class ImportRefused(Exception):
    """The import as a whole is refused (400): ``errors`` says why, one line each; nothing was written."""

    def __init__(self, detail: str, errors: list[str] | None = None):
        self.detail = detail
        self.errors = errors or []
        super().__init__(detail + ("" if not self.errors else ": " + "; ".join(self.errors)))

    @property
    def payload(self) -> dict:
        return {"detail": self.detail, "errors": self.errors}


@dataclass
class Summary:
    """What an import did (or, in a dry run, would do)."""

    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)  # what NetBox holds for the imported sites
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    changes: list[dict] = field(default_factory=list)  # {kind, name, action, fields: {f: [ours, netbox]}}
    kept: list[dict] = field(default_factory=list)  # came from NetBox, gone from it: kept here
    models: list[dict] = field(default_factory=list)  # {netbox_slug, slug, action, differences, notes}
    skipped: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failing_racks: list[dict] = field(default_factory=list)  # {site, rack, rack_id, checks: [{code, message}]}
    sites: list[dict] = field(default_factory=list)  # {id, slug, name, headroom: {...}, missing: n}

    def to_dict(self) -> dict:
        return asdict(self)


class _DryRun(Exception):
    pass


def _given_map(extra: dict | None) -> dict[str, str]:
    return {**DEFAULT_MODEL_MAP, **getattr(settings, "NETBOX_MODEL_MAP", {}), **(extra or {})}


def _diff(obj, wanted: dict) -> dict:
    """Fields whose value here differs from NetBox's: {field: [here, netbox]}."""
    out = {}
    for name, new in wanted.items():
        relation = obj._meta.get_field(name).is_relation
        old = getattr(obj, f"{name}_id") if relation else getattr(obj, name)
        new_cmp = new.pk if hasattr(new, "pk") else new
        numbers = isinstance(old, (int, float)) and isinstance(new_cmp, (int, float))
        if numbers and abs(float(old) - float(new_cmp)) <= 1e-9:
            continue
        if old != new_cmp:
            out[name] = [old, new_cmp]
    return out


class _Writer:
    """Creates and updates of one kind: new objects are bulk-created (with history), changed ones saved."""

    def __init__(self, summary: Summary, kind: str):
        self.summary, self.kind = summary, kind
        self.new: list = []

    def create(self, obj, label: str):
        self.new.append(obj)
        self.summary.created[self.kind] = self.summary.created.get(self.kind, 0) + 1
        if len(self.summary.changes) < 5000:
            self.summary.changes.append({"kind": self.kind, "name": label, "action": "create", "fields": {}})
        return obj

    def update(self, obj, wanted: dict, label: str) -> bool:
        diff = _diff(obj, wanted)
        if not diff:
            return False
        for name, new in wanted.items():
            if name in diff:
                setattr(obj, name, new)
        obj.save()
        self.summary.updated[self.kind] = self.summary.updated.get(self.kind, 0) + 1
        self.summary.changes.append({"kind": self.kind, "name": label, "action": "update", "fields": diff})
        return True

    def flush(self):
        if self.new:
            bulk_create_with_history(self.new, type(self.new[0]), batch_size=500)
            self.new = []


def _lock(site_ids: list[int]) -> None:
    """The order of ``services._lock_budgets``: sites, sources, loops, racks, PDUs, each by id."""
    if not site_ids:
        return
    list(Site.objects.select_for_update().filter(pk__in=site_ids).order_by("pk").values_list("pk", flat=True))
    for qs in (
        PowerSource.objects.filter(site_id__in=site_ids),
        CoolingLoop.objects.filter(site_id__in=site_ids),
        Rack.objects.filter(row__room__site_id__in=site_ids),
        Pdu.objects.filter(rack__row__room__site_id__in=site_ids),
    ):
        list(qs.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))


def _models(est: Estate, summary: Summary, *, model_map: dict, skip_incomplete: bool) -> dict[str, NodeModel]:
    """Node model of each device type the nodes use: matched, updated, created, or refused."""
    out: dict[str, NodeModel] = {}
    linked = {m.netbox_slug: m for m in NodeModel.objects.filter(netbox_slug__in=list(est.models))}
    aliases = {nb: model_map[nb] for nb in est.models if nb in model_map}
    by_slug = {
        m.slug: m
        for m in NodeModel.objects.filter(
            Q(slug__in=list(aliases.values())) | Q(slug__in=[f.slug for f in est.models.values()])
        )
    }
    incomplete: list[str] = []
    writer = _Writer(summary, "node_models")
    for nb_slug, fig in sorted(est.models.items()):
        model = linked.get(nb_slug) or by_slug.get(aliases.get(nb_slug, "")) or by_slug.get(fig.slug)
        entry = {"netbox_slug": nb_slug, "slug": fig.slug, "missing": list(fig.missing), "notes": list(fig.notes)}
        if model is not None and model.source.startswith(SOURCE_PREFIX) and fig.complete:
            writer.update(model, fig.model_fields(), model.slug)
            entry.update(slug=model.slug, action="updated from NetBox", differences={})
        elif model is not None:
            theirs = {k: v for k, v in fig.model_fields().items() if v is not None and k not in ("source",)}
            entry.update(
                slug=model.slug,
                action="ours kept"
                if not model.source.startswith(SOURCE_PREFIX)
                else "kept (NetBox figures incomplete)",
                differences=_diff(model, theirs),
            )
            if model.netbox_slug != nb_slug and nb_slug not in linked:
                model.netbox_slug = nb_slug
                model.save(update_fields=["netbox_slug"])
        elif fig.complete:
            model = writer.create(
                NodeModel(slug=fig.slug, netbox_slug=nb_slug, **fig.model_fields()), f"{fig.slug} ({nb_slug})"
            )
            entry.update(action="created from NetBox", differences={})
        else:
            entry.update(action="not imported", differences={})
            incomplete.append(f"device type {nb_slug} lacks {', '.join(fig.missing)}")
        summary.models.append(entry)
        if model is not None:
            out[nb_slug] = model
    if incomplete and not skip_incomplete:
        raise ImportRefused(
            "Some device types lack what the check needs. Map each to a catalogue model (--model-map "
            "NETBOX_SLUG=OUR_SLUG), give its figures (--figures FILE), or skip its devices (--skip-incomplete: "
            "their units then look free here). Nothing was imported",
            incomplete,
        )
    writer.flush()
    return out


def estate_import(
    *,
    estate: Estate,
    netbox_url: str,
    dry_run: bool = False,
    model_map: dict | None = None,
    skip_incomplete: bool = False,
    progress: Progress | None = None,
) -> Summary:
    """Write the mapped estate (see the module docstring). Raises ImportRefused; then nothing is written."""
    summary = Summary(dry_run=dry_run, counts=estate.counts())
    summary.skipped = list(estate.skipped)
    summary.warnings = list(estate.warnings) + psu_feed_notes(estate.psu_links)
    say = progress or (lambda message, fraction: None)
    try:
        with transaction.atomic():
            _write(estate, summary, netbox_url, _given_map(model_map), skip_incomplete, say)
            say("checking the imported racks", 0.9)
            _check(summary)
            if dry_run:
                raise _DryRun
    except _DryRun:
        selectors.budget_cache.clear()  # entries of rolled-back tokens can never match again; free them
    say("done", 1.0)
    return summary


def _write(est: Estate, summary: Summary, url: str, model_map: dict, skip_incomplete: bool, say: Progress):
    say("matching sites", 0.3)
    existing_sites = {
        s.netbox_id: s for s in Site.objects.filter(netbox_url=url, netbox_id__in=[s.nb_id for s in est.sites])
    }
    _lock(sorted(s.pk for s in existing_sites.values()))
    models = _models(est, summary, model_map=model_map, skip_incomplete=skip_incomplete)
    clashes = []
    others = Site.objects.exclude(pk__in=[s.pk for s in existing_sites.values()])
    taken = {(n, "name") for n in others.values_list("name", flat=True)} | {
        (s, "slug") for s in others.values_list("slug", flat=True)
    }
    for rec in est.sites:
        for val, what in ((rec.name, "name"), (rec.slug, "slug")):
            if (val, what) in taken:
                clashes.append(f"a site with {what} {val!r} exists here and did not come from {url} (rename one)")
    if clashes:
        raise ImportRefused("Site names clash; nothing was imported", clashes)

    w = _Writer(summary, "sites")
    sites: dict[int, Site] = {}
    for rec in est.sites:
        wanted = {"name": rec.name[:100], "slug": rec.slug[:100]}
        if rec.power_derating is not None:
            wanted["power_derating"] = rec.power_derating
        site = existing_sites.get(rec.nb_id)
        if site is None:
            site = w.create(Site(netbox_id=rec.nb_id, netbox_url=url, **wanted), rec.slug)
        else:
            w.update(site, wanted, rec.slug)
        sites[rec.nb_id] = site
    w.flush()
    site_ids = [s.pk for s in sites.values()]
    say("writing rooms, rows and racks", 0.45)

    # Rooms ------------------------------------------------------------------------------------------
    all_rooms = list(Room.objects.filter(site_id__in=site_ids))
    rooms_nb = {(r.site_id, r.netbox_id): r for r in all_rooms if r.netbox_id is not None}
    rooms_name = {(r.site_id, r.name): r for r in all_rooms}
    w = _Writer(summary, "rooms")
    rooms: dict[tuple, Room] = {}
    errors: list[str] = []
    for rec in est.rooms:
        site = sites[rec.site_nb]
        room = rooms_nb.get((site.pk, rec.nb_id)) if rec.nb_id is not None else None
        if room is None and rec.nb_id is None:
            room = rooms_name.get((site.pk, rec.name))
        if room is None:
            clash = rooms_name.get((site.pk, rec.name))
            if clash is not None:
                errors.append(f"room {rec.name!r} of site {site.slug} exists here and is not NetBox's")
                continue
            room = w.create(
                Room(site=site, name=rec.name, floor_rated_load_kg_m2=FLOOR_UNSET_KG_M2, netbox_id=rec.nb_id),
                f"{site.slug} / {rec.name}",
            )
        else:
            w.update(room, {"name": rec.name}, f"{site.slug} / {rec.name}")
        rooms[rec.key] = room
    if errors:
        raise ImportRefused("Names clash with objects of ours; nothing was imported", errors)
    w.flush()

    # Rows -------------------------------------------------------------------------------------------
    room_ids = [r.pk for r in rooms.values()]
    all_rows = list(Row.objects.filter(room__site_id__in=site_ids))
    rows_nb = {r.netbox_id: r for r in all_rows if r.netbox_id is not None and r.room_id in room_ids}
    rows_name = {(r.room_id, r.name): r for r in all_rows}
    w = _Writer(summary, "rows")
    rows: dict[tuple, Row] = {}
    for rec in est.rows:
        room = rooms[rec.room_key]
        row = rows_nb.get(rec.nb_id) if rec.nb_id is not None else rows_name.get((room.pk, rec.name))
        if row is None:
            if (room.pk, rec.name) in rows_name:
                errors.append(f"row {rec.name!r} of room {room.name!r} exists here and is not NetBox's")
                continue
            row = w.create(Row(room=room, name=rec.name, netbox_id=rec.nb_id), f"{room.name} / {rec.name}")
            rows_name[(room.pk, rec.name)] = row
        else:
            w.update(row, {"room": room, "name": rec.name}, f"{room.name} / {rec.name}")
        rows[rec.key] = row
    if errors:
        raise ImportRefused("Names clash with objects of ours; nothing was imported", errors)
    w.flush()

    # Racks ------------------------------------------------------------------------------------------
    all_racks = list(Rack.objects.filter(row__room__site_id__in=site_ids))
    racks_nb = {r.netbox_id: r for r in all_racks if r.netbox_id is not None}
    used_pos: dict[int, set[int]] = defaultdict(set)
    rack_names: dict[tuple, Rack] = {}
    for r in all_racks:
        used_pos[r.row_id].add(r.position)
        rack_names[(r.row_id, r.name)] = r
    seen_racks = set()
    w = _Writer(summary, "racks")
    racks: dict[int, Rack] = {}

    def free_position(row_id: int, wanted: int | None) -> int:
        taken = used_pos[row_id]
        pos = wanted if wanted and wanted not in taken else max(taken, default=0) + 1
        taken.add(pos)
        return pos

    for rec in est.racks:
        row = rows[rec.row_key]
        wanted = {"row": row, "name": rec.name, "u_height": rec.u_height}
        for name in ("width_mm", "depth_mm", "max_load_kg", "empty_weight_kg"):
            if getattr(rec, name) is not None:  # null in NetBox: the figure is ours
                wanted[name] = getattr(rec, name)
        rack = racks_nb.get(rec.nb_id)
        label = f"{row.name} / {rec.name}"
        if rack is None:
            clash = rack_names.get((row.pk, rec.name))
            if clash is not None:
                errors.append(f"rack {rec.name!r} of row {row.name!r} exists here and is not NetBox's")
                continue
            wanted.setdefault("max_load_kg", 0.0)
            wanted.setdefault("empty_weight_kg", 0.0)
            rack = w.create(Rack(netbox_id=rec.nb_id, position=free_position(row.pk, rec.position), **wanted), label)
            rack_names[(row.pk, rec.name)] = rack
        else:
            if rack.row_id != row.pk:
                used_pos[rack.row_id].discard(rack.position)
                wanted["position"] = free_position(row.pk, rec.position)
            w.update(rack, wanted, label)
        racks[rec.nb_id] = rack
        seen_racks.add(rack.pk)
    if errors:
        raise ImportRefused("Names clash with objects of ours; nothing was imported", errors)
    w.flush()
    for r in all_racks:
        if r.netbox_id is not None and r.pk not in seen_racks:
            summary.kept.append({"kind": "racks", "name": r.name, "id": r.pk})
    say("writing the power chain", 0.6)

    # Power sources and PDUs -------------------------------------------------------------------------
    all_sources = list(PowerSource.objects.filter(site_id__in=site_ids))
    src_nb = {(s.site_id, s.netbox_id): s for s in all_sources if s.netbox_id is not None}
    src_name = {(s.site_id, s.name): s for s in all_sources}
    w = _Writer(summary, "power_sources")
    sources: dict[int, PowerSource] = {}
    for rec in est.sources:
        site = sites[rec.site_nb]
        src = src_nb.get((site.pk, rec.nb_id))
        if src is None:
            if (site.pk, rec.name) in src_name:
                errors.append(f"power source {rec.name!r} of site {site.slug} exists here and is not NetBox's")
                continue
            src = w.create(
                PowerSource(
                    site=site,
                    name=rec.name,
                    kind=PowerSource.Kind.PANEL,
                    capacity_kw=PANEL_UNSET_KW,
                    netbox_id=rec.nb_id,
                ),
                f"{site.slug} / {rec.name}",
            )
        else:
            w.update(src, {"name": rec.name}, f"{site.slug} / {rec.name}")
        sources[rec.nb_id] = src
    if errors:
        raise ImportRefused("Names clash with objects of ours; nothing was imported", errors)
    w.flush()

    all_pdus = list(Pdu.objects.filter(rack__row__room__site_id__in=site_ids))
    pdu_nb = {p.netbox_id: p for p in all_pdus if p.netbox_id is not None}
    pdu_name = {(p.rack_id, p.name): p for p in all_pdus}
    w = _Writer(summary, "pdus")
    for rec in est.pdus:
        rack = racks.get(rec.rack_nb)
        if rack is None:
            continue
        wanted = {
            "rack": rack,
            "name": rec.name,
            "side": rec.side,
            "phases": rec.phases,
            "voltage_v": rec.voltage_v,
            "current_a": rec.current_a,
            "source": sources.get(rec.source_nb),
        }
        pdu = pdu_nb.get(rec.nb_id)
        label = f"{rack.name} / {rec.name} (feed {rec.feed})"
        if pdu is None:
            if (rack.pk, rec.name) in pdu_name:
                errors.append(f"PDU {rec.name!r} of rack {rack.name!r} exists here and is not NetBox's")
                continue
            w.create(Pdu(netbox_id=rec.nb_id, **wanted), label)
        else:
            w.update(pdu, wanted, label)
    if errors:
        raise ImportRefused("Names clash with objects of ours; nothing was imported", errors)
    w.flush()
    say("writing the nodes", 0.75)

    # Nodes ------------------------------------------------------------------------------------------
    all_nodes = list(Node.objects.filter(rack__row__room__site_id__in=site_ids))
    node_nb = {n.netbox_id: n for n in all_nodes if n.netbox_id is not None}
    incoming = {rec.nb_id for rec in est.nodes}
    # Units and names held by nodes NetBox does not move: ours, and NetBox's that stay where they are.
    held_u: dict[tuple, Node] = {}
    held_name: dict[tuple, Node] = {}
    for n in all_nodes:
        if n.netbox_id is None or n.netbox_id not in incoming:
            held_u[(n.rack_id, n.u_position)] = n
            held_name[(n.rack_id, n.name)] = n
    w = _Writer(summary, "nodes")
    seen_nodes = set()
    for rec in est.nodes:
        rack = racks.get(rec.rack_nb)
        model = models.get(rec.device_type)
        if rack is None:
            continue
        if model is None:
            summary.skipped.append(
                {"object": f"device {rec.name}", "reason": f"device type {rec.device_type} not imported"}
            )
            continue
        clash = False
        for key, held, what in (
            ((rack.pk, rec.u_position), held_u, f"U{rec.u_position}"),
            ((rack.pk, rec.name), held_name, f"the name {rec.name!r}"),
        ):
            other = held.get(key)
            if other is not None and other.netbox_id != rec.nb_id:
                clash = True
                errors.append(
                    f"device {rec.name} of rack {rack.name}: {what} is held here by node {other.name!r} "
                    f"({'ours' if other.netbox_id is None else 'from NetBox'}); move or rename it first"
                )
        if clash or errors:
            continue  # refused below; nothing more is written
        wanted = {"rack": rack, "model": model, "u_position": rec.u_position, "name": rec.name, "status": rec.status}
        node = node_nb.get(rec.nb_id)
        label = f"{rack.name} / {rec.name}"
        if node is None:
            w.create(Node(netbox_id=rec.nb_id, **wanted), label)
        else:
            w.update(node, wanted, label)
            seen_nodes.add(node.pk)
        held_u[(rack.pk, rec.u_position)] = node or Node(netbox_id=rec.nb_id, name=rec.name)
        held_name[(rack.pk, rec.name)] = held_u[(rack.pk, rec.u_position)]
    if errors:
        raise ImportRefused("Devices collide with nodes here; nothing was imported", errors)
    w.flush()
    for n in all_nodes:
        if n.netbox_id is not None and n.netbox_id not in incoming:
            summary.kept.append({"kind": "nodes", "name": n.name, "id": n.pk, "status": n.status})
    # bulk_create sends no signals: give the sites their new budget token here, in this transaction.
    if summary.created or summary.updated:
        touch_sites(Q(pk__in=site_ids))
    summary.sites = [{"id": s.pk, "slug": s.slug, "name": s.name} for s in sites.values()]


def _check(summary: Summary) -> None:
    """Every rule on every rack of the imported sites, as they stand now; and each site's headroom."""
    from planner.netbox.checklist import site_checklist

    for entry in summary.sites:
        snapshot = selectors.site_snapshot(entry["id"])
        for rack in snapshot.racks:
            result = engine.check_rack(snapshot.contexts[rack.id])
            failing = [{"code": c.code, "message": c.message} for c in result.checks if c.status == "fail"]
            if failing:
                summary.failing_racks.append(
                    {"site": entry["slug"], "rack": rack.name, "rack_id": rack.id, "checks": failing}
                )
        head = headroom_mod.site_headroom(snapshot)
        entry["headroom"] = {
            "power": head["power"],
            "cooling_air": head["cooling_air"],
            "cooling_liquid": head["cooling_liquid"],
            "space": head["space"],
            "rack_count": head["rack_count"],
            "binding": head["binding"],
        }
        entry["missing"] = len(site_checklist(snapshot.site))


def netbox_import(
    *,
    client_or_url,
    token: str | None = None,
    site_slugs: list[str] | tuple[str, ...] = (),
    dry_run: bool = False,
    rows: RowConfig | None = None,
    model_map: dict | None = None,
    figures: dict | None = None,
    skip_incomplete: bool = False,
    progress: Progress | None = None,
) -> Summary:
    """Import sites, racks, power and devices from NetBox (the one entry point: command, page, API, job).

    ``client_or_url``: a NetBox base URL (read with pynetbox, ``token`` required), a ``pynetbox.api``, or
    the lists themselves (a dict as ``client.fetch`` returns). ``site_slugs`` empty = every site. Raises
    ImportRefused (a clear reason, nothing written) and ``client.FetchFailed`` (NetBox could not be read).
    """
    from planner.netbox import client

    say = progress or (lambda message, fraction: None)
    if isinstance(client_or_url, dict):
        data, url = client_or_url, str(client_or_url.get("url", "netbox"))
    else:
        data = client.fetch(client_or_url, token=token, site_slugs=list(site_slugs), progress=say)
        url = data["url"]
    missing = sorted(set(site_slugs) - {s.get("slug") for s in data.get("sites", [])})
    if missing:
        raise ImportRefused("No such site in NetBox", [f"site {slug!r}" for slug in missing])
    say("mapping", 0.25)
    try:
        estate = map_estate(data, rows=rows, given=figures)
    except MappingError as exc:
        raise ImportRefused("NetBox data the planner cannot take", [str(exc)]) from None
    return estate_import(
        estate=estate,
        netbox_url=url,
        dry_run=dry_run,
        model_map=model_map,
        skip_incomplete=skip_incomplete,
        progress=say,
    )


__all__ = ["ImportRefused", "ModelFigures", "Summary", "estate_import", "netbox_import"]
