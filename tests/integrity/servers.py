"""Real server processes against the pytest database: gunicorn on loopback, a free port each, stopped after use.

Like ``bench/load_check.py``: ``DEBUG=0`` with a generated ``SECRET_KEY``, plain HTTP (``SECURE_SSL_REDIRECT=0``),
no persistent database connections (the test database is flushed and dropped while the server may still run).
Each server is one gunicorn worker process with a few threads, so "another process" and "another thread of
the same process" both happen.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT_S = 60


def database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{db['NAME']}"


def pg_connect(**kwargs):
    """A plain psycopg connection to the test database (not Django's): for locks and the SQL audit."""
    import psycopg

    db = settings.DATABASES["default"]
    info = {"host": db.get("HOST") or "127.0.0.1", "port": db.get("PORT") or None, "user": db.get("USER") or None}
    if db.get("PASSWORD"):
        info["password"] = db["PASSWORD"]
    return psycopg.connect(dbname=db["NAME"], **{k: v for k, v in info.items() if v}, **kwargs)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, *, threads: int = 4, database: str | None = None, ready_statuses=(200,)):
        """``database``: a DATABASE_URL (default: the test database); started once ``/healthz`` answers one of
        ``ready_statuses``."""
        self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory()
        self.log_path = Path(self._tmp.name) / "gunicorn.log"
        env = {
            **os.environ,
            "DATABASE_URL": database or database_url(),
            "DB_CONN_MAX_AGE": "0",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "CELERY_BROKER_URL": "",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "planner.settings",
        }
        cmd = [
            str(Path(sys.executable).with_name("gunicorn")), "planner.wsgi:application",
            "--bind", f"{HOST}:{self.port}", "--workers", "1", "--worker-class", "gthread",
            "--threads", str(threads), "--timeout", "60", "--graceful-timeout", "5",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                status, _ = self.request("GET", "/healthz", timeout=5)
                if status in ready_statuses:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within {START_TIMEOUT_S} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def request(self, method: str, path: str, body=None, token: str | None = None, timeout: float = 60):
        """One request on its own connection -> (status, parsed JSON or raw text)."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"}
            if token:
                headers["Authorization"] = f"Token {token}"
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = conn.getresponse()
            raw = response.read().decode()
            try:
                return response.status, json.loads(raw)
            except ValueError:
                return response.status, raw[:500]
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._tmp.cleanup()
