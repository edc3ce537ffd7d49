"""A large site export document for import tests, built without writing the large site.

A one-rack template site is written with the factories and exported, so every record has exactly the fields
and values ``export_site`` writes; the document then repeats the template's room, row and rack records under
new names, in the order ``export_site`` sorts them (names zero-padded so that name order is number order).
Importing the document and exporting the new site must give the document back (except the site's name and
slug), which is the round-trip comparison the tests make. The template site is deleted again.

Per room: one UPS A and one UPS B under a site utility feed, rows of ``racks_per_row`` racks with an A and a B
PDU (A fed by UPS A, B by UPS B) and ``nodes_per_rack`` 2 U CPU servers each, a CRAH loop for the whole room
and a direct-liquid loop listing the racks of the room's first row.
"""

from __future__ import annotations

import copy
import math

from planner import transfer
from racks.models import NodeModel
from tests import factories as f


def site_document(n_racks: int, *, racks_per_row: int = 25, rows_per_room: int = 10, nodes_per_rack: int = 2) -> dict:
    """An export document of a site with ``n_racks`` racks (needs the database for the template)."""
    template = f.SiteFactory(name="Template", slug="template", utility_capacity_kw=1_000_000)
    utility = f.PowerSourceFactory(site=template, name="Utility", kind="utility", capacity_kw=1_000_000)
    ups = f.PowerSourceFactory(site=template, name="UPS A", parent=utility, capacity_kw=50_000)
    room = f.RoomFactory(site=template, name="Hall")
    row = f.RowFactory(room=room, name="Row", containment="hot_aisle")
    f.CoolingLoopFactory(site=template, room=room, name="CRAH", unit_capacity_kw=500, units=6, redundant_units=1)
    cdu = f.CoolingLoopFactory(
        site=template, room=room, name="CDU", kind="direct_liquid", fluid="water", supply_temp_c=30,
        unit_capacity_kw=1_000, units=1, redundant_units=0,
    )  # fmt: skip
    rack = f.RackFactory(row=row, name="R", position=1)
    cdu.racks.add(rack)
    f.PduFactory(rack=rack, name="R-A", side="A", source=ups)
    f.PduFactory(rack=rack, name="R-B", side="B", source=ups)
    cpu = NodeModel.objects.get(slug="cpu-2u")
    f.NodeFactory(rack=rack, model=cpu, u_position=1, name="cpu-1", status="installed")
    doc = transfer.export_site(template)
    template.delete()

    t_utility, t_ups = doc["power_sources"]
    t_room = doc["rooms"][0]
    t_row = t_room["rows"][0]
    t_rack = t_row["racks"][0]
    t_pdu_a, t_pdu_b = t_rack["pdus"]
    t_node = t_rack["nodes"][0]
    t_crah, t_cdu = (next(lp for lp in doc["cooling_loops"] if lp["name"] == n) for n in ("CRAH", "CDU"))

    n_rooms = math.ceil(n_racks / (racks_per_row * rows_per_room))
    sources = [t_utility]
    rooms, loops = [], []
    left = n_racks
    for r in range(1, n_rooms + 1):
        hall = f"Hall {r:02d}"
        ups_names = {side: f"UPS {r:02d}{side}" for side in "AB"}
        sources += [{**t_ups, "name": ups_names[side]} for side in "AB"]
        rows = []
        for w in range(1, rows_per_room + 1):
            if left <= 0:
                break
            row_name = f"Row {w:02d}"
            racks = []
            for k in range(1, min(racks_per_row, left) + 1):
                rack_name = f"R{w:02d}-{k:03d}"
                pdus = [
                    {**t_pdu_a, "name": f"{rack_name}-A", "source": ups_names["A"]},
                    {**t_pdu_b, "name": f"{rack_name}-B", "source": ups_names["B"]},
                ]
                nodes = [{**t_node, "u_position": 1 + 2 * n, "name": f"cpu-{n + 1}"} for n in range(nodes_per_rack)]
                racks.append({**copy.deepcopy(t_rack), "name": rack_name, "position": k, "pdus": pdus, "nodes": nodes})
            left -= len(racks)
            rows.append({**copy.deepcopy(t_row), "name": row_name, "racks": racks})
        rooms.append({**copy.deepcopy(t_room), "name": hall, "rows": rows})
        loops.append({**t_crah, "name": f"CRAH {r:02d}", "room": hall, "racks": []})
        first_row = rows[0]
        loops.append(
            {
                **t_cdu,
                "name": f"CDU {r:02d}",
                "room": hall,
                "racks": sorted([hall, first_row["name"], rk["name"]] for rk in first_row["racks"]),
            }
        )
    # export_site's orders: sources parents first then by name, rooms and loops by name.
    sources = [sources[0], *sorted(sources[1:], key=lambda s: s["name"])]
    doc.update(
        power_sources=sources,
        rooms=sorted(rooms, key=lambda rm: rm["name"]),
        cooling_loops=sorted(loops, key=lambda lp: lp["name"]),
    )
    doc["site"] = {**doc["site"], "name": "Big site", "slug": "big-site"}
    return doc


def strip_names(doc: dict) -> dict:
    """The document without its timestamp and the site's own name and slug (an import may rename them)."""
    doc = {k: v for k, v in doc.items() if k != "exported_at"}
    doc["site"] = {k: v for k, v in doc["site"].items() if k not in ("name", "slug", "id")}
    return doc
