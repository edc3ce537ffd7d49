"""The engine is plain Python: it imports in a fresh interpreter with neither Django nor Celery importable."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# planner/__init__.py still loads the Celery app (issue 13 point 5 empties it at merge); the probe registers
# a bare ``planner`` package so only the engine's own imports run. Django and Celery are made unimportable.
PROBE = """
import importlib, pkgutil, sys, types
sys.modules["django"] = None
sys.modules["celery"] = None
pkg = types.ModuleType("planner")
pkg.__path__ = [{root!r} + "/planner"]
sys.modules["planner"] = pkg
import planner.engine
names = [m.name for m in pkgutil.walk_packages(planner.engine.__path__, "planner.engine.")]
for name in names:
    importlib.import_module(name)
assert "planner.engine.flow" in sys.modules
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("django", "celery", "rest_framework")
                and sys.modules[m] is not None)
print(len(names), leaked)
"""


def test_engine_imports_without_django_or_celery():
    out = subprocess.run(
        [sys.executable, "-I", "-c", PROBE.format(root=str(ROOT))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    count, leaked = out.stdout.strip().split(" ", 1)
    assert int(count) >= 10 and leaked == "[]"
