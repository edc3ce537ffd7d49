"""Report benchmark: the nightly capacity report of a 10,000-rack site. Targets: < 60 s and < 1 GB.

Run from the project root: ``.venv/bin/python bench/bench_report.py [racks]``. Uses ``DATABASE_URL`` when
set (the bench site is deleted afterwards unless ``--keep``), else a throwaway SQLite file under /tmp.
Migrates the database, builds the site with bulk_create (10 rooms of rows of 20 racks; A+B PDUs on a
utility -> UPS -> panel chain; a CRAH and a CDU loop per room, rear doors listing the racks of some rows;
nodes in ~60 % of racks, a fifth of them planned), then builds the reports of three consecutive days (the
last two with history, so the forecast has a trend) and prints, for the last one, the wall time, the
tracemalloc peak and the process peak RSS (getrusage maxrss, and VmHWM reset just before the build where
Linux allows it).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIME_TARGET_S = 60.0
MEMORY_TARGET_MB = 1024.0


def _setup_django() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "planner.settings")
    if not os.environ.get("DATABASE_URL"):
        fd, path = tempfile.mkstemp(prefix="bench_report_", suffix=".sqlite3", dir="/tmp")
        os.close(fd)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("REPORT_EMAIL_RECIPIENTS", "")
    import django

    django.setup()
    return os.environ["DATABASE_URL"]


def _vm_hwm_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_hwm() -> bool:
    """Reset the peak RSS counter (Linux: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def build_site(n_racks: int, seed: int = 42):
    """A site of ``n_racks`` racks, everything bulk-created. Returns the site."""
    from cooling.models import CoolingLoop
    from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site

    rnd = random.Random(seed)
    stamp = int(time.time() * 1000)
    site = Site.objects.create(name=f"Bench {stamp}", slug=f"bench-{stamp}", utility_capacity_kw=400_000.0)
    n_rooms = 10
    racks_per_row = 20
    rows_per_room = max(1, -(-n_racks // (n_rooms * racks_per_row)))
    rooms = Room.objects.bulk_create(
        [
            Room(site=site, name=f"Hall {i + 1:02d}", floor_type="slab", floor_rated_load_kg_m2=1224.0)
            for i in range(n_rooms)
        ]
    )
    rows = Row.objects.bulk_create(
        [
            Row(room=room, name=f"Row {j + 1:03d}", containment="hot_aisle" if j % 3 else "cold_aisle")
            for room in rooms
            for j in range(rows_per_room)
        ]
    )
    racks = []
    for row in rows:
        for k in range(racks_per_row):
            if len(racks) == n_racks:
                break
            racks.append(
                Rack(
                    row=row, name=f"{row.name}-R{k + 1:02d}", position=k + 1, max_load_kg=1600.0, empty_weight_kg=150.0
                )
            )
    racks = Rack.objects.bulk_create(racks, batch_size=2000)

    # Power chain: utility -> per room UPS A and B -> per row panel A and B -> PDUs.
    utility = PowerSource.objects.create(site=site, name="Utility", kind="utility", capacity_kw=400_000.0)
    ups = PowerSource.objects.bulk_create(
        [
            PowerSource(site=site, name=f"{room.name} UPS {side}", kind="ups", capacity_kw=40_000.0, parent=utility)
            for room in rooms
            for side in "AB"
        ]
    )
    ups_by = {(u.name.split(" UPS ")[0], u.name[-1]): u for u in ups}
    room_name = {r.id: r.name for r in rooms}
    panels = PowerSource.objects.bulk_create(
        [
            PowerSource(
                site=site,
                name=f"{room_name[row.room_id]} {row.name} panel {side}",
                kind="panel",
                capacity_kw=1_200.0,
                parent=ups_by[(room_name[row.room_id], side)],
            )
            for row in rows
            for side in "AB"
        ],
        batch_size=2000,
    )
    panel_by = {}
    it = iter(panels)
    for row in rows:
        for side in "AB":
            panel_by[(row.id, side)] = next(it)

    models = {m.slug: m for m in NodeModel.objects.all()}
    # Rack kinds: (share, model slug, units, PDUs per side).
    kinds = [
        (0.40, None, 0, 1),
        (0.25, "cpu-2u", 12, 1),
        (0.12, "dgx-h100", 2, 1),
        (0.10, "dgx-b200", 1, 1),
        (0.06, "hgx-h100-8gpu", 2, 1),
        (0.05, "dgx-a100", 4, 1),
        (0.02, "gb200-nvl72", 1, 4),
    ]
    pdus, nodes, liquid_racks = [], [], []
    for rack in racks:
        x, acc = rnd.random(), 0.0
        kind = kinds[-1]
        for candidate in kinds:
            acc += candidate[0]
            if x < acc:
                kind = candidate
                break
        _, slug, units, per_side = kind
        one_sided = rnd.random() < 0.03
        for side in "A" if one_sided else "AB":
            for p in range(per_side):
                pdus.append(
                    Pdu(rack=rack, name=f"{side}{p + 1}", side=side, phases=3, voltage_v=415, current_a=63,
                        source=panel_by[(rack.row_id, side)])
                )  # fmt: skip
        if slug is None:
            continue
        model = models[slug]
        if model.rack_scale:
            liquid_racks.append(rack)
        u = 1
        for n in range(units):
            status = "planned" if rnd.random() < 0.2 else "installed"
            nodes.append(Node(rack=rack, model=model, u_position=u, name=f"n{n + 1}", status=status))
            u += model.u_height
    Pdu.objects.bulk_create(pdus, batch_size=5000)
    Node.objects.bulk_create(nodes, batch_size=5000)

    # Room air sized for ~12 kW of air per rack plus two redundant units.
    crah_units = -(-rows_per_room * racks_per_row * 12 // 250) + 2
    # Cooling: a CRAH per room, a CDU per room (no redundant unit in every third room), rear doors on some rows.
    loops = CoolingLoop.objects.bulk_create(
        [
            CoolingLoop(site=site, room=room, name=f"{room.name} CRAH", kind="crah", unit_capacity_kw=250.0,
                        units=crah_units, redundant_units=2, supply_temp_c=22.0, fluid="air")
            for room in rooms
        ]
        + [
            CoolingLoop(site=site, room=room, name=f"{room.name} CDU", kind="direct_liquid", unit_capacity_kw=1_000.0,
                        units=4, redundant_units=0 if i % 3 == 0 else 1, supply_temp_c=30.0, fluid="water")
            for i, room in enumerate(rooms)
        ]
    )  # fmt: skip
    doors = CoolingLoop.objects.bulk_create(
        [
            CoolingLoop(site=site, room_id=row.room_id, name=f"{room_name[row.room_id]} {row.name} doors",
                        kind="rear_door", unit_capacity_kw=30.0, units=racks_per_row, redundant_units=0,
                        supply_temp_c=18.0, fluid="water")
            for row in rows[::5]
        ]
    )  # fmt: skip
    door_by_row = {d.name.rsplit(" ", 1)[0]: d for d in doors}
    Link = CoolingLoop.racks.through
    links = []
    row_by_id = {row.id: row for row in rows}
    for rack in racks:
        row = row_by_id[rack.row_id]
        door = door_by_row.get(f"{room_name[row.room_id]} {row.name}")
        if door is not None:
            links.append(Link(coolingloop_id=door.id, rack_id=rack.id))
    Link.objects.bulk_create(links, batch_size=5000)
    return site, {
        "rooms": len(rooms),
        "rows": len(rows),
        "racks": len(racks),
        "pdus": len(pdus),
        "nodes": len(nodes),
        "loops": len(loops) + len(doors),
        "rear_door_links": len(links),
        "power_sources": 1 + len(ups) + len(panels),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("racks", nargs="?", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="Keep the bench site (DATABASE_URL databases).")
    args = parser.parse_args()

    db_url = _setup_django()
    from django.core.management import call_command
    from django.db import connection, reset_queries

    print(f"database: {connection.vendor} ({db_url.split('@')[-1]})")
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    site, counts = build_site(args.racks)
    print(
        f"built site {site.slug} in {time.perf_counter() - t0:.1f} s: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
    )

    from planner import reports
    from planner.models import CapacityReport

    day = date(2026, 3, 10)
    ok = True
    try:
        for offset in (2, 1):
            _grow(site, 150)  # the site grows day by day: the forecast has a trend
            t0 = time.perf_counter()
            reports.report_build(site.id, day - timedelta(days=offset), notify=False)
            print(f"warm-up report for {day - timedelta(days=offset)}: {time.perf_counter() - t0:.1f} s")

        import gc

        gc.collect()
        rss_before = _vm_hwm_mb()
        hwm_reset = _reset_hwm()
        rss_base = _vm_hwm_mb()

        _grow(site, 150)
        # Timed run, without tracemalloc (it slows Python down several times).
        from django.conf import settings

        settings.DEBUG = False
        reset_queries()
        t0 = time.perf_counter()
        report = reports.report_build(site.id, day, notify=False)
        elapsed = time.perf_counter() - t0
        hwm_after = _vm_hwm_mb()
        maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        # Same build again under tracemalloc for the Python heap peak.
        tracemalloc.start()
        t1 = time.perf_counter()
        reports.report_build(site.id, day, notify=False)
        traced_s = time.perf_counter() - t1
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_mb = peak / 1024 / 1024

        report.refresh_from_db()
        size_mb = len(__import__("json").dumps(report.data)) / 1024 / 1024
        s = report.summary
        print(
            f"report {report.pk}: {report.rack_count:,} racks, {report.node_count:,} nodes, "
            f"IT load {report.it_load_kw:,.0f} kW, {s['near_limit_count']:,} racks near a limit, "
            f"{s['single_feed_count']:,} single-fed, {s['psu_feed_loss_node_count']:,} nodes PSU-exposed, "
            f"run-out {s['run_out']}, data {size_mb:.1f} MB JSON"
        )
        print(f"report build: {elapsed:.2f} s (target < {TIME_TARGET_S:.0f} s)")
        print(f"tracemalloc peak: {peak_mb:.0f} MB (second build, traced: {traced_s:.1f} s)")
        if hwm_reset and hwm_after is not None:
            print(
                f"peak RSS during the build: {hwm_after:.0f} MB (process RSS before it {rss_base:.0f} MB; "
                f"getrusage maxrss over the whole run, site creation included: {maxrss_mb:.0f} MB)"
            )
        else:
            print(
                f"getrusage maxrss (whole run, site creation included): {maxrss_mb:.0f} MB (before build {rss_before})"
            )
        peak_rss = hwm_after if hwm_reset and hwm_after is not None else maxrss_mb
        ok = elapsed < TIME_TARGET_S and peak_rss < MEMORY_TARGET_MB and peak_mb < MEMORY_TARGET_MB
        print("PASS" if ok else "FAIL", f"(time < {TIME_TARGET_S:.0f} s, memory < {MEMORY_TARGET_MB:.0f} MB)")
    finally:
        if connection.vendor == "sqlite":
            path = connection.settings_dict["NAME"]
            connection.close()
            if str(path).startswith("/tmp/bench_report_"):
                Path(path).unlink(missing_ok=True)
        elif not args.keep:
            CapacityReport.objects.filter(site=site).delete()
            _delete_site(site)
    return 0 if ok else 1


def _grow(site, racks: int) -> None:
    """Install six CPU servers in each of ``racks`` empty racks of the site."""
    from planner import budget_tokens
    from racks.models import Node, NodeModel, Rack

    cpu = NodeModel.objects.get(slug="cpu-2u")
    empty = list(
        Rack.objects.filter(row__room__site=site, nodes__isnull=True, pdus__side="B")
        .distinct()
        .order_by("id")
        .values_list("id", flat=True)[:racks]
    )
    Node.objects.bulk_create(
        [
            Node(rack_id=rid, model=cpu, u_position=1 + 2 * i, name=f"g{i + 1}", status="installed")
            for rid in empty
            for i in range(6)
        ]
    )
    # bulk_create sends no signals: tell the budget cache these racks changed.
    budget_tokens.touch_sites_of_racks(empty)


def _delete_site(site) -> None:
    """Delete the bench site (PDUs and child sources first: their foreign keys protect them)."""
    from racks.models import Node, Pdu, PowerSource

    Node.objects.filter(rack__row__room__site=site).delete()
    Pdu.objects.filter(rack__row__room__site=site).delete()
    for kind in ("panel", "ups", "utility"):
        PowerSource.objects.filter(site=site, kind=kind).delete()
    site.delete()


if __name__ == "__main__":
    sys.exit(main())
