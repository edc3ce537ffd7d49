"""The layout of DESIGN.md, checked on the sources: the pages never import the API, and the model apps
(racks/, cooling/) import nothing from planner/ when Django loads them, so there is no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE_MODULES = sorted([*(ROOT / "planner" / "web").rglob("*.py"), ROOT / "planner" / "web_auth.py"])
MODEL_APP_MODULES = sorted(
    path
    for app in ("racks", "cooling")
    for path in (ROOT / app).glob("*.py")  # models, admin, forms, apps; not migrations or management commands
)


def imported_modules(tree: ast.AST, *, module_level_only: bool) -> list[str]:
    """Every module an ``import`` or ``from ... import`` names (``from planner import api`` counts as
    ``planner.api``); with ``module_level_only``, only statements that run when the module is imported (not
    inside a function or a class body's methods)."""
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if module_level_only and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Import):
                names.extend(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names.append(child.module)
                names.extend(f"{child.module}.{alias.name}" for alias in child.names)
            visit(child)

    visit(tree)
    return names


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_walk_sees_imports_in_every_form():
    tree = ast.parse(
        "import planner.api.x\nfrom planner import api\nfrom planner.api.fields import F\n"
        "try:\n    import planner.b\nexcept ImportError:\n    pass\n"
        "def f():\n    from planner import c\n"
    )
    every = imported_modules(tree, module_level_only=False)
    top = imported_modules(tree, module_level_only=True)
    assert {"planner.api.x", "planner.api", "planner.api.fields", "planner.b", "planner.c"} <= set(every)
    assert "planner.b" in top and "planner.c" not in top


def _is_api(name: str) -> bool:
    return name == "planner.api" or name.startswith("planner.api.")


@pytest.mark.parametrize("path", PAGE_MODULES, ids=_rel)
def test_pages_import_nothing_from_the_api(path: Path):
    assert len(PAGE_MODULES) >= 10  # the walk found the pages
    found = [n for n in imported_modules(ast.parse(path.read_text()), module_level_only=False) if _is_api(n)]
    assert found == [], f"{_rel(path)} imports {found}"


@pytest.mark.parametrize("path", MODEL_APP_MODULES, ids=_rel)
def test_model_apps_import_nothing_from_planner_at_module_level(path: Path):
    assert {"racks/models.py", "racks/admin.py", "cooling/models.py", "cooling/admin.py"} <= {
        _rel(p) for p in MODEL_APP_MODULES
    }
    tree = ast.parse(path.read_text())
    found = [n for n in imported_modules(tree, module_level_only=True) if n == "planner" or n.startswith("planner.")]
    assert found == [], f"{_rel(path)} imports {found} when loaded"


# The layers below the views raise domain errors (planner.services) and never speak HTTP: no DRF, no Http404.
# planner/transfer.py (the site import) still validates its records with the API serializers, on purpose: it
# accepts exactly what the API accepts; it is not in this list.
DOMAIN_MODULES = sorted(
    [
        *(ROOT / "planner" / "services").rglob("*.py"),
        *(ROOT / "planner" / "selectors").rglob("*.py"),
        *(ROOT / "planner" / "reports").rglob("*.py"),
        *(ROOT / "planner" / "engine").rglob("*.py"),
        *(ROOT / "planner" / name for name in ("planning.py", "headroom.py", "retrofits.py", "budget_tokens.py")),
    ]
)


def _is_http(name: str) -> bool:
    return name.split(".")[0] == "rest_framework" or name.startswith("django.http") or _is_api(name)


@pytest.mark.parametrize("path", DOMAIN_MODULES, ids=_rel)
def test_domain_layers_import_nothing_of_http(path: Path):
    assert {"planner/services/__init__.py", "planner/planning.py"} <= {_rel(p) for p in DOMAIN_MODULES}
    found = [n for n in imported_modules(ast.parse(path.read_text()), module_level_only=False) if _is_http(n)]
    assert found == [], f"{_rel(path)} imports {found}"


def test_the_http_walk_sees_drf():
    tree = ast.parse("from rest_framework.exceptions import NotFound\nfrom django.http import Http404\n")
    assert [n for n in imported_modules(tree, module_level_only=False) if _is_http(n)]
