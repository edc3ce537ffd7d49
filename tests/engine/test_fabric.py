"""FABRIC_PORTS, FABRIC_REACH, the rack geometry and the cable bill of materials (reference §11).

Worked figures (independent of the code):
- DGX SuperPOD H100/B200 SU (§11.2 P [S104]/[S105]): 32 nodes x 8 rails, 8 leaves of 64 ports (QM9700, §11.3
  P [S114]); a non-blocking leaf keeps 32 ports down, 32 up (§11.2 C) -> one leaf per rail, 32 node ports each.
- Passive copper <= 3 m, active copper <= 5 m, multimode SR4 <= 50 m, single-mode DR4 <= 100 m (§11.4 C).
- Optics per 400G link, multimode: 15 W twin-port module / 2 links + 9 W node-end = 16.5 W (§11.4 P [S118]).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from planner.engine import Placement, check_placement
from planner.engine.fabric import MEDIA_BY_NAME, FabricSpec, LeafSpec, bill_of_materials, rack_links, stock_length_m
from planner.engine.geometry import RackFootprint, RowLayout, cable_length_m, room_layout, route_m
from planner.engine.inputs import NodeModelSpec
from tests.engine.builders import B200, CPU2U, ctx, rack, stack

PORTS_B200 = (("compute", 8, 400.0), ("storage", 2, 400.0), ("inband", 2, 400.0), ("oob", 1, None))
B200P = replace(B200, ports=PORTS_B200)


def leaves(route_m: float | None = 0.0, ports: int = 64, speed: float = 400.0, rails: int = 8):
    return tuple(LeafSpec(i, f"leaf-{i}", 900 + i, ports, speed, None, i, route_m) for i in range(1, rails + 1))


def fabric(**kw) -> FabricSpec:
    return FabricSpec(**{"fabric_id": 1, "name": "ib-su1", "slack_m": 2.0, "leaves": leaves(), **kw})


def rule(result, code):
    return next(c for c in result.checks if c.code == code)


# --- FABRIC_PORTS ---------------------------------------------------------------------------------------


def test_ports_su_full_at_32_nodes_fails_at_33():
    # 31 B200 in other racks use 31 ports on each rail; 1 more = 32 of 32 (8 leaves x (64 - 32)); 2 more = 33.
    fab = fabric(other_used=tuple((r, 31) for r in range(1, 9)))
    ok = rule(check_placement(ctx(fabrics=(fab,)), Placement(B200P, 1)), "FABRIC_PORTS")
    assert ok.status == "ok" and ok.value == 32 and ok.limit == 32
    bad = rule(check_placement(ctx(fabrics=(fab,)), Placement(B200P, 2)), "FABRIC_PORTS")
    assert bad.status == "fail" and bad.value == 33 and bad.limit == 32
    assert "31 ports used by other racks + 2 here = 33 of 32" in bad.message


def test_ports_speed_a_200g_leaf_does_not_take_a_400g_port():
    fab = fabric(leaves=leaves(speed=200.0))
    r = rule(check_placement(ctx(fabrics=(fab,)), Placement(B200P, 1)), "FABRIC_PORTS")
    assert r.status == "fail" and r.value == 1 and r.limit == 0


def test_ports_not_rail_optimized_pools_every_leaf():
    # 2 leaves x 32 down = 64 ports; 8 B200 x 8 = 64 ok, 9 x 8 = 72 fail.
    fab = fabric(rail_optimized=False, leaves=leaves(rails=2))
    assert rule(check_placement(ctx(fabrics=(fab,)), Placement(B200P, 8)), "FABRIC_PORTS").status == "ok"
    r = rule(check_placement(ctx(fabrics=(fab,)), Placement(B200P, 9)), "FABRIC_PORTS")
    assert r.status == "fail" and (r.value, r.limit) == (72, 64)


def test_ports_counts_the_racks_own_nodes_and_not_checked_cases():
    fab = fabric(other_used=tuple((r, 30) for r in range(1, 9)))
    c = ctx(fabrics=(fab,), nodes=stack(B200P, 2))
    # 30 + 2 already here = 32: the rack as it stands passes; one more fails.
    assert rule(check_placement(c, None), "FABRIC_PORTS").status == "ok"
    assert rule(check_placement(c, Placement(B200P, 1)), "FABRIC_PORTS").status == "fail"
    none = rule(check_placement(ctx(), Placement(B200P, 1)), "FABRIC_PORTS")
    assert none.status == "ok" and none.message.startswith("not checked")
    unknown = rule(check_placement(ctx(fabrics=(fab,)), Placement(CPU2U, 1)), "FABRIC_PORTS")
    assert unknown.status == "ok" and "not checked" in unknown.message


# --- FABRIC_REACH -------------------------------------------------------------------------------------


def test_reach_same_rack_is_passive_copper():
    r = rule(check_placement(ctx(fabrics=(fabric(),)), Placement(B200P, 1)), "FABRIC_REACH")
    assert r.status == "ok" and r.value == pytest.approx(2.0) and "passive copper" in r.message


def test_reach_beyond_copper_proposes_multimode_with_power():
    # 4.2 m route + 2 m slack = 6.2 m > 5 m active copper -> multimode SR4 (50 m), 7.5 + 9 = 16.5 W per link.
    fab = fabric(leaves=leaves(route_m=4.2))
    r = rule(check_placement(ctx(fabrics=(fab,)), Placement(B200P, 1)), "FABRIC_REACH")
    assert r.status == "ok" and r.value == pytest.approx(6.2)
    assert "4.2 m route + 2 m slack = 6.2 m -> multimode SR4 optics" in r.message and "16.5 W per link" in r.message
    links = rack_links(fab, B200P, 1)
    bom = bill_of_materials(links)
    assert bom["items"] == [{"medium": "multimode", "label": "multimode SR4 optics", "length_m": 7.0, "count": 8}]
    assert bom["optics_w"] == pytest.approx(8 * 16.5)  # 132 W


def test_reach_fails_when_the_site_allows_only_copper():
    fab = fabric(leaves=leaves(route_m=4.2), media=("passive_copper", "active_copper"))
    r = rule(check_placement(ctx(fabrics=(fab,)), Placement(B200P, 1)), "FABRIC_REACH")
    assert r.status == "fail" and (r.value, r.limit) == (pytest.approx(6.2), 5.0)
    assert "6.2 m > 5 m" in r.message


def test_reach_another_room_and_no_fabric():
    fab = fabric(leaves=leaves(route_m=None))
    assert rule(check_placement(ctx(fabrics=(fab,)), Placement(B200P, 1)), "FABRIC_REACH").status == "fail"
    r = rule(check_placement(ctx(), Placement(B200P, 1)), "FABRIC_REACH")
    assert r.status == "ok" and r.message.startswith("not checked")


def test_reach_beyond_single_mode_fails():
    fab = fabric(leaves=leaves(route_m=99.0))  # 101 m > 100 m DR4
    r = rule(check_placement(ctx(fabrics=(fab,)), Placement(B200P, 1)), "FABRIC_REACH")
    assert r.status == "fail" and r.limit == 100.0


def test_aoc_only_with_a_configured_reach():
    fab = fabric(leaves=leaves(route_m=4.2), media=("aoc",))
    assert rule(check_placement(ctx(fabrics=(fab,)), Placement(B200P, 1)), "FABRIC_REACH").status == "fail"
    fab = replace(fab, aoc_reach_m=30.0)
    r = rule(check_placement(ctx(fabrics=(fab,)), Placement(B200P, 1)), "FABRIC_REACH")
    assert r.status == "ok" and "active optical cable" in r.message


# --- a switch is rack load ---------------------------------------------------------------------------


def test_switch_counts_in_power_weight_and_space_and_takes_no_ports():
    qm = NodeModelSpec("switch-qm9700", 1, 1.72, 1.72, 14.8, "air", 0.0, None, 2, 2.0, 1, None, None, kind="switch")
    c = ctx(nodes=stack(qm, 1), rack=rack(u_height=10))
    r = check_placement(c, Placement(B200P, 1))  # 10U B200 + 1U switch in a 10U rack
    assert rule(r, "SPACE").status == "fail"
    assert r.load_kw == pytest.approx(14.3 + 1.72)
    assert r.equipment_kg == pytest.approx(142.4 + 14.8)
    c = ctx(nodes=stack(qm, 1), fabrics=(fabric(other_used=tuple((i, 32) for i in range(1, 9))),))
    assert rule(check_placement(c, None), "FABRIC_PORTS").message.startswith("not checked")


# --- geometry --------------------------------------------------------------------------------------------


def test_layout_and_route():
    # Row 0: three 600 mm racks, depth 1200, aisle 1200; row 1 behind it.
    r0 = RowLayout(1, 1200.0, tuple(RackFootprint(i, i, 600.0, 1200.0) for i in (1, 2, 3)))
    r1 = RowLayout(2, 1200.0, (RackFootprint(4, 1, 600.0, 1200.0), RackFootprint(5, 2, 800.0, 1200.0)))
    pts = room_layout([r0, r1])
    assert (pts[3].x_mm, pts[3].y_mm) == (1500.0, 600.0)  # 600 + 600 + 300
    assert (pts[5].x_mm, pts[5].y_mm) == (1000.0, 3000.0)  # 600 + 400; 1200 + 1200 + 600
    # |1500 - 300| + |600 - 3000| = 1200 + 2400 mm = 3.6 m; + 2 m slack = 5.6 m
    assert route_m(pts[3], pts[4]) == pytest.approx(3.6)
    assert cable_length_m(pts[3], pts[4], 2.0) == pytest.approx(5.6)
    assert route_m(pts[1], pts[1]) == 0.0


def test_explicit_coordinates_win():
    pts = room_layout([RowLayout(1, 1200.0, (RackFootprint(1, 1, x_mm=10_000.0, y_mm=5_000.0),))])
    assert (pts[1].x_mm, pts[1].y_mm) == (10_000.0, 5_000.0)


def test_stock_lengths():
    assert stock_length_m(MEDIA_BY_NAME["passive_copper"], 2.1) == 2.5
    assert stock_length_m(MEDIA_BY_NAME["active_copper"], 4.5) == 5.0
    assert stock_length_m(MEDIA_BY_NAME["multimode"], 6.2) == 7.0
