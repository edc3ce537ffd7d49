"""Real Celery workers and a private ``redis-server`` for the reliability tests (tests/reports/test_reliability.py).

Every test gets its own Redis server on a free loopback port (so it may stop it, and a short visibility
timeout can never restore another test's messages) and its own queue name. Workers run
``tests.reports.fault_worker`` (the project's worker plus one fault-injection point) against the pytest
test database, in their own process group so a test can SIGKILL a whole worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from planner.celery import app

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{db['NAME']}"


def wait_for(predicate, what: str, *, logs: tuple[Path, ...] = (), timeout_s: float = TIMEOUT_S, procs=()) -> None:
    """Poll ``predicate`` every 0.1 s for at most ``timeout_s``; fail with the workers' logs otherwise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(f"a worker exited ({proc.returncode}) before {what}:\n{tails(logs)}")
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}:\n{tails(logs)}")


def tails(logs: tuple[Path, ...]) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-6000:]}" for p in logs if p.exists())


class RedisServer:
    """A ``redis-server`` of this test only; append-only file fsynced on every write, as a broker that
    survives a restart keeps its queues (and kombu's bindings)."""

    def __init__(self, folder: Path):
        binary = shutil.which("redis-server")
        if not binary:
            if os.environ.get("CI"):
                pytest.fail("redis-server is not installed")
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        wait_for(self.ping, f"redis-server on port {self.port}", timeout_s=15, logs=(self.folder / "redis.log",))

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1).ping())
        except redis.exceptions.RedisError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def client(self, db: int = 0):
        import redis

        return redis.Redis(port=self.port, db=db, socket_connect_timeout=2, socket_timeout=5)


class Worker:
    """One ``celery worker`` process (prefork unless told) consuming ``queue`` only."""

    def __init__(self, name: str, queue: str, log: Path, env: dict[str, str], *, concurrency: int = 1):
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.reports.fault_worker", "worker", "--pool=prefork",
                 f"--concurrency={concurrency}", "-Q", queue, "-n", f"{name}-{queue}@%h", "--loglevel=INFO",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill_all(self) -> None:
        """SIGKILL the whole worker: the main process and its pool, as a lost node or an OOM kill would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=15)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill_all()
        # A pool child orphaned by a test's kill must not outlive the test.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)


def worker_env(broker_url: str, fault_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "planner.settings",
        "DATABASE_URL": database_url(),
        "DB_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": "",
        "REPORT_EMAIL_RECIPIENTS": "",
        "PYTHONUNBUFFERED": "1",
        "PLANNER_FAULT_DIR": str(fault_dir),
        **extra,
    }


def new_queue(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def publish(task, args: list, *, queue: str, broker_url: str) -> str:
    """Send ``task`` to ``queue`` on ``broker_url`` (this test process runs tasks eagerly otherwise)."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(broker_url) as conn:
            return task.apply_async(args=args, queue=queue, producer=app.amqp.Producer(conn), ignore_result=True).id
    finally:
        app.conf.task_always_eager = eager


def markers(fault_dir: Path) -> list[dict]:
    """The fault worker's ``started-*`` markers, oldest first: who began which task."""
    found = [json.loads(p.read_text()) for p in fault_dir.glob("started-*.json")]
    return sorted(found, key=lambda m: m["n"])


def release(fault_dir: Path) -> None:
    (fault_dir / "release").touch()
