"""NetBox REST JSON -> planner records. Pure: no database, no network, so every rule here is testable alone.

How our concepts map (see the NetBox 4.4 fixture README):

- site -> site; a location at depth 0 (a hall) -> room; racks with no location go to one room per site.
- row -> configurable (``RowConfig``): the rack's child location (default), a rack group, or a regular
  expression on the facility ID or the rack name with a ``row`` group (and an optional ``position`` group).
- rack -> rack: ``u_height``, ``outer_width``/``outer_depth`` (mm or in), ``max_weight`` (equipment the frame
  carries) and ``weight`` (the empty frame), both with ``weight_unit``.
- power panel -> power source (kind ``panel``). NetBox holds no capacity for it: the planner asks for it.
- power feed -> the side and capacity of the PDU it is cabled to: ``voltage``, ``amperage``, ``phase``;
  ``type`` primary -> side A, redundant -> side B; ``max_utilization`` -> the site's derating (the lowest
  of its feeds, so no feed is credited more than NetBox allows).
- a device a feed is cabled to -> PDU; any other device with a rack and a position -> node.
- device type -> node model (``model_figures``): power = the power-port templates' ``maximum_draw`` summed
  over the PSUs needed; weight; U height; airflow direction (NetBox has no CFM).
- a server PSU's cable to a PDU outlet -> which side feeds which PSU.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

WEIGHT_TO_KG = {"kg": 1.0, "g": 0.001, "lb": 0.45359237, "oz": 0.028349523125}
LENGTH_TO_MM = {"mm": 1.0, "in": 25.4}

# Marks a node model whose figures came from NetBox or the library: a re-import may update it. Any other
# model is ours (the sourced catalogue, or entered by hand) and is never changed by an import.
SOURCE_PREFIX = "NetBox device type"
# Our catalogue entries for hardware the library also describes under another slug (same system).
DEFAULT_MODEL_MAP = {"nvidia-dgx-a100-640gb": "dgx-a100"}

ROW_SOURCES = ("location", "facility", "name", "group")
DEFAULT_ROW_PATTERNS = {
    # FRA1.HA.A01.02 = site.hall.row.position
    "facility": r"^[^.]+\.[^.]+\.(?P<row>[^.]+)\.(?P<position>\d+)$",
    # A01-02 = row-position
    "name": r"^(?P<row>.+)-(?P<position>\d+)$",
}
NO_LOCATION_ROOM = "No location in NetBox"
NO_ROW = "No row in NetBox"
PDU_ROLES = frozenset({"pdu"})
FEED_SIDE = {"primary": "A", "redundant": "B"}


class MappingError(ValueError):
    """NetBox data the planner cannot take as it is; ``path`` names the object and field."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


def value(x):
    """A NetBox choice field ({"value", "label"}) as its value; anything else as is."""
    if isinstance(x, dict):
        return x.get("value")
    return x


def ref_id(x) -> int | None:
    """The id of a nested NetBox object (or a bare id)."""
    if isinstance(x, dict):
        return x.get("id")
    return x if isinstance(x, int) else None


def ref_name(x) -> str:
    return str(x.get("name") or x.get("display") or "") if isinstance(x, dict) else ""


def number(x) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def our_slug(netbox_slug: str) -> str:
    """Our slug for a device type: lower case (the library has upper-case slugs such as ``PX3-5664U``)."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", str(netbox_slug).lower()).strip("-")
    return slug[:64] or "netbox-device-type"


# --- node models ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFigures:
    """A node model as NetBox or the library describes it; ``missing`` names what the check needs and lacks."""

    netbox_slug: str
    slug: str
    vendor: str
    name: str
    u_height: int | None
    weight_kg: float | None
    max_power_kw: float | None
    typical_power_kw: float | None
    psu_count: int
    psu_rating_kw: float
    psus_required: int
    airflow: str
    missing: tuple[str, ...]
    notes: tuple[str, ...]
    source: str

    @property
    def complete(self) -> bool:
        return not self.missing

    def model_fields(self) -> dict:
        """NodeModel fields this file or NetBox is the source of (cooling and liquid share stay ours)."""
        return {
            "vendor": self.vendor[:64],
            "name": self.name[:100],
            "u_height": self.u_height,
            "max_power_kw": self.max_power_kw,
            "typical_power_kw": self.typical_power_kw,
            "weight_kg": self.weight_kg,
            "psu_count": self.psu_count,
            "psu_rating_kw": self.psu_rating_kw,
            "psus_required": self.psus_required,
            "source": self.source,
        }


GIVEN_KEYS = ("u_height", "weight_kg", "max_power_kw", "typical_power_kw", "psus_required")


def model_figures(dt: dict, ports: list[dict], *, origin: str, given: dict | None = None) -> ModelFigures:
    """Figures of one device type (NetBox JSON or library YAML) and its power-port templates.

    ``maximum_draw`` is in W per PSU. The library has no redundancy figure, so the PSUs needed are taken as
    half of them, rounded up (N+N), unless ``given`` says ``psus_required``; max power is the sum of the
    largest ``maximum_draw`` over the PSUs needed. ``given`` fills figures the source lacks (kW, kg).
    """
    given = {k: v for k, v in (given or {}).items() if v is not None}
    unknown = sorted(set(given) - set(GIVEN_KEYS))
    if unknown:
        raise MappingError(f"figures for {dt.get('slug')}", f"unknown field(s) {', '.join(unknown)}")
    missing: list[str] = []
    notes: list[str] = []
    src: list[str] = []
    slug = dt.get("slug")
    if not isinstance(slug, str) or not slug.strip():
        missing.append("slug")
        slug = ""
    model = dt.get("model")
    if not isinstance(model, (str, int, float)) or not str(model).strip():
        missing.append("model")
        model = slug
    maker = dt.get("manufacturer")
    vendor = ref_name(maker) if isinstance(maker, dict) else (str(maker) if maker is not None else "")
    if not vendor:
        missing.append("manufacturer")

    u = number(dt.get("u_height", 1.0 if origin == "netbox" else None))
    u_height = None
    if "u_height" in given:
        u_height = int(given["u_height"])
        src.append(f"u_height {u_height} U given at import")
    elif u is None:
        missing.append("u_height")
    elif u <= 0:
        missing.append("u_height")
        notes.append("u_height is 0: a 0U device (a PDU?) is not a node")
    elif u != int(u) or u > 60:
        missing.append("u_height")
        notes.append(f"u_height {u:g}: the planner places whole units of 1 to 60 U")
    else:
        u_height = int(u)
        src.append(f"u_height {u_height} U")

    weight_kg = None
    if "weight_kg" in given:
        weight_kg = float(given["weight_kg"])
        src.append(f"weight {weight_kg:g} kg given at import")
    else:
        w = number(dt.get("weight"))
        unit = value(dt.get("weight_unit"))
        if w is None:
            missing.append("weight")
        elif unit not in WEIGHT_TO_KG:
            missing.append("weight_unit")
            notes.append(f"weight_unit {unit!r} is not one of {', '.join(WEIGHT_TO_KG)}")
        elif w < 0:
            missing.append("weight")
        else:
            weight_kg = round(w * WEIGHT_TO_KG[unit], 3)
            src.append(f"weight {w:g} {unit}" + ("" if unit == "kg" else f" = {weight_kg:g} kg"))

    draws: list[float] = []
    allocated: list[float] = []
    if not isinstance(ports, list):
        ports = []
    for i, port in enumerate(ports):
        draw = number(port.get("maximum_draw")) if isinstance(port, dict) else None
        if draw is None or draw <= 0:
            name = port.get("name") if isinstance(port, dict) else None
            missing.append(f"power-ports[{i}].maximum_draw" + (f" ({name})" if name is not None else ""))
            continue
        draws.append(draw)
        alloc = number(port.get("allocated_draw"))
        if alloc is not None and alloc > 0:
            allocated.append(alloc)
    psu_count = len(ports)
    if "psus_required" in given:
        psus_required = int(given["psus_required"])
        basis = f"{psus_required} PSUs needed (given at import)"
    else:
        psus_required = math.ceil(psu_count / 2) if psu_count else 0
        basis = f"{psus_required} of {psu_count} PSUs needed (N+N assumed: the library has no redundancy figure)"
    psus_required = max(0, min(psus_required, psu_count)) if psu_count else 0
    psu_rating_kw = round(max(draws) / 1000.0, 4) if draws else 0.0
    max_power_kw = typical_power_kw = None
    if "max_power_kw" in given:
        max_power_kw = float(given["max_power_kw"])
        src.append(f"max power {max_power_kw:g} kW given at import")
        missing = [m for m in missing if not m.startswith("power-ports")]
    elif not ports:
        missing.append("power-ports")
        if dt.get("module-bays") or dt.get("module_bay_template_count"):
            notes.append("no power ports: the PSUs are modelled as module bays")
    elif len(draws) == psu_count:
        needed = sorted(draws, reverse=True)[:psus_required]
        max_power_kw = round(sum(needed) / 1000.0, 4)
        src.append(f"max power {' + '.join(f'{d:g}' for d in needed)} W maximum_draw = {max_power_kw:g} kW; {basis}")
    if "typical_power_kw" in given:
        typical_power_kw = float(given["typical_power_kw"])
    elif max_power_kw is not None:
        if len(allocated) == psu_count and psu_count:
            typical_power_kw = min(
                round(sum(sorted(allocated, reverse=True)[:psus_required]) / 1000.0, 4), max_power_kw
            )
            src.append(f"typical power {typical_power_kw:g} kW from allocated_draw")
        else:
            typical_power_kw = max_power_kw
    airflow = str(value(dt.get("airflow")) or "")
    if airflow:
        src.append(f"airflow {airflow} (a direction; NetBox has no CFM)")
    src.append("cooling and liquid share not in NetBox (air assumed; confirm)")
    label = f"{SOURCE_PREFIX} {slug} ({origin})"
    return ModelFigures(
        netbox_slug=slug,
        slug=our_slug(slug) if slug else "",
        vendor=vendor,
        name=str(model),
        u_height=u_height,
        weight_kg=weight_kg,
        max_power_kw=max_power_kw,
        typical_power_kw=typical_power_kw,
        psu_count=psu_count,
        psu_rating_kw=psu_rating_kw,
        psus_required=psus_required,
        airflow=airflow,
        missing=tuple(dict.fromkeys(missing)),
        notes=tuple(notes),
        source=f"{label}: " + "; ".join(src),
    )


# --- the estate ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowConfig:
    """Where a rack's row comes from: ``location`` (its child location), ``group`` (its rack group),
    ``facility`` or ``name`` (``pattern``, a regular expression with a ``row`` group, on the facility ID or
    the rack name). A rack the rule gives no row goes to one row per room named ``NO_ROW``."""

    source: str = "location"
    pattern: str | None = None

    def __post_init__(self):
        if self.source not in ROW_SOURCES:
            raise MappingError("row source", f"{self.source!r} is not one of {', '.join(ROW_SOURCES)}")
        if self.source in DEFAULT_ROW_PATTERNS:
            try:
                rx = re.compile(self.pattern or DEFAULT_ROW_PATTERNS[self.source])
            except re.error as exc:
                raise MappingError("row pattern", f"not a regular expression: {exc}") from None
            if "row" not in rx.groupindex:
                raise MappingError("row pattern", "needs a named group (?P<row>...)")

    @property
    def regex(self):
        return re.compile(self.pattern or DEFAULT_ROW_PATTERNS[self.source])


@dataclass(frozen=True)
class SiteRec:
    nb_id: int
    name: str
    slug: str
    power_derating: float | None  # None: the site has no feed (keep ours)


@dataclass(frozen=True)
class RoomRec:
    key: tuple
    nb_id: int | None
    site_nb: int
    name: str


@dataclass(frozen=True)
class RowRec:
    key: tuple
    nb_id: int | None
    room_key: tuple
    name: str


@dataclass(frozen=True)
class RackRec:
    nb_id: int
    site_nb: int
    row_key: tuple
    name: str
    position: int | None
    u_height: int
    width_mm: float | None
    depth_mm: float | None
    max_load_kg: float | None
    empty_weight_kg: float | None


@dataclass(frozen=True)
class SourceRec:
    nb_id: int
    site_nb: int
    name: str


@dataclass(frozen=True)
class PduRec:
    nb_id: int
    rack_nb: int
    name: str
    side: str
    phases: int
    voltage_v: float
    current_a: float
    source_nb: int | None
    feed: str
    max_utilization_pct: float


@dataclass(frozen=True)
class NodeRec:
    nb_id: int
    rack_nb: int
    device_type: str  # NetBox slug
    u_position: int
    name: str
    status: str


@dataclass(frozen=True)
class PsuLink:
    node: str
    psu: str
    pdu: str | None
    side: str | None


@dataclass
class Estate:
    sites: list[SiteRec] = field(default_factory=list)
    rooms: list[RoomRec] = field(default_factory=list)
    rows: list[RowRec] = field(default_factory=list)
    racks: list[RackRec] = field(default_factory=list)
    sources: list[SourceRec] = field(default_factory=list)
    pdus: list[PduRec] = field(default_factory=list)
    nodes: list[NodeRec] = field(default_factory=list)
    models: dict[str, ModelFigures] = field(default_factory=dict)  # by NetBox slug, for the nodes' types
    psu_links: list[PsuLink] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {"object", "reason"}
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "sites": len(self.sites),
            "rooms": len(self.rooms),
            "rows": len(self.rows),
            "racks": len(self.racks),
            "power_sources": len(self.sources),
            "pdus": len(self.pdus),
            "nodes": len(self.nodes),
        }


def _length_mm(x, unit) -> float | None:
    n = number(x)
    if n is None or n <= 0 or value(unit) not in LENGTH_TO_MM:
        return None
    return round(n * LENGTH_TO_MM[value(unit)], 3)


def _weight_kg(x, unit) -> float | None:
    n = number(x)
    if n is None or n < 0 or value(unit) not in WEIGHT_TO_KG:
        return None
    return round(n * WEIGHT_TO_KG[value(unit)], 3)


def map_estate(data: dict[str, list[dict]], *, rows: RowConfig | None = None, given: dict | None = None) -> Estate:
    """Map NetBox lists (keys: ``sites``, ``locations``, ``racks``, ``power-panels``, ``power-feeds``,
    ``devices``, ``power-ports``, ``device-types``, ``power-port-templates``) to planner records.

    Objects the planner cannot take are listed in ``skipped`` with the reason; ``given`` supplies node-model
    figures by device-type slug (see ``model_figures``). Raises MappingError for data that cannot be mapped
    at all (a rack taller than 60 U).
    """
    rows = rows or RowConfig()
    given = given or {}
    est = Estate()
    sites = {s["id"]: s for s in data.get("sites", [])}
    locations = {loc["id"]: loc for loc in data.get("locations", [])}
    for s in sorted(sites.values(), key=lambda s: s["id"]):
        est.sites.append(SiteRec(s["id"], str(s.get("name") or s.get("slug")), str(s["slug"]), None))

    def top(loc_id):
        seen = set()
        while loc_id in locations and loc_id not in seen:
            seen.add(loc_id)
            parent = ref_id(locations[loc_id].get("parent"))
            if parent is None:
                return loc_id
            loc_id = parent
        return loc_id

    rooms: dict[tuple, RoomRec] = {}
    rows_out: dict[tuple, RowRec] = {}
    rx = rows.regex if rows.source in DEFAULT_ROW_PATTERNS else None
    racks: dict[int, RackRec] = {}
    for r in sorted(data.get("racks", []), key=lambda r: r["id"]):
        path = f"rack {r.get('name')} (NetBox id {r['id']})"
        site_nb = ref_id(r.get("site"))
        if site_nb not in sites:
            est.skipped.append({"object": path, "reason": "its site is not imported"})
            continue
        loc_id = ref_id(r.get("location"))
        hall = top(loc_id) if loc_id is not None else None
        if hall is not None and hall in locations:
            room_key = ("location", hall)
            room = rooms.setdefault(room_key, RoomRec(room_key, hall, site_nb, str(locations[hall]["name"])))
        else:
            room_key = ("site", site_nb)
            room = rooms.setdefault(room_key, RoomRec(room_key, None, site_nb, NO_LOCATION_ROOM))
        position = None
        row_name, row_nb = None, None
        if rows.source == "location" and loc_id is not None and loc_id != hall and loc_id in locations:
            row_name, row_nb = str(locations[loc_id]["name"]), loc_id
        elif rows.source == "group" and isinstance(r.get("group"), dict):
            row_name, row_nb = ref_name(r["group"]), ref_id(r["group"])
        elif rx is not None:
            m = rx.search(str(r.get("facility_id") if rows.source == "facility" else r.get("name")) or "")
            if m:
                row_name = m.group("row")
                if "position" in rx.groupindex and m.group("position") and m.group("position").isdigit():
                    position = int(m.group("position"))
        if position is None:
            tail = re.search(r"(\d+)$", str(r.get("name") or ""))
            position = int(tail.group(1)) if tail else None
        if row_name is None:
            row_key = ("none", room_key)
            row_name = NO_ROW
        else:
            row_key = (rows.source, row_nb) if row_nb is not None else (rows.source, room_key, row_name)
        rows_out.setdefault(row_key, RowRec(row_key, row_nb if rows.source == "location" else None, room_key, row_name))
        u = number(r.get("u_height"))
        if u is None or u != int(u) or not 1 <= u <= 60:
            raise MappingError(path, f"u_height {r.get('u_height')!r}: the planner takes racks of 1 to 60 U")
        unit = r.get("outer_unit")
        racks[r["id"]] = RackRec(
            nb_id=r["id"],
            site_nb=site_nb,
            row_key=row_key,
            name=str(r.get("name"))[:100],
            position=position if position and position > 0 else None,
            u_height=int(u),
            width_mm=_length_mm(r.get("outer_width"), unit),
            depth_mm=_length_mm(r.get("outer_depth"), unit),
            max_load_kg=_weight_kg(r.get("max_weight"), r.get("weight_unit")),
            empty_weight_kg=_weight_kg(r.get("weight"), r.get("weight_unit")),
        )
        del room
    est.rooms = list(rooms.values())
    est.rows = list(rows_out.values())
    est.racks = list(racks.values())

    panels = {}
    for p in sorted(data.get("power-panels", []), key=lambda p: p["id"]):
        if ref_id(p.get("site")) in sites:
            panels[p["id"]] = SourceRec(p["id"], ref_id(p["site"]), str(p.get("name"))[:100])
    est.sources = list(panels.values())

    devices = {d["id"]: d for d in data.get("devices", [])}
    # Feed -> the device its cable reaches (a PDU inlet); the feed holds the capacity and the side.
    feed_of_device: dict[int, dict] = {}
    for f in sorted(data.get("power-feeds", []), key=lambda f: f["id"]):
        peers = f.get("link_peers") or []
        if value(f.get("supply")) not in (None, "ac"):
            est.skipped.append({"object": f"power feed {f.get('name')}", "reason": "DC supply: not modelled"})
            continue
        for peer in peers:
            dev = ref_id(peer.get("device")) if isinstance(peer, dict) else None
            if dev is None:
                continue
            if dev in feed_of_device:
                est.warnings.append(
                    f"PDU {ref_name(peer.get('device'))} has more than one feed; "
                    f"{feed_of_device[dev].get('name')} is used, {f.get('name')} is not"
                )
                continue
            feed_of_device[dev] = f
    derating: dict[int, list[float]] = defaultdict(list)
    pdu_side: dict[int, tuple[str, str]] = {}
    for dev_id, d in sorted(devices.items()):
        is_pdu_role = str((d.get("role") or {}).get("slug", "")).lower() in PDU_ROLES
        feed = feed_of_device.get(dev_id)
        if feed is None:
            if is_pdu_role:
                est.skipped.append(
                    {"object": f"PDU {d.get('name')}", "reason": "no power feed cabled to it: its capacity is unknown"}
                )
            continue
        rack_nb = ref_id(d.get("rack")) or ref_id(feed.get("rack"))
        name = str(d.get("name") or f"pdu-{dev_id}")[:100]
        if rack_nb not in racks:
            est.skipped.append({"object": f"PDU {name}", "reason": "not in an imported rack"})
            continue
        volts, amps = number(feed.get("voltage")), number(feed.get("amperage"))
        if volts is None or amps is None or volts <= 0 or amps <= 0:
            est.skipped.append(
                {"object": f"PDU {name}", "reason": f"feed {feed.get('name')} has no voltage or amperage"}
            )
            continue
        side = FEED_SIDE.get(value(feed.get("type")))
        if side is None:
            side = "B" if name.lower().endswith("-b") else "A"
            est.warnings.append(f"feed {feed.get('name')} has no primary/redundant type: side {side} from the name")
        util = number(feed.get("max_utilization"))
        util = util if util is not None and 0 < util <= 100 else 80.0
        derating[racks[rack_nb].site_nb].append(util)
        est.pdus.append(
            PduRec(
                nb_id=dev_id,
                rack_nb=rack_nb,
                name=name,
                side=side,
                phases=3 if value(feed.get("phase")) == "three-phase" else 1,
                voltage_v=volts,
                current_a=amps,
                source_nb=ref_id(feed.get("power_panel")) if ref_id(feed.get("power_panel")) in panels else None,
                feed=str(feed.get("name")),
                max_utilization_pct=util,
            )
        )
        pdu_side[dev_id] = (name, side)
    for i, s in enumerate(est.sites):
        utils = derating.get(s.nb_id)
        if utils:
            est.sites[i] = SiteRec(s.nb_id, s.name, s.slug, min(utils) / 100.0)
            if len(set(utils)) > 1:
                est.warnings.append(
                    f"site {s.slug}: feeds have max_utilization {sorted(set(utils))} %; the lowest, "
                    f"{min(utils):g} %, derates every PDU of the site (the planner has one derating per site)"
                )

    types = {t["id"]: t for t in data.get("device-types", [])}
    templates: dict[int, list[dict]] = defaultdict(list)
    for t in sorted(data.get("power-port-templates", []), key=lambda t: t["id"]):
        if ref_id(t.get("module_type")) is None:
            templates[ref_id(t.get("device_type"))].append(t)
    ports_of: dict[int, list[dict]] = defaultdict(list)
    for p in sorted(data.get("power-ports", []), key=lambda p: p["id"]):
        ports_of[ref_id(p.get("device"))].append(p)
    for dev_id, d in sorted(devices.items()):
        if dev_id in pdu_side:
            continue
        name = str(d.get("name") or f"device-{dev_id}")[:100]
        rack_nb = ref_id(d.get("rack"))
        if rack_nb not in racks:
            if rack_nb is not None:
                est.skipped.append({"object": f"device {name}", "reason": "its rack is not imported"})
            continue
        if str((d.get("role") or {}).get("slug", "")).lower() in PDU_ROLES:
            continue  # a PDU without a feed: listed above
        pos = number(d.get("position"))
        if pos is None:
            est.skipped.append({"object": f"device {name}", "reason": "no position in its rack (0U or in a bay)"})
            continue
        if pos != int(pos):
            est.warnings.append(f"device {name} sits at U{pos:g}: placed from U{int(pos)}")
        dt_id = ref_id(d.get("device_type"))
        dt = types.get(dt_id)
        if dt is None:
            est.skipped.append({"object": f"device {name}", "reason": f"device type {dt_id} was not read"})
            continue
        slug = str(dt.get("slug"))
        if slug not in est.models:
            est.models[slug] = model_figures(dt, templates.get(dt_id, []), origin="netbox", given=given.get(slug))
        status = "planned" if value(d.get("status")) == "planned" else "installed"
        est.nodes.append(NodeRec(dev_id, rack_nb, slug, max(int(pos), 1), name, status))
        for p in ports_of.get(dev_id, []):
            peer = (p.get("link_peers") or [None])[0]
            pdu = pdu_side.get(ref_id(peer.get("device"))) if isinstance(peer, dict) else None
            est.psu_links.append(PsuLink(name, str(p.get("name")), pdu[0] if pdu else None, pdu[1] if pdu else None))
    return est


def psu_feed_notes(links: list[PsuLink]) -> list[str]:
    """Nodes whose PSUs are not split evenly between A and B (the engine's PSU_FEED_LOSS assumes they are)."""
    by_node: dict[str, list[PsuLink]] = defaultdict(list)
    for link in links:
        by_node[link.node].append(link)
    out = []
    for node, items in by_node.items():
        a = sum(1 for i in items if i.side == "A")
        b = sum(1 for i in items if i.side == "B")
        loose = [i.psu for i in items if i.side is None]
        if loose:
            out.append(f"{node}: PSU(s) {', '.join(loose)} not cabled to an imported PDU")
        if a != b:
            out.append(f"{node}: {a} PSU(s) on side A, {b} on side B; the check assumes an even split")
    return out
