"""Scale benchmark: the planner's questions on estates of 1,000, 10,000 and 100,000 racks.

Run from the project root (PostgreSQL; the database is dropped and re-created for every size, so give it a
scratch name containing "bench")::

    .venv/bin/python bench/scale.py --sizes 1000,10000,100000 \\
        --db postgres://postgres@127.0.0.1:5432/planner_bench

For each size: re-create the database, migrate, load the estate (``bench/estate.py``), VACUUM ANALYZE, then
time through Django's test client (token of a facilities user; session login for the page):

- ``check``: ``POST /api/v1/placements/check/`` on random racks of the whole estate, random models;
- ``rack headroom``: ``GET /api/v1/racks/{id}/headroom/`` on random racks;
- ``site headroom``: ``GET /api/v1/sites/{id}/headroom/`` of the largest site;
- ``feasibility``: ``POST /api/v1/feasibility/`` 32 x dgx-b200 at the largest site;
- ``floor plan``: ``GET /rooms/{id}/`` of the largest room;
- ``list racks|nodes|pdus``: ``GET /api/v1/<list>/?limit=50``;
- ``report (per site)``: ``planner.reports.report_build`` for every site (the nightly run), total in the note.

Per operation: p50 and p95 wall time, SQL queries per request (min-max), the Python heap peak of one traced
request (tracemalloc) and the process peak RSS while the operation ran (VmHWM, reset before each one). The
``baseline`` columns time the same requests with the naive per-rack query pattern (``bench/baseline.py``)
patched in, on the same data, and give ours / baseline (p50). A summary compares the sizes and the targets
at 100,000 racks (check p95 < 50 ms, site headroom < 2 s, nightly report of the estate < 10 min).

At the largest size the hot queries are captured (CaptureQueriesContext) and run again under
``EXPLAIN (ANALYZE, BUFFERS)``; indexes listed in ``NEW_INDEXES`` are also dropped in a rolled-back
transaction to show the plan before them. ``--profile OP`` prints a cProfile of one operation.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/planner_bench"
TARGET_CHECK_P95_MS = 50.0
TARGET_SITE_HEADROOM_MS = 2_000.0
TARGET_REPORT_S = 600.0
LINEAR_TOLERANCE = 1.5  # per-rack cost may vary this much between sizes (timing noise on a shared machine)
FEASIBILITY_MODEL, FEASIBILITY_QTY = "dgx-b200", 32
CHECK_MODELS = ("cpu-2u", "dgx-h100", "dgx-b200", "gb200-nvl72")
# Indexes added for these plans (racks/migrations, cooling/migrations): dropped in a rolled-back transaction
# to show the plans without them.
NEW_INDEXES: tuple[str, ...] = ()

# Samples per operation: (ours, baseline). Scaled by --samples.
SAMPLES = {
    "check": (200, 5),
    "check (cold cache)": (50, 0),
    "rack headroom": (200, 5),
    "site headroom": (50, 3),
    "site headroom (cold cache)": (10, 0),
    "feasibility": (5, 2),
    "floor plan": (10, 2),
    "list racks": (50, 0),
    "list nodes": (50, 0),
    "list pdus": (50, 0),
}


# --- Setup -------------------------------------------------------------------------------------------------


def setup_django(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "planner.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["REPORT_EMAIL_RECIPIENTS"] = ""
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # production-like: no query log kept


def recreate_database(db_url: str) -> None:
    import dj_database_url
    import psycopg
    from django.db import connection
    from psycopg import sql

    cfg = dj_database_url.parse(db_url)
    name = cfg["NAME"]
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    connection.close()
    conninfo = {"host": cfg.get("HOST") or None, "port": cfg.get("PORT") or None, "user": cfg.get("USER") or None}
    if cfg.get("PASSWORD"):
        conninfo["password"] = cfg["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in conninfo.items() if v}) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- Measurement -------------------------------------------------------------------------------------------


def vm_hwm_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_hwm() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class QueryCounter:
    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


@dataclass
class Stat:
    name: str
    times_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    traced_peak_mb: float | None = None
    rss_peak_mb: float | None = None
    base_times_ms: list[float] = field(default_factory=list)
    base_queries: list[int] = field(default_factory=list)
    note: str = ""
    total_s: float | None = None
    base_total_s: float | None = None

    @property
    def p50(self):
        return pct(self.times_ms, 50)

    @property
    def p95(self):
        return pct(self.times_ms, 95)

    @property
    def base_p50(self):
        return pct(self.base_times_ms, 50)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "n": len(self.times_ms),
            "p50_ms": self.p50,
            "p95_ms": self.p95,
            "queries": [min(self.queries), max(self.queries)] if self.queries else None,
            "traced_peak_mb": self.traced_peak_mb,
            "rss_peak_mb": self.rss_peak_mb,
            "baseline_n": len(self.base_times_ms),
            "baseline_p50_ms": self.base_p50,
            "baseline_queries": [min(self.base_queries), max(self.base_queries)] if self.base_queries else None,
            "total_s": self.total_s,
            "baseline_total_s": self.base_total_s,
            "note": self.note,
        }


def run_timed(call: Callable[[int], None], n: int, counter: QueryCounter) -> tuple[list[float], list[int]]:
    from django.db import connection

    times, queries = [], []
    with connection.execute_wrapper(counter):
        for i in range(n):
            counter.n = 0
            t0 = time.perf_counter()
            call(i)
            times.append((time.perf_counter() - t0) * 1000)
            queries.append(counter.n)
    return times, queries


def measure(name: str, call: Callable[[int], None], n: int, n_base: int = 0, *, warmup: bool = True) -> Stat:
    """Time ``call(i)`` for i in range(n), then once under tracemalloc, then ``n_base`` times on the baseline."""
    from bench import baseline

    stat = Stat(name)
    counter = QueryCounter()
    if warmup:
        call(0)
    gc.collect()
    reset_hwm()
    stat.times_ms, stat.queries = run_timed(call, n, counter)
    stat.rss_peak_mb = vm_hwm_mb()
    tracemalloc.start()
    call(0)
    stat.traced_peak_mb = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    if n_base:
        with baseline.patched():
            stat.base_times_ms, stat.base_queries = run_timed(call, n_base, counter)
    return stat


# --- The operations ----------------------------------------------------------------------------------------


@dataclass
class Estate:
    size: int
    rack_ids: list[int]
    site_ids: list[int]
    largest_site: int
    largest_site_racks: int
    largest_room: int
    largest_room_racks: int
    ai_rack: int  # a rack of the largest site on a busway chain, with a CDU (the longest rack_context)


def describe_estate(size: int) -> Estate:
    from django.db.models import Count

    from racks.models import Rack, Room, Site

    sites = list(Site.objects.annotate(n=Count("rooms__rows__racks")).order_by("-n", "id").values_list("id", "n"))
    rooms = Room.objects.annotate(n=Count("rows__racks")).order_by("-n", "id").values_list("id", "n")[:1]
    ai = (
        Rack.objects.filter(row__room__site_id=sites[0][0], row__room__floor_type="slab", nodes__isnull=False)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    return Estate(
        size=size,
        rack_ids=list(Rack.objects.order_by("id").values_list("id", flat=True)),
        site_ids=sorted(s for s, _ in sites),
        largest_site=sites[0][0],
        largest_site_racks=sites[0][1],
        largest_room=rooms[0][0],
        largest_room_racks=rooms[0][1],
        ai_rack=ai or Rack.objects.filter(row__room__site_id=sites[0][0]).values_list("id", flat=True).first(),
    )


def warm_budget_cache(est: Estate) -> None:
    from planner import selectors
    from racks.models import Site

    for site in Site.objects.filter(pk__in=est.site_ids):
        selectors.site_budgets(site)


def clients():
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from rest_framework.authtoken.models import Token

    user, _ = User.objects.get_or_create(username="bench-facilities")
    user.groups.add(Group.objects.get(name="facilities"))
    token, _ = Token.objects.get_or_create(user=user)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    web = Client()
    web.force_login(user)
    return api, web


def _ok(response, *codes):
    if response.status_code not in (codes or (200,)):
        raise AssertionError(f"{response.status_code}: {response.content[:500]!r}")
    return response


def operations(est: Estate, api, web, seed: int) -> dict[str, Callable[[int], None]]:
    from planner import headroom as site_headroom_mod
    from planner import selectors

    rnd = random.Random(f"{seed}-requests-{est.size}")
    picks = [rnd.choice(est.rack_ids) for _ in range(2_000)]
    models = [rnd.choice(CHECK_MODELS) for _ in range(2_000)]
    qty = [1 if m == "gb200-nvl72" else rnd.choice((1, 1, 2)) for m in models]

    def check(i):
        body = {"rack": picks[i], "model": models[i], "quantity": qty[i]}
        _ok(api.post("/api/v1/placements/check/", body, content_type="application/json"))

    def check_cold(i):
        # The first check of a site after a write to it (or in a new worker): its budget totals are summed.
        selectors.budget_cache.clear()
        check(i)

    def rack_headroom(i):
        _ok(api.get(f"/api/v1/racks/{picks[-1 - i]}/headroom/"))

    def site_headroom(i):
        _ok(api.get(f"/api/v1/sites/{est.largest_site}/headroom/"))

    def site_headroom_cold(i):
        # The first request after a write to the site (or in a new worker): the whole site is summed.
        site_headroom_mod._site_headroom_cache.clear()
        site_headroom(i)

    def feasibility(i):
        body = {"site": est.largest_site, "model": FEASIBILITY_MODEL, "quantity": FEASIBILITY_QTY}
        _ok(api.post("/api/v1/feasibility/", body, content_type="application/json"))

    metrics = ("kw", "power_pct", "cooling_pct", "floor_pct", "free_u")

    def floor_plan(i):
        _ok(web.get(f"/rooms/{est.largest_room}/", {"metric": metrics[i % len(metrics)]}))

    def lister(path):
        def call(i):
            _ok(api.get(f"/api/v1/{path}/", {"limit": 50}))

        return call

    return {
        "check": check,
        "check (cold cache)": check_cold,
        "rack headroom": rack_headroom,
        "site headroom": site_headroom,
        "site headroom (cold cache)": site_headroom_cold,
        "feasibility": feasibility,
        "floor plan": floor_plan,
        "list racks": lister("racks"),
        "list nodes": lister("nodes"),
        "list pdus": lister("pdus"),
    }


def deep_page_note(api, path: str) -> str:
    count = _ok(api.get(f"/api/v1/{path}/", {"limit": 1})).json()["count"]
    t0 = time.perf_counter()
    _ok(api.get(f"/api/v1/{path}/", {"limit": 50, "offset": max(count - 50, 0)}))
    return f"{count:,} rows; last page {(time.perf_counter() - t0) * 1000:.0f} ms"


def measure_reports(est: Estate, *, baseline_sites: int | None) -> Stat:
    from bench import baseline
    from bench.estate import REPORT_DAY
    from planner import reports

    stat = Stat("report (per site)")
    counter = QueryCounter()
    reports.report_build(est.site_ids[-1], REPORT_DAY, notify=False)  # warm-up (replaced below)
    gc.collect()
    reset_hwm()
    t0 = time.perf_counter()
    stat.times_ms, stat.queries = run_timed(
        lambda i: reports.report_build(est.site_ids[i], REPORT_DAY, notify=False), len(est.site_ids), counter
    )
    stat.total_s = time.perf_counter() - t0
    stat.rss_peak_mb = vm_hwm_mb()
    tracemalloc.start()
    reports.report_build(est.largest_site, REPORT_DAY, notify=False)
    stat.traced_peak_mb = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    n_base = len(est.site_ids) if baseline_sites is None else min(baseline_sites, len(est.site_ids))
    if n_base:
        with baseline.patched():
            t0 = time.perf_counter()
            stat.base_times_ms, stat.base_queries = run_timed(
                lambda i: reports.report_build(est.site_ids[i], REPORT_DAY, notify=False), n_base, counter
            )
            stat.base_total_s = time.perf_counter() - t0
    stat.note = f"estate total {stat.total_s:.1f} s over {len(est.site_ids)} sites"
    if stat.base_total_s is not None:
        scope = "estate" if n_base == len(est.site_ids) else f"{n_base} sites"
        stat.note += f"; baseline {scope} {stat.base_total_s:.1f} s"
    return stat


def verify_baseline(est: Estate, n: int = 5) -> str:
    """The baseline must answer what ours answers: compare rack contexts on sample racks."""
    from bench import baseline
    from planner import selectors

    rnd = random.Random(est.size)
    racks = [est.ai_rack] + [rnd.choice(est.rack_ids) for _ in range(n - 1)]
    for rid in racks:
        ours, naive = selectors.rack_context(rid), baseline.rack_context(rid)
        diff = _diff(ours, naive)
        if diff:
            raise AssertionError(f"baseline context of rack {rid} differs from ours: {diff}")
    return f"baseline rack contexts identical to ours on {len(racks)} racks"


def _diff(a, b, path="ctx"):
    import dataclasses

    if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b):
        for f in dataclasses.fields(a):
            d = _diff(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
            if d:
                return d
        return None
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = _diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if isinstance(a, float) and isinstance(b, float):
        return None if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6) else f"{path}: {a} vs {b}"
    return None if a == b else f"{path}: {a!r} vs {b!r}"


# --- EXPLAIN -----------------------------------------------------------------------------------------------


def hot_queries(est: Estate, api) -> list[tuple[str, str]]:
    """(label, SQL) of the hot queries, captured from real calls."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.estate import REPORT_DAY
    from planner import reports, selectors

    out = []

    def capture(fn):
        with CaptureQueriesContext(connection) as cq:
            fn()
        return [q["sql"] for q in cq.captured_queries]

    selectors.budget_cache.clear()
    sqls = capture(lambda: selectors.rack_context(est.ai_rack))
    out += [("rack_context: the rack's nodes", s) for s in sqls if s.startswith('SELECT "racks_node"')][:1]
    out += [("site budgets (cold): load per rack", s) for s in sqls if "GROUP BY" in s and "SUM(" in s][:1]
    out += [("site budgets (cold): PDU feeds", s) for s in sqls if s.startswith('SELECT "racks_pdu"."rack_id"')][:1]
    sqls = capture(lambda: selectors.site_snapshot(est.largest_site))
    out += [("site_snapshot: nodes", s) for s in sqls if s.startswith('SELECT "racks_node"')][:1]
    out += [("site_snapshot: PDUs", s) for s in sqls if s.startswith('SELECT "racks_pdu"')][:1]
    for path, table in (("racks", "racks_rack"), ("nodes", "racks_node"), ("pdus", "racks_pdu")):
        sqls = capture(lambda p=path: _ok(api.get(f"/api/v1/{p}/", {"limit": 50})))
        out += [(f"list {path}: count", s) for s in sqls if "COUNT(*)" in s and f'FROM "{table}"' in s][:1]
        out += [(f"list {path}: page", s) for s in sqls if "LIMIT 50" in s and f'FROM "{table}"' in s][:1]
    sqls = capture(lambda: reports.load_history(est.largest_site, REPORT_DAY, window=29))
    out += [("report: history", sqls[0])]
    sqls = capture(lambda: reports.planned_node_ids(est.largest_site))
    out += [("report: planned nodes", sqls[0])]
    return out


LARGE_TABLES = (
    "racks_node", "racks_pdu", "racks_rack", "racks_row", "racks_powersource", "cooling_coolingloop_racks",
    "planner_capacityreport",
)  # fmt: skip


def index_audit(ops: dict[str, Callable[[int], None]], est: Estate) -> list[dict]:
    """Every query of one call of each operation under EXPLAIN ANALYZE: the slowest, and seq scans of large tables."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.estate import REPORT_DAY
    from planner import reports

    calls = dict(ops)
    calls["report (per site)"] = lambda i: reports.report_build(est.largest_site, REPORT_DAY, notify=False)
    out = []
    for name, call in calls.items():
        call(0)
        with CaptureQueriesContext(connection) as cq:
            call(0)
        rows = []
        for q in cq.captured_queries:
            sql = q["sql"] or ""
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            plan = explain(sql, analyze=True, buffers=False)
            seq = sorted({t for line in plan for t in re.findall(r"Seq Scan on (\w+)", line) if t in LARGE_TABLES})
            rows.append((float(_exec_ms(plan).split()[0]), seq, sql))
        rows.sort(key=lambda r: -r[0])
        out.append(
            {
                "operation": name,
                "queries": len(cq.captured_queries),
                "sql_ms": sum(r[0] for r in rows),
                "slowest_ms": rows[0][0] if rows else 0.0,
                "slowest": rows[0][2][:90] if rows else "",
                "seq_scans": sorted({t for r in rows for t in r[1]}),
            }
        )
    return out


def print_audit(audit: list[dict]) -> None:
    print("\n## Index audit: every query of one call, EXPLAIN ANALYZE (server time, ms)")
    print(f"{'operation':<20}{'queries':>8}{'SQL ms':>9}{'slowest':>9}  seq scans of large tables / slowest query")
    for a in audit:
        seq = ", ".join(a["seq_scans"]) or "none"
        print(
            f"{a['operation']:<20}{a['queries']:>8}{a['sql_ms']:>9.1f}{a['slowest_ms']:>9.1f}  {seq} / {a['slowest']}"
        )


def explain(sql: str, *, analyze: bool = True, buffers: bool = True) -> list[str]:
    from django.db import connection

    options = ", ".join(o for o, on in (("ANALYZE", analyze), ("BUFFERS", buffers)) if on)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) {sql}")
        return [r[0] for r in cursor.fetchall()]


def explain_section(est: Estate, api) -> list[dict]:
    from django.db import connection, transaction

    from racks.models import Rack

    Rack.objects.first()  # warm connection
    queries = hot_queries(est, api)
    before: dict[str, list[str]] = {}
    existing = []
    if NEW_INDEXES:
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", [list(NEW_INDEXES)])
            existing = [r[0] for r in cursor.fetchall()]
    if existing:

        class Rollback(Exception):
            pass

        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    for name in existing:
                        cursor.execute(f'DROP INDEX "{name}"')
                for label, sql in queries:
                    explain(sql)  # same cache state as the "after" runs
                    before[label] = explain(sql)
                raise Rollback
        except Rollback:
            pass
    results = []
    for label, sql in queries:
        explain(sql)  # warm
        after = explain(sql)
        results.append({"label": label, "sql": sql, "before": before.get(label), "plan": after})
    return results


def _exec_ms(plan: list[str] | None) -> str:
    if not plan:
        return "-"
    for line in plan:
        if line.startswith("Execution Time:"):
            return line.split(":", 1)[1].strip()
    return "?"


def print_explain(results: list[dict], dropped: tuple[str, ...]) -> None:
    print("\n## EXPLAIN (ANALYZE, BUFFERS) of the hot queries")
    for r in results:
        head = f"\n### {r['label']}: {_exec_ms(r['plan'])}"
        if r["before"]:
            head += f" (without {', '.join(dropped)}: {_exec_ms(r['before'])})"
        print(head)
        sql = r["sql"]
        print("SQL: " + (sql if len(sql) <= 600 else sql[:600] + f" ... [{len(sql):,} chars]"))
        if r["before"] and r["before"] != r["plan"]:
            print("-- before (new indexes dropped):")
            print("\n".join("   " + line for line in r["before"]))
            print("-- after:")
        print("\n".join("   " + line for line in r["plan"]))


# --- Output ------------------------------------------------------------------------------------------------


def _f(v, digits=1):
    return "-" if v is None else f"{v:,.{digits}f}"


def _q(qs: list[int]) -> str:
    if not qs:
        return "-"
    return str(min(qs)) if min(qs) == max(qs) else f"{min(qs)}-{max(qs)}"


def print_table(size: int, est: Estate, stats: list[Stat], estate_line: str) -> None:
    print(f"\n## {size:,} racks")
    print(estate_line)
    print(
        f"largest site {est.largest_site_racks:,} racks (id {est.largest_site}), "
        f"largest room {est.largest_room_racks:,} racks (id {est.largest_room})"
    )
    head = (
        f"{'operation':<20}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'queries':>10}{'py peak MB':>12}{'RSS MB':>9}"
        f"{'base n':>8}{'base p50 ms':>13}{'base queries':>14}{'ours/base':>11}  note"
    )
    print(head)
    print("-" * len(head))
    for s in stats:
        ratio = f"{s.p50 / s.base_p50:.3f}" if s.base_p50 else "-"
        if s.total_s is not None and s.base_times_ms:  # the report: ours / baseline on the same sites
            ratio = f"{sum(s.times_ms[: len(s.base_times_ms)]) / sum(s.base_times_ms):.3f}"
        print(
            f"{s.name:<20}{len(s.times_ms):>5}{_f(s.p50):>10}{_f(s.p95):>10}{_q(s.queries):>10}"
            f"{_f(s.traced_peak_mb):>12}{_f(s.rss_peak_mb, 0):>9}{len(s.base_times_ms) or '-':>8}"
            f"{_f(s.base_p50):>13}{_q(s.base_queries):>14}{ratio:>11}  {s.note}"
        )


def print_summary(results: dict[int, dict]) -> bool:
    sizes = sorted(results)
    lo, hi = sizes[0], sizes[-1]
    print("\n## Summary across sizes")
    print(f"{'metric':<36}" + "".join(f"{s:>12,}" for s in sizes) + f"{'ratio':>10}  verdict")

    def get(size, name, key):
        return next(s for s in results[size]["stats"] if s["name"] == name)[key]

    ok = True

    def line(label, values, ratio, verdict, digits=2):
        print(f"{label:<36}" + "".join(f"{_f(v, digits):>12}" for v in values) + f"{_f(ratio, 2):>10}  {verdict}")

    site_racks = [results[s]["largest_site_racks"] for s in sizes]
    line("largest site, racks", site_racks, site_racks[-1] / site_racks[0], "(a check reads its own site)", 0)
    for name in ("check", "rack headroom"):
        vals = [get(s, name, "p95_ms") for s in sizes]
        ratio = vals[-1] / vals[0] if len(sizes) > 1 else None
        good = ratio is None or ratio <= 2.0
        ok &= good
        line(f"{name} p95 ms", vals, ratio, f"{'ok' if good else 'FAIL'} ({hi:,}/{lo:,} within 2x)")
    for name, key, unit in (("site headroom", "p95_ms", "ms"), ("report (per site)", "total_s", "s")):
        vals = [get(s, name, key) for s in sizes]
        racks = [results[s]["largest_site_racks"] if name == "site headroom" else s for s in sizes]
        per_rack = [v * (1000.0 if unit == "s" else 1.0) * 1000.0 / r for v, r in zip(vals, racks, strict=True)]
        line(f"{name} {key.replace('_', ' ')}", vals, vals[-1] / vals[0] if len(sizes) > 1 else None, "")
        ratio = per_rack[-1] / per_rack[0] if len(sizes) > 1 else None
        good = ratio is None or ratio <= LINEAR_TOLERANCE
        ok &= good
        what = "largest site" if name == "site headroom" else "estate"
        line(
            f"  per rack of the {what}, us",
            per_rack,
            ratio,
            f"{'ok' if good else 'FAIL'} (no faster than linear: per-rack cost ratio <= {LINEAR_TOLERANCE})",
        )
    if hi >= 100_000:
        checks = [
            ("check p95 < 50 ms", get(hi, "check", "p95_ms"), TARGET_CHECK_P95_MS),
            ("site headroom p95 < 2 s", get(hi, "site headroom", "p95_ms"), TARGET_SITE_HEADROOM_MS),
            ("nightly report < 10 min", get(hi, "report (per site)", "total_s"), TARGET_REPORT_S),
        ]
        print(f"\nTargets at {hi:,} racks:")
        for label, value, target in checks:
            good = value < target
            ok &= good
            print(f"  {label:<28} {value:,.1f} {'ms' if 'report' not in label else 's'}: {'met' if good else 'MISSED'}")
        cold = [s for s in results[hi]["stats"] if s["name"] == "check (cold cache)"]
        if cold:
            print(
                f"  {'(check p95, cold cache)':<28} {cold[0]['p95_ms']:,.1f} ms: the first check of a site in a "
                "worker after a write to that site"
            )
    return ok


# --- Main --------------------------------------------------------------------------------------------------


def run_size(size: int, args) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from bench import estate

    t0 = time.perf_counter()
    recreate_database(args.db)
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - t0
    summary = estate.generate(size, seed=args.seed, verbose=args.verbose, sites=args.sites)
    analyzed = estate.analyze()
    line = f"{summary.line()}; migrate {migrated:.1f} s, VACUUM ANALYZE {analyzed:.1f} s"
    print(f"\n[{size:,}] {line}", flush=True)
    est = describe_estate(size)
    api, web = clients()
    ops = operations(est, api, web, args.seed)
    print(f"[{size:,}] {verify_baseline(est, 5 if size <= 20_000 else 3)}", flush=True)
    load_before = os.getloadavg()[0]

    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        call = ops[args.profile]
        call(0)
        prof.enable()
        for i in range(args.profile_n):
            call(i)
        prof.disable()
        print(f"\n[{size:,}] cProfile of {args.profile} x{args.profile_n}")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)

    stats = []
    for name, call in ops.items():
        if args.only and name not in args.only:
            continue
        n, n_base = SAMPLES[name]
        if size > 20_000:  # a naive request reads a whole 5,000-rack site object by object: keep it short
            n_base = (n_base + 1) // 2
        n = max(1, round(n * args.samples))
        if name in ("check", "rack headroom"):
            warm_budget_cache(est)  # steady state: each site's totals summed once since its last change
        n_base = 0 if args.no_baseline else max(1, round(n_base * args.samples)) if n_base else 0
        stat = measure(name, call, n, n_base)
        if name.startswith("list "):
            stat.note = deep_page_note(api, name.split()[1])
        stats.append(stat)
        print(
            f"[{size:,}] {name}: p50 {_f(stat.p50)} ms, p95 {_f(stat.p95)} ms, {_q(stat.queries)} queries"
            + (f"; baseline p50 {_f(stat.base_p50)} ms" if stat.base_times_ms else ""),
            flush=True,
        )
    if not args.only or "report" in args.only:
        base_sites = args.baseline_report_sites
        if base_sites is None:
            base_sites = len(est.site_ids) if size <= 20_000 else 3
        stat = measure_reports(est, baseline_sites=0 if args.no_baseline else base_sites)
        stats.append(stat)
        print(f"[{size:,}] report: {stat.note}", flush=True)
    load_after = os.getloadavg()[0]
    line += f"; load average {load_before:.2f} before the timings, {load_after:.2f} after"
    print_table(size, est, stats, line)
    out = {
        "size": size,
        "estate": line,
        "largest_site_racks": est.largest_site_racks,
        "largest_room_racks": est.largest_room_racks,
        "stats": [s.as_dict() for s in stats],
    }
    if args.explain == "all" or (args.explain == "largest" and size == max(args.sizes)):
        results = explain_section(est, api)
        print_explain(results, NEW_INDEXES)
        out["explain"] = results
        audit = index_audit(ops, est)
        print_audit(audit)
        out["index_audit"] = audit
    connection.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="Scale benchmark of the capacity planner.")
    parser.add_argument("--sizes", default="1000,10000,100000", help="Comma-separated rack counts.")
    parser.add_argument("--db", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sites", type=int, default=None, help="Sites per estate (default: by size).")
    parser.add_argument("--samples", type=float, default=1.0, help="Multiply the sample counts.")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--baseline-report-sites",
        type=int,
        default=None,
        help="Sites for the naive report (default: all up to 20,000 racks, else 3).",
    )
    parser.add_argument("--only", type=lambda s: s.split(","), default=None, help="Operations to run.")
    parser.add_argument("--explain", choices=("largest", "all", "none"), default="largest")
    parser.add_argument("--profile", choices=tuple(SAMPLES), default=None)
    parser.add_argument("--profile-n", type=int, default=20)
    parser.add_argument("--json", type=Path, default=None, help="Also write the results as JSON.")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]

    setup_django(args.db)
    from django.db import connection

    print(f"# Scale benchmark: sizes {args.sizes}, database {connection.settings_dict['NAME']}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    results = {}
    for size in args.sizes:
        results[size] = run_size(size, args)
    ok = True
    if len(results) > 1 and not args.only:
        ok = print_summary(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
