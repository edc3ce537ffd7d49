"""The engine is plain Python: it imports in a fresh interpreter with neither Django nor Celery importable."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The real ``planner`` package is imported (planner/__init__.py is empty; the Celery app is loaded by the app
# config), with Django and Celery made unimportable, so any import of either anywhere on the way fails.
PROBE = """
import importlib, pkgutil, sys
sys.modules["django"] = None
sys.modules["celery"] = None
sys.path.insert(0, {root!r})
import planner.engine
names = [m.name for m in pkgutil.walk_packages(planner.engine.__path__, "planner.engine.")]
for name in names:
    importlib.import_module(name)
assert "planner.engine.flow" in sys.modules
assert sys.modules["planner"].__file__.startswith({root!r})
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("django", "celery", "rest_framework")
                and sys.modules[m] is not None)
print(len(names), leaked)
"""


def test_engine_imports_without_django_or_celery():
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL")}
    out = subprocess.run(
        [sys.executable, "-I", "-c", PROBE.format(root=str(ROOT))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    count, leaked = out.stdout.strip().split(" ", 1)
    assert int(count) >= 10 and leaked == "[]"


def test_planner_package_is_empty():
    """planner/__init__.py holds nothing, so importing any planner module runs no Celery or Django code."""
    source = (ROOT / "planner" / "__init__.py").read_text()
    assert source.strip() == ""
