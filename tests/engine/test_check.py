"""check_placement / check_rack as a whole: every rule, in DESIGN order, nothing raised, JSON-able results."""

from __future__ import annotations

import ast
import json
import math
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import pytest

import planner.engine
from planner.engine import RULE_CODES, CheckResult, Placement, RuleResult, check_placement, check_rack
from planner.engine.fabric import FabricSpec, LeafSpec
from tests.engine.builders import CATALOGUE, CPU2U, GB200, H100, ctx, loop, pdu, rack, room, site, source, stack

DESIGN_ORDER = (
    "SPACE",
    "RACK_LOAD",
    "FLOOR_UNIFORM",
    "FLOOR_POINT",
    "FLOOR_ROLLING",
    "POWER_RACK",
    "POWER_REDUNDANCY",
    "POWER_UPSTREAM",
    "POWER_SITE",
    "PSU_FEED_LOSS",
    "POWER_OUTLETS",
    "POWER_PHASE",
    "COOLING_AIR_RACK",
    "COOLING_AIR_ROOM",
    "COOLING_AIRFLOW",
    "COOLING_LIQUID",
    "COOLING_LIQUID_REDUNDANCY",
    "COOLING_FLOW",
    "COOLING_TEMPERATURE",
    "FABRIC_PORTS",
    "FABRIC_REACH",
)
UNITS = {"", "U", "kg", "kg/m2", "kW", "L/min", "C", "CFM", "A", "receptacles", "ports", "m"}


def test_no_django_import_in_the_engine():
    engine_dir = Path(planner.engine.__file__).parent
    offenders = []
    for path in sorted(engine_dir.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n == "django" or n.startswith("django.")]
    assert offenders == []
    assert len(list(engine_dir.glob("*.py"))) >= 8


def test_rule_codes_follow_design_order():
    assert RULE_CODES == DESIGN_ORDER


@pytest.mark.parametrize("model", CATALOGUE, ids=lambda m: m.slug)
def test_every_rule_always_present_in_order(model):
    for placement in (None, Placement(model), Placement(model, quantity=3), Placement(model, quantity=0)):
        result = check_placement(ctx(), placement)
        assert tuple(c.code for c in result.checks) == DESIGN_ORDER
        assert all(c.status in ("ok", "warn", "fail") for c in result.checks)
        assert all(c.unit in UNITS for c in result.checks)
        assert all(c.message for c in result.checks)


def test_ok_means_no_fail_and_warnings_pass():
    # One H100 in a generous rack: PSU_FEED_LOSS warns (ref §1.1), still ok.
    result = check_placement(ctx(), Placement(H100))
    assert result.ok and result.warnings == ("PSU_FEED_LOSS",) and result.failing == ()
    result = check_placement(ctx(pdus=(pdu("A", i=1),)), Placement(H100, quantity=4))
    assert not result.ok and result.failing == ("POWER_RACK",)
    assert set(result.warnings) == {"POWER_REDUNDANCY", "PSU_FEED_LOSS"}


def test_result_totals():
    c = ctx(nodes=stack(H100, 1), loops=(loop("direct_liquid", 500.0, name="cdu"),))
    result = check_placement(c, Placement(GB200))  # SPACE fails (not empty) but the loads still count
    assert result.positions == ()
    assert result.load_kw == pytest.approx(142.2)
    assert result.liquid_heat_kw == pytest.approx(132 * 0.871)
    assert result.air_heat_kw == pytest.approx(142.2 - 132 * 0.871)
    assert result.weight_kg == pytest.approx(1360 + 130.45)  # rack-scale: no empty frame added
    assert result.equipment_kg == pytest.approx(130.45)


def test_check_rack_is_check_placement_none():
    c = ctx(nodes=stack(H100, 3))
    assert check_rack(c) == check_placement(c, None)
    assert check_rack(c).positions == ()


def test_results_are_frozen():
    result = check_rack(ctx())
    with pytest.raises(FrozenInstanceError):
        result.ok = False
    with pytest.raises(FrozenInstanceError):
        result.checks[0].status = "fail"


def test_to_dict_is_plain_json():
    result = check_placement(ctx(), Placement(H100, quantity=2))
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["ok"] is True and data["positions"] == [1, 9]
    assert [c["code"] for c in data["checks"]] == list(DESIGN_ORDER)
    assert set(data["checks"][0]) == {"code", "status", "message", "value", "limit", "unit"}
    assert data["load_kw"] == pytest.approx(20.4)


def test_to_dict_replaces_non_finite_numbers():
    r = RuleResult("X", "fail", "m", math.inf, math.nan, "kW")
    assert r.to_dict()["value"] is None and r.to_dict()["limit"] is None


def test_get_by_code():
    result = check_rack(ctx())
    assert result.get("POWER_SITE").code == "POWER_SITE" and result.get("NOPE") is None


def test_value_limit_unit_filled_where_numbers_exist():
    c = ctx(
        site=site(utility_capacity_kw=5000.0),
        room=room(
            floor_type="raised",
            tile_rated_load_kg=680.0,
            tile_rolling_load_kg=680.0,
            air_loops=(loop("crah", 500.0, unit_airflow_cfm=5000.0),),
        ),
        loops=(loop("direct_liquid", 500.0, max_flow_lpm=2000.0, supply_temp_c=30.0),),
        sources=(source(1, 1000.0),),
        pdus=tuple(replace(pdu(side, i=i), receptacles_c13=12) for i, side in ((1, "A"), (2, "A"), (3, "B"), (4, "B"))),
        fabrics=(FabricSpec(1, "ib", leaves=(LeafSpec(1, "leaf-1", 2, 64, 400.0, rail=1, route_m=1.0),)),),
    )
    model = replace(
        CPU2U,
        liquid_fraction=0.5,
        max_supply_temp_c=40.0,
        cord_count=2,
        cord_receptacle="C13",
        ports=(("compute", 1, 400.0),),
    )
    result = check_placement(c, Placement(model))
    for r in result.checks:
        if r.code == "POWER_REDUNDANCY":
            continue
        assert r.value is not None and r.limit is not None and r.unit, r.code


@pytest.mark.parametrize(
    "bad",
    [
        ctx(rack=rack(u_height=None)),
        ctx(pdus=(pdu("A", v=None),)),
        ctx(room=room(floor_rated_load_kg_m2=None)),
        ctx(loops=(loop("direct_liquid", None),)),
        ctx(nodes=(None,)),
        ctx(site=None),
    ],
    ids=["u_height-None", "voltage-None", "floor-None", "loop-None", "node-None", "site-None"],
)
def test_nothing_raised_for_broken_input(bad):
    result = check_placement(bad, Placement(H100))
    assert isinstance(result, CheckResult)
    assert tuple(c.code for c in result.checks) == DESIGN_ORDER
    assert not result.ok
    assert any("could not be evaluated" in c.message for c in result.checks)


def test_nothing_raised_for_a_broken_placement():
    result = check_placement(ctx(), Placement(None))
    assert tuple(c.code for c in result.checks) == DESIGN_ORDER and not result.ok


def test_engine_public_api():
    for name in (
        "check_placement",
        "check_rack",
        "rack_headroom",
        "pdu_usable_kw",
        "loop_usable_kw",
        "coolant_flow_lpm",
    ):
        assert callable(getattr(planner.engine, name))
