"""SPACE: U positions (DESIGN rules table; U heights from reference §1.1: DGX A100 6U [S3], H100 8U [S1],
B200 10U [S2], GB200 NVL72 rack-scale [S7])."""

from __future__ import annotations

import pytest

from planner.engine import Placement, check_placement, check_rack
from planner.engine.results import RULE_CODES
from tests.engine.builders import A100, B200, CPU2U, GB200, H100, ctx, placed, rack, stack


def space(c, p):
    result = check_placement(c, p)
    return result, result.checks[0]


def test_auto_places_bottom_up_in_lowest_free_blocks():
    # H100 at U1-8, gap U9-14 (6 U), A100 at U15-20: a 6U A100 fills the gap, then U21 upwards.
    c = ctx(nodes=(placed(H100, 1, 1), placed(A100, 15, 2)))
    result, rule = space(c, Placement(A100, quantity=3))
    assert rule.status == "ok"
    assert result.positions == (9, 21, 27)
    assert (rule.value, rule.limit, rule.unit) == (18.0, 28.0, "U")


def test_auto_skips_blocks_too_small():
    # Gap U9-14 is 6 U: an 8U H100 goes above the A100 at U21.
    c = ctx(nodes=(placed(H100, 1, 1), placed(A100, 15, 2)))
    assert check_placement(c, Placement(H100)).positions == (21,)


@pytest.mark.parametrize(
    ("u_height", "status"),
    [(32, "ok"), (33, "ok"), (31, "fail")],
    ids=["at-limit-4xH100-32U", "under-limit-33U", "over-limit-31U"],
)
def test_space_at_under_over_limit_4x_h100_ref_1_1_S1(u_height, status):
    # 4 x DGX H100 (8U each, [S1]) = 32 U.
    result, rule = space(ctx(rack=rack(u_height=u_height)), Placement(H100, quantity=4))
    assert rule.status == status
    assert rule.value == 32.0
    assert result.positions == ((1, 9, 17, 25) if status == "ok" else ())


def test_fragmented_free_space_fails_with_blocks_listed():
    # 42U rack with B200 at U9-18 and U27-36: free U1-8, U19-26, U37-42 = 22 U, but no 10 U block.
    c = ctx(nodes=(placed(B200, 9, 1), placed(B200, 27, 2)))
    _, rule = space(c, Placement(B200))
    assert rule.status == "fail"
    assert rule.limit == 22.0
    assert "U1-8 (8 U)" in rule.message and "holds 0" in rule.message


@pytest.mark.parametrize(
    ("u", "status", "fragment"),
    [(1, "ok", "U1-8"), (35, "ok", "U35-42"), (36, "fail", "outside"), (0, "fail", "outside"), (5, "fail", "overlaps")],
    ids=["bottom", "top-exact", "past-top", "zero", "overlap"],
)
def test_explicit_position(u, status, fragment):
    c = ctx(nodes=(placed(CPU2U, 11, 1, "cpu-a"),))
    result, rule = space(c, Placement(H100, u_position=u))
    assert rule.status == status
    assert fragment in rule.message
    assert result.positions == ((u,) if status == "ok" else ())


def test_explicit_overlap_names_the_node():
    c = ctx(nodes=(placed(CPU2U, 11, 1, "cpu-a"),))
    rule = check_placement(c, Placement(H100, u_position=5)).checks[0]
    assert "cpu-a at U11-12" in rule.message


def test_explicit_position_allows_one_unit_only():
    rule = check_placement(ctx(), Placement(H100, quantity=2, u_position=1)).checks[0]
    assert rule.status == "fail" and "one unit" in rule.message


@pytest.mark.parametrize("quantity", [0, -1])
def test_quantity_below_one_fails(quantity):
    result = check_placement(ctx(), Placement(H100, quantity=quantity))
    assert result.checks[0].status == "fail" and "at least 1" in result.checks[0].message
    assert len(result.checks) == len(RULE_CODES)


def test_rack_scale_needs_an_empty_rack_ref_1_2_S7():
    assert check_placement(ctx(), Placement(GB200)).positions == (1,)
    rule = check_placement(ctx(nodes=(placed(CPU2U, 1, 1),)), Placement(GB200)).checks[0]
    assert rule.status == "fail" and "empty rack" in rule.message


def test_rack_scale_one_per_rack_and_from_u1():
    assert check_placement(ctx(), Placement(GB200, quantity=2)).checks[0].status == "fail"
    assert check_placement(ctx(), Placement(GB200, u_position=1)).checks[0].status == "ok"
    assert check_placement(ctx(), Placement(GB200, u_position=3)).checks[0].status == "fail"


def test_rack_scale_taller_than_rack_fails():
    rule = check_placement(ctx(rack=rack(u_height=24)), Placement(GB200)).checks[0]
    assert rule.status == "fail" and rule.value == 35.0 and rule.limit == 24.0


def test_rack_holding_a_rack_scale_system_has_no_free_space():
    c = ctx(nodes=(placed(GB200, 1, 1, "nvl72"),))
    rule = check_placement(c, Placement(CPU2U)).checks[0]
    assert rule.status == "fail" and "nvl72" in rule.message


def test_move_excludes_the_node_first():
    # Moving the H100 at U1 up by 2 U overlaps itself unless it is excluded.
    c = ctx(nodes=stack(H100, 1, start=1, first_id=7))
    assert check_placement(c, Placement(H100, u_position=3)).checks[0].status == "fail"
    moved = check_placement(c, Placement(H100, u_position=3, exclude_node_ids=(7,)))
    assert moved.checks[0].status == "ok" and moved.positions == (3,)
    assert moved.load_kw == pytest.approx(10.2)  # the moved node is counted once


def test_rack_as_it_stands():
    rule = check_rack(ctx(nodes=stack(H100, 4))).checks[0]
    assert rule.status == "ok" and rule.value == 32.0 and rule.limit == 42.0
    assert "10 U free" in rule.message


def test_rack_as_it_stands_reports_overlap_and_out_of_bounds():
    rule = check_rack(ctx(nodes=(placed(H100, 1, 1, "a"), placed(H100, 5, 2, "b"), placed(A100, 40, 3, "c")))).checks[0]
    assert rule.status == "fail"
    assert "b at U5-12 overlaps a" in rule.message and "c at U40-45 is outside U1-42" in rule.message


def test_rack_as_it_stands_rack_scale_must_be_alone():
    rule = check_rack(ctx(nodes=(placed(GB200, 1, 1, "nvl"), placed(CPU2U, 40, 2)))).checks[0]
    assert rule.status == "fail" and "shares the rack" in rule.message


def test_model_without_u_height_fails():
    from dataclasses import replace

    rule = check_placement(ctx(), Placement(replace(CPU2U, u_height=0))).checks[0]
    assert rule.status == "fail"
