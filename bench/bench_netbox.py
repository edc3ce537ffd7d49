"""NetBox import benchmark: 2,000 racks of a generated NetBox-shaped payload, imported in one go. Target: < 60 s.

Run from the project root: ``.venv/bin/python bench/bench_netbox.py [racks]``. Uses ``DATABASE_URL`` when
set (the bench sites are deleted afterwards), else a throwaway SQLite file under /tmp. The payload is built
from the NetBox 4.4 fixture records (tests/netbox/fixtures) used as templates: one site, halls of 10 rows of
50 racks (child locations), two UPS panels, two 415 V 63 A feeds and two PDUs per rack, and in 60 % of the
racks four 8-PSU GPU servers (SR685a V3) with every PSU cabled to the A or B PDU. It is served by the tests'
loopback NetBox (limit/offset pagination, 1,000 per page) and read with pynetbox, so the time includes the
HTTP reads, the mapping, the writes with history, and the engine checking every rack.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TIME_TARGET_S = 60.0


def _setup_django() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "planner.settings")
    if not os.environ.get("DATABASE_URL"):
        fd, path = tempfile.mkstemp(prefix="bench_netbox_", suffix=".sqlite3", dir="/tmp")
        os.close(fd)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    import django

    django.setup()
    return os.environ["DATABASE_URL"]


def build_payload(n_racks: int) -> dict[str, list[dict]]:
    from tests.netbox.server import load_lists

    fx = load_lists()
    first = {k: v[0] for k, v in fx.items() if v}
    site = copy.deepcopy(next(s for s in fx["dcim/sites"] if s["slug"] == "fra1"))
    site.update(id=100, name="bench1", slug="bench1")
    site_ref = {"id": 100, "name": "bench1", "slug": "bench1", "display": "bench1"}
    sr685 = next(t for t in fx["dcim/device-types"] if t["slug"] == "lenovo-thinksystem-sr685a-v3")
    templates = [t for t in fx["dcim/power-port-templates"] if t["device_type"]["id"] == sr685["id"]]
    pdu_type = next(t for t in fx["dcim/device-types"] if t["slug"] == "px3-5724v")
    gpu_role = next(d["role"] for d in fx["dcim/devices"] if d["name"] == "fra1-gpu-003")
    pdu_role = next(d["role"] for d in fx["dcim/devices"] if d["name"].startswith("fra1-pdu"))
    out = {k: [] for k in fx}
    out["dcim/sites"] = [site]
    out["dcim/device-types"] = [sr685, pdu_type]
    out["dcim/power-port-templates"] = templates
    for side, pid in (("A", 1), ("B", 2)):
        panel = copy.deepcopy(first["dcim/power-panels"])
        panel.update(id=pid, name=f"UPS-{side}", site=site_ref)
        out["dcim/power-panels"].append(panel)
    ids = {"loc": 0, "dev": 0, "feed": 0, "port": 0}

    def nid(kind):
        ids[kind] += 1
        return ids[kind]

    racks_per_row, rows_per_hall = 50, 10
    n_halls = -(-n_racks // (racks_per_row * rows_per_hall))
    rack_i = 0
    for h in range(n_halls):
        hall = copy.deepcopy(first["dcim/locations"])
        hall.update(id=nid("loc"), name=f"Hall {h + 1}", slug=f"bench1-hall-{h + 1}", site=site_ref, parent=None)
        hall["_depth"] = 0
        out["dcim/locations"].append(hall)
        for r in range(rows_per_hall):
            if rack_i >= n_racks:
                break
            row = copy.deepcopy(hall)
            row.update(id=nid("loc"), name=f"Row {h + 1}-{r + 1:02d}", slug=f"bench1-h{h + 1}-r{r + 1}")
            row["parent"] = {"id": hall["id"], "name": hall["name"], "_depth": 0}
            row["_depth"] = 1
            out["dcim/locations"].append(row)
            for k in range(racks_per_row):
                if rack_i >= n_racks:
                    break
                rack_i += 1
                rack = copy.deepcopy(first["dcim/racks"])
                name = f"H{h + 1}R{r + 1:02d}-{k + 1:02d}"
                rack.update(id=rack_i, name=name, facility_id=f"BENCH1.H{h + 1}.R{r + 1:02d}.{k + 1:02d}")
                rack.update(site=site_ref, location={"id": row["id"], "name": row["name"], "_depth": 1})
                out["dcim/racks"].append(rack)
                rack_ref = {"id": rack_i, "name": name}
                pdus = {}
                for side, panel_id, kind in (("A", 1, "primary"), ("B", 2, "redundant")):
                    dev_id = nid("dev")
                    pdu = copy.deepcopy(first["dcim/devices"])
                    pdu.update(id=dev_id, name=f"{name.lower()}-pdu-{side.lower()}", rack=rack_ref, position=None)
                    pdu.update(site=site_ref, role=pdu_role, device_type=pdu_type, status={"value": "active"})
                    out["dcim/devices"].append(pdu)
                    pdus[side] = pdu
                    feed = copy.deepcopy(first["dcim/power-feeds"])
                    feed.update(id=nid("feed"), name=f"{name}-{side}", rack=rack_ref, amperage=63, voltage=415)
                    feed.update(power_panel={"id": panel_id, "name": f"UPS-{side}"}, type={"value": kind})
                    feed["link_peers"] = [{"id": nid("port"), "device": {"id": dev_id, "name": pdu["name"]}}]
                    out["dcim/power-feeds"].append(feed)
                if rack_i % 5 in (1, 2, 3):  # 60 % of the racks hold servers
                    for s in range(4):
                        dev_id = nid("dev")
                        dev = copy.deepcopy(first["dcim/devices"])
                        dev.update(id=dev_id, name=f"{name.lower()}-gpu-{s + 1}", rack=rack_ref, position=1 + 8 * s)
                        dev.update(site=site_ref, role=gpu_role, device_type=sr685, status={"value": "active"})
                        out["dcim/devices"].append(dev)
                        for j, t in enumerate(templates):
                            port = copy.deepcopy(first["dcim/power-ports"])
                            side = "A" if j % 2 == 0 else "B"
                            peer = pdus[side]
                            port.update(id=nid("port"), name=t["name"], device={"id": dev_id, "name": dev["name"]})
                            port["link_peers"] = [{"id": 0, "device": {"id": peer["id"], "name": peer["name"]}}]
                            out["dcim/power-ports"].append(port)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("racks", nargs="?", type=int, default=2000)
    args = parser.parse_args()
    db = _setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from planner.netbox.service import netbox_import
    from racks.models import Node, Pdu, Rack, Site
    from tests.netbox.server import FakeNetBox

    t0 = time.perf_counter()
    payload = build_payload(args.racks)
    t_build = time.perf_counter() - t0
    fake = FakeNetBox(payload)
    url = fake.start()
    try:
        t0 = time.perf_counter()
        summary = netbox_import(client_or_url=url, token=fake.token)
        took = time.perf_counter() - t0
        t1 = time.perf_counter()
        again = netbox_import(client_or_url=url, token=fake.token)
        took_again = time.perf_counter() - t1
    finally:
        fake.stop()
    figures = {
        "racks": Rack.objects.count(),
        "pdus": Pdu.objects.count(),
        "nodes": Node.objects.count(),
        "objects_in_payload": sum(len(v) for v in payload.values()),
        "http_requests": len(fake.requests),
        "payload_build_s": round(t_build, 2),
        "import_s": round(took, 2),
        "reimport_unchanged_s": round(took_again, 2),
        "reimport_changes": len(again.changes),
        "failing_racks": len(summary.failing_racks),
        "target_s": TIME_TARGET_S,
        "ok": took < TIME_TARGET_S,
        "database": db.split("://")[0],
    }
    print(json.dumps(figures, indent=2))
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        Site.objects.filter(slug="bench1").delete()
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
