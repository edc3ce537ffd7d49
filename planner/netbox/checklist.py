"""What NetBox does not hold and the planner needs, per site: asked for after an import.

Computed from the site as it stands (eight queries whatever its size), so an item disappears as soon as
someone enters the figure. ``kind`` is ``missing`` (a rule fails or is not checked until it is entered) or
``assumed`` (a conservative default stands in; confirm or change it).
"""

from __future__ import annotations

from cooling.models import CoolingLoop
from planner.netbox.mapping import SOURCE_PREFIX
from racks.models import Node, NodeModel, PowerSource, Rack, Room, Row, Site

AIR_SIDE = {k.value for k in CoolingLoop.AIR_SIDE_KINDS}
LIQUID = {k.value for k in CoolingLoop.LIQUID_KINDS}


def _item(kind: str, what: str, obj: str, detail: str, edit: str | None) -> dict:
    return {"kind": kind, "what": what, "object": obj, "detail": detail, "edit": edit}


def site_checklist(site: Site) -> list[dict]:
    """Items for one site, ``missing`` first. Empty: nothing the planner needs is known to be missing."""
    from planner.netbox.service import FLOOR_UNSET_KG_M2, PANEL_UNSET_KW

    items: list[dict] = []
    rooms = list(Room.objects.filter(site=site).order_by("name"))
    loops = list(CoolingLoop.objects.filter(site=site).values("kind", "room_id"))
    sources = list(PowerSource.objects.filter(site=site).order_by("name"))
    racks = list(Rack.objects.filter(row__room__site=site).order_by("name"))
    rows = list(Row.objects.filter(room__site=site).order_by("name"))
    imported_racks = [r for r in racks if r.netbox_id is not None]
    model_ids = set(Node.objects.filter(rack__row__room__site=site).values_list("model_id", flat=True))
    models = list(NodeModel.objects.filter(pk__in=model_ids).order_by("slug"))
    site_air = any(lp["kind"] in AIR_SIDE and lp["room_id"] is None for lp in loops)

    if site.utility_capacity_kw is None:
        items.append(
            _item(
                "missing",
                "utility capacity",
                site.name,
                "NetBox has none: POWER_SITE is not checked",
                f"/sites/{site.pk}/edit/",
            )
        )
    for room in rooms:
        if room.floor_rated_load_kg_m2 <= FLOOR_UNSET_KG_M2:
            items.append(
                _item(
                    "missing",
                    "floor rating",
                    room.name,
                    "NetBox has no floor load rating: FLOOR_UNIFORM fails until entered",
                    f"/rooms/{room.pk}/edit/",
                )
            )
        if not site_air and not any(lp["kind"] in AIR_SIDE and lp["room_id"] == room.pk for lp in loops):
            items.append(
                _item(
                    "missing",
                    "room air cooling",
                    room.name,
                    "no CRAH/CRAC or other air-side loop: COOLING_AIR_ROOM fails under load",
                    f"/cooling-loops/new/?site={site.pk}&room={room.pk}",
                )
            )
    for src in sources:
        unset = src.capacity_kva is None and (src.capacity_kw is None or src.capacity_kw <= PANEL_UNSET_KW)
        if src.netbox_id is not None and unset:
            items.append(
                _item(
                    "missing",
                    "power source capacity",
                    src.name,
                    "NetBox has no panel or UPS capacity: POWER_UPSTREAM fails under load",
                    f"/power-sources/{src.pk}/edit/",
                )
            )
        if src.netbox_id is not None and src.parent_id is None:
            items.append(
                _item(
                    "assumed",
                    "upstream UPS",
                    src.name,
                    "NetBox models no UPS above its panels: add it as this source's parent",
                    f"/power-sources/new/?site={site.pk}",
                )
            )
    for rack in imported_racks:
        if rack.max_load_kg <= 0:
            items.append(
                _item(
                    "missing",
                    "rack max load",
                    rack.name,
                    "NetBox has no max_weight: RACK_LOAD fails under load",
                    f"/racks/{rack.pk}/edit/",
                )
            )
        if rack.empty_weight_kg <= 0:
            items.append(
                _item(
                    "missing",
                    "rack empty weight",
                    rack.name,
                    "NetBox has no weight: the floor load counts the frame as 0 kg",
                    f"/racks/{rack.pk}/edit/",
                )
            )
    imported_rows = {r.row_id for r in imported_racks}
    for row in rows:
        if row.pk in imported_rows and row.containment == Row.Containment.NONE and row.air_kw_per_rack_limit is None:
            items.append(
                _item(
                    "assumed",
                    "containment",
                    row.name,
                    "NetBox has none: open aisles assumed (the lowest air limit per rack)",
                    f"/rows/{row.pk}/edit/",
                )
            )
    has_liquid = any(lp["kind"] in LIQUID for lp in loops)
    for m in models:
        if m.source.startswith(SOURCE_PREFIX) and m.cooling == NodeModel.Cooling.AIR and m.liquid_fraction == 0:
            items.append(
                _item(
                    "assumed",
                    "cooling and liquid fraction",
                    m.name,
                    "NetBox has none: air-cooled assumed",
                    f"/node-models/{m.pk}/edit/",
                )
            )
        if m.liquid_fraction > 0 and not has_liquid:
            items.append(
                _item(
                    "missing",
                    "liquid cooling loop",
                    m.name,
                    "the model needs liquid and the site has no liquid loop: COOLING_LIQUID fails",
                    f"/cooling-loops/new/?site={site.pk}",
                )
            )
    items.sort(key=lambda i: 0 if i["kind"] == "missing" else 1)
    return items
