"""A Celery worker with one fault-injection point, for the reliability tests only (never deployed).

    python -m tests.reports.fault_worker worker -Q <queue> ...   (the arguments of ``celery -A planner``)

It is the project's worker (``planner.celery.app``, unchanged settings and tasks) plus one ``task_prerun``
hook, active only when ``PLANNER_FAULT_DIR`` is set in the worker's environment. Before a task whose short
name is in ``PLANNER_FAULT_TASKS`` (comma-separated; default ``site_capacity_report``) runs, the process
that runs it writes ``<dir>/started-<n>-<pid>.json`` (its pid, the task, its id and arguments) and waits
until ``<dir>/release`` exists (at most ``PLANNER_FAULT_WAIT_S`` seconds, default 60). So a test knows
which process holds which task at a known point, kills it there, and lets the next attempt through by
creating the release file: no sleeps, no race with the report finishing first.

The hook is connected in the main process before the pool forks, so prefork children inherit it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

FAULT_DIR = os.environ.get("PLANNER_FAULT_DIR", "")
FAULT_TASKS = {t.strip() for t in os.environ.get("PLANNER_FAULT_TASKS", "site_capacity_report").split(",") if t}
FAULT_WAIT_S = float(os.environ.get("PLANNER_FAULT_WAIT_S", "60"))


def _hold(sender=None, task_id=None, task=None, args=None, kwargs=None, **_):
    name = (getattr(task, "name", "") or "").rsplit(".", 1)[-1]
    if name not in FAULT_TASKS:
        return
    folder = Path(FAULT_DIR)
    n = len(list(folder.glob("started-*.json")))
    marker = {"pid": os.getpid(), "task": name, "id": task_id, "args": list(args or ()), "n": n}
    tmp = folder / f".started-{n}-{os.getpid()}.tmp"
    tmp.write_text(json.dumps(marker))
    tmp.rename(folder / f"started-{n}-{os.getpid()}.json")  # atomic: the test never reads half a file
    deadline = time.monotonic() + FAULT_WAIT_S
    while not (folder / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "planner.settings")
    from celery.signals import task_prerun

    from planner.celery import app

    if FAULT_DIR:
        task_prerun.connect(_hold, weak=False)
    app.worker_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
