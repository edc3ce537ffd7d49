"""One copy of a rack's air/liquid split (planner.engine.flow.heat_split_kw): the rack state every rule reads,
rack headroom, and the site load flow give the same figures, on a cold-plate rack and on an immersion rack."""

import ast
from pathlib import Path

import pytest

from planner import engine
from planner.engine import flow
from planner.engine.rules.state import build_state
from tests.engine.builders import DLC1U, H100, ctx, loop, stack

ROOT = Path(__file__).resolve().parents[2]


def test_the_split_by_hand():
    # 4 x DLC1U: 8 kW, 80 % liquid = 6.4 kW liquid, 1.6 kW air; in a tank all 8 kW go to liquid.
    assert flow.heat_split_kw(8.0, 6.4, immersion=False) == pytest.approx((1.6, 6.4))
    assert flow.heat_split_kw(8.0, 6.4, immersion=True) == (0.0, 8.0)
    assert flow.heat_split_kw(0.0, 0.0, immersion=False) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("kind", "air_kw", "liquid_kw"),
    [
        ("direct_liquid", 4 * 2.0 * 0.2 + 2 * 10.2, 4 * 2.0 * 0.8),  # 1.6 + 20.4 = 22.0 air, 6.4 liquid
        ("immersion", 0.0, 4 * 2.0 + 2 * 10.2),  # 28.4 kW, all to liquid
    ],
)
def test_state_headroom_and_flow_agree(kind, air_kw, liquid_kw):
    nodes = (*stack(DLC1U, 4, start=1, first_id=1), *stack(H100, 2, start=10, first_id=10))
    c = ctx(nodes=nodes, loops=(loop(kind, 500.0, name="liquid"),))
    st = build_state(c, None)
    assert (st.air_kw, st.liquid_kw) == pytest.approx((air_kw, liquid_kw))
    head = engine.rack_headroom(c).to_dict()
    assert head["cooling_air"]["load_kw"] == pytest.approx(air_kw)
    assert head["cooling_liquid"]["load_kw"] == pytest.approx(liquid_kw)
    rack_liquid = sum(n.model.max_power_kw * n.model.liquid_fraction for n in nodes)
    rh = flow.RackHeat(1, 1, st.load_kw, rack_liquid, liquid=((7, 500.0),), immersion=kind == "immersion")
    share = flow.site_heat_flow([rh]).shares[1]
    assert share.air_kw == pytest.approx(air_kw)
    assert share.liquid_by_loop[7] == pytest.approx(liquid_kw)


def test_no_other_module_splits_heat_by_liquid_fraction():
    """The split ``max_power x (1 - liquid_fraction)`` or ``power if immersion else ...`` is written only in
    flow.py; a copy elsewhere in the planner (a headroom estimate, a page) is a second home for the rule."""
    offenders = []
    for path in (ROOT / "planner").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "planner/engine/flow.py" or "/migrations/" in rel:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
                text = ast.unparse(node)
                if "liquid_fraction" in text and text.startswith("1 -"):
                    offenders.append((rel, text))
            if isinstance(node, ast.IfExp) and "immers" in ast.unparse(node.test):
                text = ast.unparse(node)
                if "liquid" in text or "power" in text:
                    offenders.append((rel, text))
    assert offenders == []
