"""COOLING_AIR_RACK, COOLING_AIR_ROOM, COOLING_LIQUID, COOLING_FLOW, COOLING_TEMPERATURE.

Reference: §3 practical bands (open aisle ~8-10 kW/rack T [S45], S [S43]; contained ~25-30 kW T [S65];
passive rear door ~10-30 kW T [S46]); §1.2 GB200 NVL72 132 kW = 115 kW liquid + 17 kW air (P* [S10], 0.871);
§4.3 flow formula and fluid table (C [S31]); §2.1 ASHRAE A1 allowable 32 C vs DGX 30 C inlet (P [S1], P* [S18]);
§2.2 W classes (P* [S22]); GB300 facility supply 25-45 C (P* [S11]).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from planner.engine import Placement, check_placement, check_rack
from tests.engine.builders import A100, B200, B300, DLC1U, GB200, GB300, H100, ctx, loop, room, row, stack


def rule(result, code):
    return result.get(code)


def air_ctx(containment="none", limit=None, loops=(), **kw):
    return ctx(row=row(containment=containment, air_kw_per_rack_limit=limit), loops=loops, **kw)


# --- COOLING_AIR_RACK ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("containment", "model", "qty", "status", "limit"),
    [
        ("none", A100, 1, "ok", 10.0),  # 6.5 kW <= 10 (open aisle, ref §3 T [S45] / S [S43])
        ("none", H100, 1, "fail", 10.0),  # 10.2 kW > 10
        ("cold_aisle", H100, 2, "ok", 25.0),  # 20.4 kW <= 25 (contained, ref §3 T [S65])
        ("hot_aisle", H100, 3, "fail", 25.0),  # 30.6 kW > 25
    ],
    ids=["open-aisle-A100", "open-aisle-H100", "cold-aisle-2xH100", "hot-aisle-3xH100"],
)
def test_air_rack_defaults_by_containment(containment, model, qty, status, limit):
    r = rule(check_placement(air_ctx(containment), Placement(model, quantity=qty)), "COOLING_AIR_RACK")
    assert (r.status, r.limit, r.unit) == (status, limit, "kW")
    assert r.value == pytest.approx(model.max_power_kw * qty)


@pytest.mark.parametrize(
    ("limit", "status"),
    [(40.8, "ok"), (40.81, "ok"), (40.79, "fail")],
    ids=["at-limit-4xH100-40.8kW", "under-limit", "over-limit"],
)
def test_air_rack_at_under_over(limit, status):
    r = rule(check_placement(air_ctx(limit=limit), Placement(H100, quantity=4)), "COOLING_AIR_RACK")
    assert r.status == status and "row limit" in r.message


def test_rear_door_takes_its_capacity_off_the_rack_air():
    # 4 x H100 = 40.8 kW - 30 kW passive rear door (ref §3 ~10-30 kW, T [S46]) = 10.8 kW <= 25 (contained).
    door = loop("rear_door", 30.0, name="rdhx-1", racks_served=1)
    r = rule(check_placement(air_ctx("cold_aisle", loops=(door,)), Placement(H100, quantity=4)), "COOLING_AIR_RACK")
    assert r.status == "ok" and r.value == pytest.approx(10.8)
    assert "40.80 kW - 30.00 kW close-coupled (rdhx-1 rear door 30.00 kW) = 10.80 kW <= 25.00 kW" in r.message


def test_in_row_capacity_is_shared_by_the_racks_it_serves():
    # One 50 kW in-row unit (ref §3 10-50 kW, T [S45]) for 2 racks each offering 4 x B200 = 57.2 kW: it
    # removes 50 of 114.4 kW, 25 kW from each (engine.flow); 57.2 - 25 = 32.2 > 25.
    inrow = loop("in_row", 50.0, name="irc", racks_served=2, other_heat_kw=57.2)
    r = rule(check_placement(air_ctx("hot_aisle", loops=(inrow,)), Placement(B200, quantity=4)), "COOLING_AIR_RACK")
    assert r.status == "fail" and r.value == pytest.approx(32.2)
    assert "shared: 57.20 of 114.40 kW offered, removes 57.20 x 50.00 / 114.40 = 25.00 kW" in r.message


def test_gb200_residual_air_ref_1_2_S10():
    # 132 kW x (1 - 0.871) = 17.03 kW of air (HPE: 17 kW): fits a contained row, not an open aisle.
    cdu = loop("direct_liquid", 250.0, units=3, redundant=1, name="cdu")
    contained = rule(check_placement(air_ctx("cold_aisle", loops=(cdu,)), Placement(GB200)), "COOLING_AIR_RACK")
    assert contained.status == "ok" and contained.value == pytest.approx(17.028)
    assert rule(check_placement(air_ctx("none", loops=(cdu,)), Placement(GB200)), "COOLING_AIR_RACK").status == "fail"


def test_immersion_puts_all_heat_into_liquid():
    tank = loop("immersion", 150.0, name="tank")  # ref §3 ~100-150 kW per tank, T [S47]
    result = check_placement(air_ctx("none", loops=(tank,)), Placement(H100, quantity=4))
    assert rule(result, "COOLING_AIR_RACK").value == 0.0
    assert result.air_heat_kw == 0.0 and result.liquid_heat_kw == pytest.approx(40.8)
    assert rule(result, "COOLING_LIQUID").status == "ok"


# --- COOLING_AIR_ROOM ------------------------------------------------------------------------------------


def test_room_air_n_plus_1():
    # 4 CRAH x 100 kW, N+1 -> 300 kW usable; 280 kW other racks + 40.8 = 320.8 > 300.
    c = ctx(room=room(other_air_heat_kw=280.0, air_loops=(loop("crah", 100.0, units=4, redundant=1, name="crah"),)))
    r = rule(check_placement(c, Placement(H100, quantity=4)), "COOLING_AIR_ROOM")
    assert r.status == "fail" and r.limit == 300.0 and r.value == pytest.approx(320.8)
    assert "crah 100 kW x (4 - 1) = 300 kW" in r.message


@pytest.mark.parametrize(
    ("other", "status"),
    [(259.2, "ok"), (259.19, "ok"), (259.21, "fail")],
    ids=["at-limit-300kW", "under-limit", "over-limit"],
)
def test_room_air_at_under_over(other, status):
    c = ctx(room=room(other_air_heat_kw=other, air_loops=(loop("crah", 100.0, units=4, redundant=1),)))
    assert rule(check_placement(c, Placement(H100, quantity=4)), "COOLING_AIR_ROOM").status == status


def test_room_without_air_loops():
    c = ctx(room=room(air_loops=()))
    r = rule(check_placement(c, Placement(A100)), "COOLING_AIR_ROOM")
    assert r.status == "fail" and "no air cooling recorded for the room" in r.message
    assert rule(check_rack(c), "COOLING_AIR_ROOM").status == "ok"


# --- COOLING_LIQUID --------------------------------------------------------------------------------------


def test_gb200_without_liquid_loop_fails():
    r = rule(check_placement(ctx(), Placement(GB200)), "COOLING_LIQUID")
    assert r.status == "fail"
    assert "gb200-nvl72 needs liquid cooling: no direct-liquid loop serves this rack" in r.message
    assert r.value == pytest.approx(132 * 0.871)


def test_air_rack_without_liquid_loop_is_ok():
    r = rule(check_placement(ctx(), Placement(H100)), "COOLING_LIQUID")
    assert (r.status, r.message) == ("ok", "no liquid load")


def test_liquid_by_design_needs_a_loop_even_without_a_fraction():
    model = replace(DLC1U, liquid_fraction=0.0, cooling="liquid")
    assert rule(check_placement(ctx(), Placement(model)), "COOLING_LIQUID").status == "fail"


def test_gb200_on_an_n_plus_1_cdu():
    # CDU 3 x 250 kW N+1 = 500 kW (ref §3 CDU sizes T [S49a]); 300 other + 114.97 = 414.97 <= 500.
    cdu = loop("direct_liquid", 250.0, units=3, redundant=1, name="cdu", other_heat_kw=300.0)
    r = rule(check_placement(ctx(loops=(cdu,)), Placement(GB200)), "COOLING_LIQUID")
    assert r.status == "ok" and r.value == pytest.approx(300 + 132 * 0.871) and r.limit == 500.0


def test_liquid_heat_split_evenly_over_loops():
    a = loop("direct_liquid", 100.0, name="cdu-a", other_heat_kw=40.0)
    b = loop("direct_liquid", 100.0, name="cdu-b", other_heat_kw=0.0)
    r = rule(check_placement(ctx(loops=(a, b)), Placement(GB200)), "COOLING_LIQUID")
    share = 132 * 0.871 / 2  # 57.49 kW each
    assert r.status == "ok" and r.value == pytest.approx(40 + share)  # the tighter loop
    assert "(114.97 kW x 100.00 / 200.00 kW usable)" in r.message


@pytest.mark.parametrize(
    ("capacity", "status"),
    [(114.972, "ok"), (114.982, "ok"), (114.962, "fail")],
    ids=["at-limit-115kW-ref1.2-S10", "under-limit", "over-limit"],
)
def test_liquid_at_under_over(capacity, status):
    cdu = loop("direct_liquid", capacity, name="cdu")
    assert rule(check_placement(ctx(loops=(cdu,)), Placement(GB200)), "COOLING_LIQUID").status == status


# --- COOLING_FLOW ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fluid", "rho_cp"),
    [("water", 0.9956 * 4.180), ("pg25", 1.0149 * 3.945)],
    ids=["water-30C-ref4.3-S31", "pg25-30C-ref4.3-S31"],
)
def test_flow_needed_for_gb200(fluid, rho_cp):
    cdu = loop("direct_liquid", 250.0, name="cdu", fluid=fluid, delta_t_c=10.0)
    r = rule(check_placement(ctx(loops=(cdu,)), Placement(GB200)), "COOLING_FLOW")
    expected = 132 * 0.871 * 60 / (rho_cp * 10.0)  # water 165.77, pg25 172.31 L/min
    assert r.status == "ok" and r.value == pytest.approx(expected) and r.limit is None and r.unit == "L/min"
    assert "no flow limit recorded" in r.message


@pytest.mark.parametrize(
    ("delta", "status"),
    [(0.0, "ok"), (0.01, "ok"), (-0.01, "fail")],
    ids=["at-limit-ref4.3", "under-limit", "over-limit"],
)
def test_flow_limit_at_under_over(delta, status):
    # Loop total heat = 50 kW other + 114.97 kW GB200 at dT 8 K, water.
    needed = (50 + 132 * 0.871) * 60 / (0.9956 * 4.180 * 8.0)
    cdu = loop("direct_liquid", 500.0, name="cdu", delta_t_c=8.0, other_heat_kw=50.0, max_flow_lpm=needed + delta)
    r = rule(check_placement(ctx(loops=(cdu,)), Placement(GB200)), "COOLING_FLOW")
    assert r.status == status and r.value == pytest.approx(needed)


def test_flow_not_applicable_without_liquid_loop():
    r = rule(check_placement(ctx(), Placement(H100)), "COOLING_FLOW")
    assert r.status == "ok" and r.message.startswith("not applicable")


def test_flow_zero_delta_t_fails_without_raising():
    cdu = loop("direct_liquid", 500.0, name="cdu", delta_t_c=0.0, max_flow_lpm=100.0)
    assert rule(check_placement(ctx(loops=(cdu,)), Placement(GB200)), "COOLING_FLOW").status == "fail"


# --- COOLING_TEMPERATURE ---------------------------------------------------------------------------------


def crah_at(temp):
    return room(air_loops=(loop("crah", 1000.0, name="crah", supply_temp_c=temp),))


@pytest.mark.parametrize(
    ("supply", "status"),
    [(27.0, "ok"), (30.0, "ok"), (29.9, "ok"), (30.1, "fail"), (32.0, "fail")],
    ids=["ASHRAE-recommended-27C", "at-limit-30C-P[S1]", "under-limit", "over-limit", "A1-allowable-32C-ref2.1"],
)
def test_dgx_h100_inlet_30c_vs_ashrae_ref_2_1(supply, status):
    # §2.1 note: DGX H100 inlet 5-30 C; a room at A1-allowable 32 C is out of spec for it.
    r = rule(check_placement(ctx(room=crah_at(supply)), Placement(H100)), "COOLING_TEMPERATURE")
    assert r.status == status and (r.value, r.limit, r.unit) == (supply, 30.0, "C")


def test_dgx_b200_inlet_35c_equals_a2_ref_2_1():
    assert rule(check_placement(ctx(room=crah_at(32.0)), Placement(B200)), "COOLING_TEMPERATURE").status == "ok"


def test_unsourced_inlet_limit_is_skipped():
    r = rule(check_placement(ctx(room=crah_at(40.0)), Placement(B300)), "COOLING_TEMPERATURE")
    assert r.status == "ok" and "vendor inlet limit unsourced" in r.message and r.value is None


def test_worst_margin_over_models_and_loops():
    # A100 (30 C) and B200 (35 C) under a 28 C CRAH and a 20 C rear door: worst margin A100 vs CRAH, 2 K.
    door = loop("rear_door", 30.0, name="rdhx", supply_temp_c=20.0, racks_served=1)
    c = ctx(room=crah_at(28.0), loops=(door,), nodes=stack(A100, 1))
    r = rule(check_placement(c, Placement(B200)), "COOLING_TEMPERATURE")
    assert r.status == "ok" and (r.value, r.limit) == (28.0, 30.0)
    assert "dgx-a100: crah supply 28.0 C <= 30.0 C" in r.message


@pytest.mark.parametrize(
    ("supply", "status"),
    [(45.0, "ok"), (40.0, "ok"), (45.1, "fail"), (50.0, "fail")],
    ids=["W45-at-limit-P*[S11]", "W40", "over-limit", "W+-50C"],
)
def test_gb300_liquid_supply_limit_ref_2_2(supply, status):
    cdu = loop("direct_liquid", 500.0, name="cdu", supply_temp_c=supply)
    r = rule(check_placement(ctx(loops=(cdu,)), Placement(GB300)), "COOLING_TEMPERATURE")
    assert r.status == status and r.limit == 45.0


def test_liquid_limit_unsourced_for_gb200():
    cdu = loop("direct_liquid", 500.0, name="cdu", supply_temp_c=45.0)
    r = rule(check_placement(ctx(loops=(cdu,)), Placement(GB200)), "COOLING_TEMPERATURE")
    assert r.status == "ok" and "vendor liquid supply limit unsourced" in r.message


def test_hybrid_node_checks_both_sides():
    # DLC1U: 80 % liquid (supply limit 40 C) and 20 % air (inlet 35 C).
    cdu = loop("direct_liquid", 100.0, name="cdu", supply_temp_c=42.0)
    r = rule(check_placement(ctx(room=crah_at(36.0), loops=(cdu,)), Placement(DLC1U)), "COOLING_TEMPERATURE")
    assert r.status == "fail" and "max liquid supply" in r.message and "max inlet" in r.message
    assert (r.value, r.limit) == (42.0, 40.0)  # -2 K beats -1 K
