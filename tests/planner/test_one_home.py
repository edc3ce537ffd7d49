"""One home for every threshold and formula (DESIGN "Layout"): "near a limit" is one setting that the pages and
the report read when they judge, and the loop and PDU usable-kW formulas are written once, in engine/units.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from planner import reports
from planner.web.metrics import RackFigures, near_limit

ROOT = Path(__file__).resolve().parents[2]
UNITS = "planner/engine/units.py"


def _figures(load_kw: float) -> RackFigures:
    # Power only: load_kw on a 100 kW rack, air within its limit (1 kW of 100), nothing else loaded.
    return RackFigures(kw=load_kw, air_kw=1.0, liquid_kw=0.0, power_capacity_kw=100.0, air_capacity_kw=100.0)


@pytest.mark.parametrize(("share", "near_at_85"), [(0.8, True), (0.9, False)])
def test_page_and_report_follow_the_one_setting(settings, share, near_at_85):
    """85 kW of 100 kW: 85 % used, 15 % headroom. Near at a 0.8 share (85 >= 80; 15 <= 20), not at 0.9
    (85 < 90; 15 > 10). The pages' test and the report's one rule (RackFigures.limit_ratios) say the same."""
    settings.PLANNER_NEAR_LIMIT_SHARE = share
    assert near_limit(_figures(85.0)) is near_at_85
    assert (_figures(85.0).limit_ratios(share) == {"power": 0.15}) is near_at_85
    assert reports.near_limit_ratio() == pytest.approx(1 - share)
    # The clean case beside it: 50 % is near under neither.
    assert not near_limit(_figures(50.0)) and _figures(50.0).limit_ratios(share) == {}


def test_the_report_has_no_second_near_limit_rule():
    """The report counts near-limit racks with the engine's RackFigures.limit_ratios, not a copy of its own."""
    assert not hasattr(reports, "limit_ratios")


def test_page_texts_show_the_setting(settings, db, client, facilities_user):
    from tests import factories as f

    settings.PLANNER_NEAR_LIMIT_SHARE = 0.9
    f.SiteFactory()
    client.force_login(facilities_user)
    page = client.get("/").content.decode()
    assert "Racks at ≥ 90 %" in page and "80 %" not in page


def _sources():
    for path in sorted((ROOT / "planner").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "/migrations/" not in rel:
            yield rel, ast.parse(path.read_text())


def test_usable_kw_formulas_live_only_in_engine_units():
    """``units - redundant_units`` (a loop's usable kW) and ``voltage x current`` (a PDU's) appear only in
    engine/units.py; everyone else calls loop_usable_kw / pdu_usable_kw."""
    copies = []
    for rel, tree in _sources():
        if rel == UNITS:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.BinOp):
                continue
            text = ast.unparse(node)
            if isinstance(node.op, ast.Sub) and "redundant_units" in ast.unparse(node.right) and "units" in text:
                copies.append((rel, text))
            if isinstance(node.op, ast.Mult) and "voltage" in text and "current" in text:
                copies.append((rel, text))
    assert copies == []


def test_the_formula_walk_finds_a_copy():
    tree = ast.parse("a = lp.unit_capacity_kw * (lp.units - lp.redundant_units)\nb = p.voltage_v * p.current_a\n")
    found = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.BinOp)]
    assert "lp.units - lp.redundant_units" in found and "p.voltage_v * p.current_a" in found
