"""Load check: ``POST /api/v1/placements/check/`` under 50 concurrent clients on loopback, zero errors.

Run from the project root (PostgreSQL; the database is dropped and re-created unless ``--reuse``, so its name
must contain "load" or "bench")::

    .venv/bin/python bench/load_check.py                      # 50 clients, 5,000 requests or 60 s
    .venv/bin/python bench/load_check.py --reuse --tool wrk --workers 3 --threads 2 --requests 20000

Steps:

1. Re-create the database (psycopg), migrate, load a synthetic estate (``bench/estate.py``, 1,000 racks by
   default; ``--data demo`` runs ``seed_demo`` instead), VACUUM ANALYZE, and create a ``procurement`` user
   (``--role facilities`` for the other role) with a DRF token. ``--reuse`` keeps the database as it is and
   only makes sure the user and token exist.
2. Build a pool of request bodies (``--bodies``): random racks of the estate, random catalogue models (by id
   or by slug), quantities of 1-8, sometimes a ``u_position``. Each candidate is answered in-process by
   ``planner.services.check_placement`` first, so the pool holds about ``--pass-share`` placements that pass
   and the rest that fail (a failing placement answers 200 with ``ok: false``: not an error), and the client
   can check that every answer under load is the same as the one computed alone.
3. Start gunicorn (``planner.wsgi``) on 127.0.0.1 and a free port with ``DEBUG=0``, a generated
   ``SECRET_KEY``, ``ALLOWED_HOSTS=127.0.0.1``, ``SECURE_SSL_REDIRECT=0`` (plain HTTP on loopback) and the
   database URL; ``--workers`` (default 2) and ``--threads`` (default 1: sync workers). Wait for ``/healthz``.
   On 2 cores shared with PostgreSQL and the client, 2 sync workers gave the same throughput as 3 workers or
   2 x 4 threads and the tightest latency spread (gthread serves keep-alive connections unfairly: p95 doubles).
   The check endpoint has no throttle (only ``/api/v1/auth/token/`` is throttled, and the token is created
   directly in the database), so nothing needs configuring for the bench.
4. Warm up (``--warmup`` requests, not counted), then run ``--clients`` concurrent clients until
   ``--requests`` requests are answered or ``--duration`` seconds have passed, whichever comes first.
   ``--tool python`` (default, no dependency): one thread and one ``http.client`` keep-alive connection per
   client (gunicorn's sync workers close after each response; the client reconnects). ``--tool wrk``: wrk
   (``apt-get install wrk``) with a generated Lua script (bodies, token header, request bound, status counts
   and percentiles in ``done()``), 2 threads. wrk always runs for ``--duration``; when its threads stop at the
   request bound earlier, the duration is first request to last response (LuaJIT FFI clock), not wrk's.
5. Print total requests, duration, throughput, latency p50/p95/p99/max, status counts and errors (non-2xx,
   connection errors, timeouts and, with the Python client, answers that differ from the in-process one),
   the server configuration, the CPU seconds of gunicorn, of the database's PostgreSQL backends, of the client
   and of every other process (the client shares the cores; so may other work: the load average is printed),
   and the PostgreSQL connections held. Exit 1 on any error.

gunicorn runs in its own session and is stopped (SIGTERM, then SIGKILL) on exit, on Ctrl-C and on errors.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/planner_load"
CHECK_PATH = "/api/v1/placements/check/"
USERNAME = "load-check"
QUANTITIES = (1, 1, 1, 1, 2, 2, 3, 4, 8)
HOST = "127.0.0.1"


# --- Database and data -------------------------------------------------------------------------------------


def setup_django(db_url: str, secret_key: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ["DEBUG"] = "0"  # production-like in-process too: no query log kept while loading the estate
    os.environ["SECRET_KEY"] = secret_key
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "planner.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["REPORT_EMAIL_RECIPIENTS"] = ""
    import django

    django.setup()


def pg_conninfo(db_url: str) -> tuple[str, dict]:
    import dj_database_url

    cfg = dj_database_url.parse(db_url)
    if cfg["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit(f"--db must be a PostgreSQL URL, not {cfg['ENGINE']}")
    info = {"host": cfg.get("HOST") or None, "port": cfg.get("PORT") or None, "user": cfg.get("USER") or None}
    if cfg.get("PASSWORD"):
        info["password"] = cfg["PASSWORD"]
    return cfg["NAME"], {k: v for k, v in info.items() if v}


def recreate_database(db_url: str) -> None:
    import psycopg
    from psycopg import sql

    name, info = pg_conninfo(db_url)
    if "load" not in name and "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'load' or 'bench'")
    with psycopg.connect(dbname="postgres", autocommit=True, **info) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def pg_facts(db_url: str) -> tuple[str, int, int]:
    """Server version, connections to the benchmark database, max_connections."""
    import psycopg

    name, info = pg_conninfo(db_url)
    with psycopg.connect(dbname="postgres", autocommit=True, **info) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        held = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()[0]
        limit = int(conn.execute("SHOW max_connections").fetchone()[0])
    return version, held, limit


def prepare_data(args) -> str:
    """Create (or reuse) the data; returns a one-line description."""
    from django.core.management import call_command
    from django.db import connection

    from bench import estate
    from racks.models import Node, Rack

    t0 = time.perf_counter()
    if not args.reuse:
        connection.close()
        recreate_database(args.db)
        call_command("migrate", verbosity=0)
        if args.data == "demo":
            call_command("seed_demo", no_users=True, verbosity=0)
        else:
            estate.generate(args.racks, seed=args.seed)
        estate.analyze()
    what = "reused" if args.reuse else f"{args.data}, built in {time.perf_counter() - t0:.1f} s"
    return f"{Rack.objects.count():,} racks, {Node.objects.count():,} nodes ({what})"


def api_token(role: str) -> str:
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    user, _ = User.objects.get_or_create(username=USERNAME)
    user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


@dataclass
class BodyPool:
    bodies: list[bytes]
    expected_ok: list[bool]
    racks: int
    models: int

    def describe(self) -> str:
        passing = sum(self.expected_ok)
        return (
            f"{len(self.bodies)} bodies over {self.racks} racks and {self.models} models: "
            f"{passing} pass, {len(self.bodies) - passing} fail (answered in-process first)"
        )


def build_bodies(n: int, pass_share: float, seed: int) -> BodyPool:
    """Random placements, answered in-process, kept so that about ``pass_share`` of them pass."""
    from planner import services
    from racks.models import NodeModel, Rack

    rnd = random.Random(f"{seed}-load-bodies")
    rack_ids = list(Rack.objects.order_by("id").values_list("id", flat=True))
    models = list(NodeModel.objects.order_by("id").values_list("id", "slug", "u_height"))
    if not rack_ids or not models:
        raise SystemExit("the database has no racks or no node models: seed it first (or drop --reuse)")
    want_pass = round(n * pass_share)
    want_fail = n - want_pass
    passing: list[tuple[bytes, bool, int]] = []
    failing: list[tuple[bytes, bool, int]] = []
    for _ in range(n * 20):
        if len(passing) >= want_pass and len(failing) >= want_fail:
            break
        rack = rnd.choice(rack_ids)
        model_id, slug, u_height = rnd.choice(models)
        quantity = rnd.choice(QUANTITIES)
        body: dict = {"rack": rack, "model": slug if rnd.random() < 0.5 else model_id, "quantity": quantity}
        if quantity == 1 and rnd.random() < 0.2:
            body["u_position"] = rnd.randint(1, max(1, 42 - max(u_height, 1) + 1))
        _ctx, _model, result = services.check_placement(
            rack_id=rack, model_id=model_id, quantity=quantity, u_position=body.get("u_position")
        )
        bucket, want = (passing, want_pass) if result.ok else (failing, want_fail)
        if len(bucket) < want:
            bucket.append((json.dumps(body).encode(), result.ok, model_id))
    pool = passing + failing
    if not pool:
        raise SystemExit("could not build any request body")
    rnd.shuffle(pool)
    used_racks = {json.loads(b)["rack"] for b, _, _ in pool}
    used_models = {m for _, _, m in pool}
    return BodyPool([b for b, _, _ in pool], [ok for _, ok, _ in pool], len(used_racks), len(used_models))


# --- Server ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log_path: Path
    workers: int
    threads: int

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def pids(self) -> list[int]:
        """The master and its workers (read from /proc)."""
        out = [self.proc.pid]
        with contextlib.suppress(OSError):
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
            out += [int(p) for p in text.split()]
        return out

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


def start_server(args, secret_key: str, log_dir: Path) -> Server:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        raise SystemExit(f"gunicorn not found next to {sys.executable} (pip install -r requirements.txt)")
    port = args.port or free_port()
    env = {
        **os.environ,
        "DATABASE_URL": args.db,
        "DEBUG": "0",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback; HSTS and secure cookies stay on
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "planner.settings",
    }
    cmd = [
        str(gunicorn),
        "planner.wsgi:application",
        "--bind", f"{HOST}:{port}",
        "--workers", str(args.workers),
        "--threads", str(args.threads),
        "--backlog", "2048",
        "--timeout", "60",
        "--graceful-timeout", "10",
    ]  # fmt: skip
    log_path = log_dir / "gunicorn.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    log.close()
    server = Server(proc, port, log_path, args.workers, args.threads)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer /healthz within 60 s:\n{server.log_tail()}")


# --- CPU accounting ----------------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLK_TCK


def postgres_pids(dbname: str) -> list[int]:
    """PostgreSQL backends connected to ``dbname`` on this machine ("postgres: 15/main: user dbname host")."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() != "postgres":
                    continue
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if f" {dbname} " in title:
                    out.append(int(entry.name))
    return out


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return total - idle, total


class CpuMonitor(threading.Thread):
    """CPU seconds of gunicorn's processes and of PostgreSQL's, sampled per process every ``interval``.

    Per-process sampling, because Django closes a connection older than ``CONN_MAX_AGE`` (60 s) and the
    backend that served it exits with its CPU time: a before/after sum would lose it. A process born during
    the run counts from zero; what a process used between its last sample and its exit is lost.
    """

    def __init__(self, server: Server, dbname: str, interval: float = 0.5):
        super().__init__(daemon=True)
        self.server = server
        self.dbname = dbname
        self.interval = interval
        self.first: dict[tuple[str, int], float] = {}
        self.last: dict[tuple[str, int], float] = {}
        self.halt = threading.Event()
        self._sample(baseline=True)
        t = os.times()
        self.t0 = (time.perf_counter(), t.user + t.system, machine_cpu(), os.getloadavg()[0])

    def _sample(self, baseline: bool = False) -> None:
        for group, pids in (("gunicorn", self.server.pids()), ("postgres", postgres_pids(self.dbname))):
            for pid in pids:
                cpu = proc_cpu_s([pid])
                key = (group, pid)
                if key not in self.first:
                    self.first[key] = cpu if baseline else 0.0
                if cpu or key not in self.last:
                    self.last[key] = cpu

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            self._sample()

    def stop(self) -> dict[str, float]:
        self.halt.set()
        self.join()
        self._sample()
        t = os.times()
        wall0, client0, machine0, load0 = self.t0
        out = {"wall": time.perf_counter() - wall0, "load_before": load0, "load_after": os.getloadavg()[0]}
        # The Python client's threads, or wrk (a waited-for child).
        out["client"] = t.user + t.system + t.children_user + t.children_system - client0
        machine1 = machine_cpu()
        out["busy"] = (machine1[0] - machine0[0]) / max(1, machine1[1] - machine0[1])
        for group in ("gunicorn", "postgres"):
            out[group] = sum(self.last[k] - self.first[k] for k in self.last if k[0] == group)
        return out


# --- Load: Python client -----------------------------------------------------------------------------------


@dataclass
class Results:
    tool: str
    requests: int = 0
    duration_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)  # kind -> count
    answers: Counter = field(default_factory=Counter)  # ok=true / ok=false
    samples: list[str] = field(default_factory=list)  # first few error details
    percentiles_ms: dict[str, float] = field(default_factory=dict)  # from wrk: p50, p95, p99, p100 (max)

    def percentile(self, p: float) -> float:
        if f"p{p:g}" in self.percentiles_ms:
            return self.percentiles_ms[f"p{p:g}"]
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def run_python(port: int, token: str, pool: BodyPool, clients: int, max_requests: int, duration: float) -> Results:
    """``clients`` threads, one keep-alive connection each, sharing one request budget and one deadline."""
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    ticket = itertools.count()  # next() is atomic under the GIL: one ticket per request
    lock = threading.Lock()
    res = Results(tool="python")
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client() -> None:
        lat: list[float] = []
        statuses: Counter = Counter()
        errors: Counter = Counter()
        answers: Counter = Counter()
        samples: list[str] = []
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        start_gate.wait()
        while True:
            i = next(ticket)
            if i >= max_requests or time.perf_counter() >= deadline[0]:
                break
            k = i % len(pool.bodies)
            t0 = time.perf_counter()
            try:
                conn.request("POST", CHECK_PATH, pool.bodies[k], headers)
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                kind = "timeout" if isinstance(exc, TimeoutError) else "connection"
                errors[kind] += 1
                if len(samples) < 3:
                    samples.append(f"{kind}: {type(exc).__name__}: {exc}")
                conn.close()
                continue
            lat.append((time.perf_counter() - t0) * 1000)
            statuses[resp.status] += 1
            if not 200 <= resp.status < 300:
                errors[f"status {resp.status}"] += 1
                if len(samples) < 3:
                    samples.append(f"{resp.status}: {data[:300]!r}")
                continue
            try:
                ok = json.loads(data)["ok"]
            except (ValueError, KeyError, TypeError):
                errors["bad body"] += 1
                if len(samples) < 3:
                    samples.append(f"bad body: {data[:300]!r}")
                continue
            answers[f"ok={str(ok).lower()}"] += 1
            if ok != pool.expected_ok[k]:
                errors["wrong answer"] += 1
                if len(samples) < 3:
                    samples.append(f"wrong answer: expected ok={pool.expected_ok[k]} for {pool.bodies[k]!r}")
        conn.close()
        with lock:
            res.latencies_ms += lat
            res.statuses.update(statuses)
            res.errors.update(errors)
            res.answers.update(answers)
            res.samples += samples

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    t_start = time.perf_counter()
    deadline[0] = t_start + duration
    start_gate.wait()
    for t in threads:
        t.join()
    res.duration_s = time.perf_counter() - t_start
    res.requests = len(res.latencies_ms) + sum(v for k, v in res.errors.items() if k in ("connection", "timeout"))
    return res


# --- Load: wrk ---------------------------------------------------------------------------------------------

WRK_LUA = r"""
local bodies = {
%(bodies)s
}
local limit = %(limit)d
local counter = 0
local threads = {}

-- Monotonic clock through LuaJIT's FFI: wrk's own summary.duration is always the -d duration, even when
-- every thread stopped early at the request bound.
local has_ffi, ffi = pcall(require, "ffi")
if has_ffi then
  ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } lc_timespec; int clock_gettime(int, lc_timespec *); ]]
end
local ts = has_ffi and ffi.new("lc_timespec") or nil
local function now()
  if not has_ffi then return 0 end
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

wrk.method = "POST"
wrk.headers["Authorization"] = "Token %(token)s"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  n = 0
  answered = 0
  statuses = {}
  oks = 0
  fails = 0
  t_first = 0
  t_last = 0
end

function request()
  if n == 0 then t_first = now() end
  n = n + 1
  local body = bodies[((n * %(threads)d + id) %% #bodies) + 1]
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  answered = answered + 1
  t_last = now()
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status == 200 then
    if string.find(body, '"ok":true', 1, true) then oks = oks + 1
    elseif string.find(body, '"ok":false', 1, true) then fails = fails + 1 end
  end
  if answered >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local total = {}
  local ok_true, ok_false = 0, 0
  local first, last = math.huge, 0
  for _, thread in ipairs(threads) do
    local f, l = thread:get("t_first"), thread:get("t_last")
    if f > 0 and f < first then first = f end
    if l > last then last = l end
    for k, v in pairs(thread:get("statuses")) do total[k] = (total[k] or 0) + v end
    ok_true = ok_true + thread:get("oks")
    ok_false = ok_false + thread:get("fails")
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format('"%%s": %%d', k, v)) end
  local duration_us = summary.duration
  if last > first then duration_us = (last - first) * 1e6 end
  local e = summary.errors
  io.write(string.format(
    'LOADCHECK {"requests": %%d, "duration_us": %%d, "p50": %%d, "p95": %%d, "p99": %%d, "max": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d, "ok_true": %%d, "ok_false": %%d, ' ..
    '"statuses": {%%s}}\n',
    summary.requests, duration_us, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout,
    ok_true, ok_false, table.concat(parts, ", ")))
end
"""


def run_wrk(
    port: int, token: str, pool: BodyPool, clients: int, max_requests: int, duration: float, tmp: Path
) -> Results:
    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("wrk is not installed (apt-get install -y wrk), or use --tool python")
    n_threads = max(1, min(2, clients))
    script = tmp / "check.lua"
    script.write_text(
        WRK_LUA
        % {
            "bodies": ",\n".join(f"  [[{b.decode()}]]" for b in pool.bodies),
            "limit": math.ceil(max_requests / n_threads),
            "token": token,
            "threads": n_threads,
        }
    )
    cmd = [wrk, "-t", str(n_threads), "-c", str(clients), "-d", f"{max(1, math.ceil(duration))}s",
           "--timeout", "30s", "-s", str(script), f"http://{HOST}:{port}{CHECK_PATH}"]  # fmt: skip
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    elapsed = time.perf_counter() - t0
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("LOADCHECK ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    d = json.loads(line.removeprefix("LOADCHECK "))
    res = Results(tool="wrk")
    res.requests = d["requests"]
    res.duration_s = d["duration_us"] / 1e6 or elapsed
    res.percentiles_ms = {k: d[v] / 1000 for k, v in (("p50", "p50"), ("p95", "p95"), ("p99", "p99"), ("p100", "max"))}
    res.statuses = Counter({int(k): v for k, v in d["statuses"].items()})
    for kind in ("connect", "read", "write", "timeout"):
        if d[kind]:
            res.errors[kind] = d[kind]
    for status, count in res.statuses.items():
        if not 200 <= status < 300:
            res.errors[f"status {status}"] += count
    res.answers = Counter({"ok=true": d["ok_true"], "ok=false": d["ok_false"]})
    return res


# --- Report ------------------------------------------------------------------------------------------------


def report(res: Results, cpu: dict[str, float]) -> None:
    wall = cpu["wall"]
    cores = os.cpu_count() or 1
    busy = cpu["busy"]
    client_cpu, server_cpu, pg_cpu = cpu["client"], cpu["gunicorn"], cpu["postgres"]
    other_cpu = max(0.0, busy * cores * wall - client_cpu - server_cpu - pg_cpu)
    p = res.percentile
    statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(res.statuses.items())) or "none"
    errors = ", ".join(f"{k}: {v:,}" for k, v in sorted(res.errors.items())) or "none"
    answers = ", ".join(f"{k} {v:,}" for k, v in sorted(res.answers.items()))
    print(f"requests      {res.requests:,}")
    print(f"duration      {res.duration_s:.1f} s")
    print(f"throughput    {res.requests / res.duration_s if res.duration_s else 0:.1f} req/s")
    print(f"latency ms    p50 {p(50):.1f}  p95 {p(95):.1f}  p99 {p(99):.1f}  max {p(100):.1f}")
    print(f"status        {statuses}")
    print(f"answers       {answers}")
    print(f"errors        {res.error_count:,} ({errors})")
    for s in res.samples[:5]:
        print(f"  e.g. {s}")
    print(
        f"cpu (s)       gunicorn {server_cpu:.1f}, its postgres backends {pg_cpu:.1f}, load client {client_cpu:.1f}, "
        f"other processes {other_cpu:.1f}; machine busy {busy * 100:.0f} % of {cores} cores over {wall:.1f} s"
    )
    if res.requests:
        print(
            f"cpu/request   gunicorn {server_cpu / res.requests * 1000:.1f} ms, postgres "
            f"{pg_cpu / res.requests * 1000:.1f} ms, client {client_cpu / res.requests * 1000:.1f} ms; "
            f"load average {cpu['load_before']:.2f} -> {cpu['load_after']:.2f}"
        )


def _interrupt(signum, frame) -> None:
    """SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so the ``finally`` in main() stops gunicorn."""
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description="Load check of POST /api/v1/placements/check/ under gunicorn.")
    parser.add_argument("--db", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--reuse", action="store_true", help="Keep the database as it is (no drop, no seed).")
    parser.add_argument("--data", choices=("estate", "demo"), default="estate")
    parser.add_argument("--racks", type=int, default=1_000, help="Estate size (--data estate).")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--role", choices=("procurement", "facilities"), default="procurement")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers.")
    parser.add_argument("--threads", type=int, default=1, help="Threads per worker (>1: gthread workers).")
    parser.add_argument("--port", type=int, default=0, help="Default: a free port.")
    parser.add_argument("--tool", choices=("python", "wrk"), default="python")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=5_000, help="Stop after this many requests ...")
    parser.add_argument("--duration", type=float, default=60.0, help="... or after this many seconds.")
    parser.add_argument("--warmup", type=int, default=200, help="Requests before the measured run.")
    parser.add_argument("--bodies", type=int, default=400, help="Distinct request bodies.")
    parser.add_argument("--pass-share", type=float, default=0.5, help="Share of bodies whose placement passes.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures as JSON.")
    args = parser.parse_args()
    if args.clients < 1 or args.requests < 1 or args.duration <= 0 or args.workers < 1 or args.threads < 1:
        parser.error("--clients, --requests, --duration, --workers and --threads must be positive")

    signal.signal(signal.SIGTERM, _interrupt)

    secret_key = secrets.token_urlsafe(50)
    setup_django(args.db, secret_key)
    import django
    import gunicorn
    from django.db import connection

    print(f"# Load check: POST {CHECK_PATH}")
    print(
        f"machine       {os.cpu_count()} CPUs (nproc), load average {os.getloadavg()[0]:.2f}, "
        f"python {sys.version.split()[0]}, Django {django.get_version()}, gunicorn {gunicorn.__version__}"
    )
    data = prepare_data(args)
    token = api_token(args.role)
    pool = build_bodies(args.bodies, args.pass_share, args.seed)
    connection.close()
    pg_version, _, pg_max = pg_facts(args.db)
    print(f"database      {args.db} (PostgreSQL {pg_version}, max_connections {pg_max}): {data}")
    print(f"bodies        {pool.describe()}")

    server = None
    with tempfile.TemporaryDirectory(prefix="load-check-") as tmp:
        try:
            server = start_server(args, secret_key, Path(tmp))
            kind = "sync" if args.threads == 1 else "gthread"
            print(
                f"server        gunicorn planner.wsgi on {HOST}:{server.port}: {args.workers} workers x "
                f"{args.threads} threads ({kind}), DEBUG=0, token of a {args.role} user"
            )
            print(
                f"client        {args.tool}: {args.clients} concurrent clients, "
                f"bound {args.requests:,} requests or {args.duration:g} s, after {args.warmup} warm-up requests"
            )

            if args.warmup:  # always with the Python client: wrk would run for its whole -d duration
                warm = run_python(server.port, token, pool, args.clients, args.warmup, 30)
                if warm.error_count:
                    print(f"warm-up       {warm.error_count} errors: {dict(warm.errors)} {warm.samples[:3]}")
            sys.stdout.flush()
            monitor = CpuMonitor(server, pg_conninfo(args.db)[0])
            monitor.start()
            if args.tool == "wrk":
                res = run_wrk(server.port, token, pool, args.clients, args.requests, args.duration, Path(tmp))
            else:
                res = run_python(server.port, token, pool, args.clients, args.requests, args.duration)
            cpu = monitor.stop()
            _, pg_held, _ = pg_facts(args.db)
            print("")
            report(res, cpu)
            print(f"postgres      {pg_held} connections held to the database after the run")
            alive = server.proc.poll() is None
            if not alive:
                res.errors["server exited"] += 1
            log = server.log_tail(40)
            if res.error_count and log:
                print("--- gunicorn log (tail) ---")
                print(log)
            if args.json:
                args.json.write_text(
                    json.dumps(
                        {
                            "tool": res.tool,
                            "workers": args.workers,
                            "threads": args.threads,
                            "clients": args.clients,
                            "requests": res.requests,
                            "duration_s": res.duration_s,
                            "throughput": res.requests / res.duration_s if res.duration_s else 0,
                            "p50_ms": res.percentile(50),
                            "p95_ms": res.percentile(95),
                            "p99_ms": res.percentile(99),
                            "statuses": dict(res.statuses),
                            "errors": dict(res.errors),
                            "cpus": os.cpu_count(),
                        },
                        indent=1,
                    )
                )
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            return 130
        finally:
            if server is not None:
                server.stop()
    verdict = "PASS" if res.error_count == 0 and res.requests > 0 else "FAIL"
    print(f"result        {verdict}: {res.requests:,} requests, {res.error_count:,} errors")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
