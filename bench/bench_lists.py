"""Lists benchmark (issue 16): the server render of the racks list of a 5,000-rack site. Target: median under
300 ms.

Run from the project root: ``.venv/bin/python bench/bench_lists.py [racks] [runs]``. Builds the site in a
throwaway SQLite database (or the database of ``DATABASE_URL``, which must be a scratch one: the script migrates
it and adds a site) with ``bulk_create``: 50 rows, two PDUs per rack, a node in every other rack. Then renders
``/lists/racks/?site=<id>`` (first page, sorted by the default order), the same list sorted by name descending
and filtered by a search, and the last page, with Django's test client (one warm-up, then ``runs`` timed renders
each) and prints the median wall time (and CPU time) and the query count. Exit status 1 when a median misses
the target.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_MS = 300.0


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "planner.settings")
    if not os.environ.get("DATABASE_URL"):
        scratch = Path(tempfile.mkdtemp(prefix="bench-lists-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_site(n_racks: int):
    from django.db import transaction

    from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site

    per_row = max(n_racks // 50, 1)
    with transaction.atomic():
        tag = time.time_ns()
        site = Site.objects.create(name=f"Bench {n_racks} {tag}", slug=f"bench-{n_racks}-{tag}")
        ups = PowerSource.objects.create(site=site, name="UPS", kind="ups", capacity_kw=100_000)
        room = Room.objects.create(site=site, name="Hall", floor_type="slab", floor_rated_load_kg_m2=1224)
        rows = Row.objects.bulk_create([Row(room=room, name=f"R{i:02d}") for i in range(-(-n_racks // per_row))])
        racks = Rack.objects.bulk_create(
            [
                Rack(
                    row=rows[i // per_row],
                    name=f"K{i:05d}",
                    position=i % per_row + 1,
                    max_load_kg=1400,
                    empty_weight_kg=150,
                )
                for i in range(n_racks)
            ]
        )
        Pdu.objects.bulk_create(
            [Pdu(rack=r, name=f"PDU-{s}", side=s, voltage_v=415, current_a=63, source=ups) for r in racks for s in "AB"]
        )
        model = NodeModel.objects.get(slug="cpu-2u")
        Node.objects.bulk_create(
            [Node(rack=r, model=model, u_position=1, name="cpu-1", status="installed") for r in racks[::2]]
        )
    return site


def measure(client, url: str, runs: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up
    walls, cpus, queries = [], [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            w0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url)
            walls.append((time.perf_counter() - w0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
    return statistics.median(walls), statistics.median(cpus), queries


def main() -> int:
    n_racks = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    setup_django()
    from django.contrib.auth.models import User
    from django.test import Client

    site = build_site(n_racks)
    user = User.objects.create_superuser(f"bench-{time.time_ns()}", password="x")
    client = Client()
    client.force_login(user)
    last = -(-n_racks // 50)
    failed = False
    for label, url in (
        ("first page", f"/lists/racks/?site={site.pk}"),
        ("search + sort", f"/lists/racks/?site={site.pk}&q=K0&sort=-name"),
        ("last page", f"/lists/racks/?site={site.pk}&page={last}"),
    ):
        wall, cpu, queries = measure(client, url, runs)
        failed |= wall > TARGET_MS
        print(
            f"{n_racks} racks, racks list {label}: median {wall:.0f} ms over {runs} renders "
            f"(CPU median {cpu:.0f} ms), {queries} queries; target < {TARGET_MS:.0f} ms"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
