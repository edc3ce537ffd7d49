"""COOLING_AIRFLOW: air the rack's nodes move (CFM) <= air the serving units deliver, where both are known.

Node air: the catalogue's airflow_cfm (DGX B200 1,550 CFM, §1.1 P* [S2b]; DGX H100 1,105 CFM, P [S1]) or
1.755 x air W / dT °C (§4.2, C) at the serving air units' delta T. Unit airflows below are hand-set (the
reference gives none for a CRAH or a rear door).
"""

from __future__ import annotations

import pytest

from planner.engine import Placement, check_placement, check_rack
from tests.engine.builders import B200, GB200, HGX, ctx, loop, placed, room


def airflow(c, placement):
    return check_placement(c, placement).get("COOLING_AIRFLOW")


def crah_room(unit_cfm, units, redundant, *, dt=10.0, **kw):
    crah = loop("crah", 100.0, units, redundant, name="crah-1", unit_airflow_cfm=unit_cfm, delta_t_c=dt)
    return room(air_loops=(crah,), **kw)


def test_4x_b200_room_crah_too_little_fails():
    # 4 x 1,550 CFM = 6,200 CFM; CRAH 3,000 CFM x (2 - 1 redundant) = 3,000 CFM < 6,200.
    r = airflow(ctx(room=crah_room(3000.0, 2, 1)), Placement(B200, quantity=4))
    assert r.status == "fail"
    assert (r.value, r.limit, r.unit) == (pytest.approx(6200.0), pytest.approx(3000.0), "CFM")
    assert "4 x dgx-b200 1550 CFM (catalogue)" in r.message
    assert "3000 CFM x (2 - 1) = 3000.0 CFM" in r.message and "6200.0 CFM > 3000.0 CFM" in r.message


def test_4x_b200_room_crah_enough_ok():
    # CRAH 3,500 CFM x (3 - 1) = 7,000 CFM >= 6,200 CFM.
    r = airflow(ctx(room=crah_room(3500.0, 3, 1)), Placement(B200, quantity=4))
    assert r.status == "ok"
    assert (r.value, r.limit) == (pytest.approx(6200.0), pytest.approx(7000.0))


@pytest.mark.parametrize(("other_cfm", "status"), [(800.0, "ok"), (801.0, "fail")])
def test_other_racks_of_the_room_count(other_cfm, status):
    # 6,200 CFM this rack + 800 CFM other racks = 7,000 CFM = the 7,000 CFM the pool delivers: at the limit.
    r = airflow(ctx(room=crah_room(3500.0, 3, 1, other_airflow_cfm=other_cfm)), Placement(B200, quantity=4))
    assert r.status == status
    assert r.value == pytest.approx(6200.0 + other_cfm)


def test_node_without_catalogue_cfm_uses_1_755_w_per_dt():
    # HGX H100 (no catalogue airflow): 14.0 kW all to air at the CRAH's dT 12 K:
    # 1.755 x 14,000 W / 12 K = 2,047.5 CFM; a 2,000 CFM unit fails, a 2,100 CFM one passes.
    r = airflow(ctx(room=crah_room(2000.0, 1, 0, dt=12.0)), Placement(HGX))
    assert r.status == "fail" and r.value == pytest.approx(2047.5)
    assert "1.755 x 14000 W air / 12 K = 2047.5 CFM" in r.message
    assert airflow(ctx(room=crah_room(2100.0, 1, 0, dt=12.0)), Placement(HGX)).status == "ok"


def test_hybrid_node_counts_only_its_air_share():
    # GB200 NVL72 (test catalogue liquid_fraction 0.871, §1.2 P* [S10]): 132 kW x (1 - 0.871) = 17.028 kW to
    # air; 1.755 x 17,028 W / 10 K = 2,988.414 CFM <= 3,000 CFM.
    r = airflow(ctx(room=crah_room(3000.0, 1, 0)), Placement(GB200))
    assert r.status == "ok"
    assert (r.value, r.limit) == (pytest.approx(2988.414), pytest.approx(3000.0))


def test_smallest_air_delta_t_is_used():
    # Two CRAHs with dT 10 K and 15 K: the node air is computed at 10 K (more air, conservative).
    a = loop("crah", 100.0, name="a", unit_airflow_cfm=2000.0, delta_t_c=15.0)
    b = loop("crah", 100.0, name="b", unit_airflow_cfm=2000.0, delta_t_c=10.0)
    r = airflow(ctx(room=room(air_loops=(a, b))), Placement(HGX))
    assert r.value == pytest.approx(1.755 * 14000 / 10)  # 2,457 CFM <= 4,000 CFM


def test_unknown_unit_airflow_is_not_checked():
    r = airflow(ctx(), Placement(B200, quantity=4))  # the default room CRAH has no airflow recorded
    assert r.status == "ok" and r.limit is None
    assert r.message.startswith("not checked: room: airflow of crah-room unknown")


def test_unknown_node_airflow_is_not_checked():
    # No catalogue CFM and no air-side loop with fluid air to give a dT: the nodes' air is unknown.
    crah = loop("crah", 100.0, name="chw-crah", fluid="water", unit_airflow_cfm=5000.0)
    r = airflow(ctx(room=room(air_loops=(crah,))), Placement(HGX))
    assert r.status == "ok" and r.value is None
    assert r.message.startswith("not checked: node airflow unknown: hgx-h100-8gpu")


def test_other_racks_of_unknown_airflow_make_the_room_not_checked():
    r = airflow(ctx(room=crah_room(9000.0, 1, 0, other_airflow_unknown=2)), Placement(B200))
    assert r.status == "ok" and "node airflow of 2 other rack(s) unknown" in r.message


# --- close-coupled units deliver to their racks ---------------------------------------------------------


def door(unit_cfm, *, other_heat_kw=0.0, **kw):
    return loop(
        "rear_door", 100.0, name="door-1", loop_id=7, unit_airflow_cfm=unit_cfm, other_heat_kw=other_heat_kw, **kw
    )


def test_rear_door_alone_too_little_fails_at_the_rack():
    # The door serves only this rack: 1,500 CFM x 1 = 1,500 CFM < 6,200 CFM the 4 x B200 move.
    c = ctx(room=crah_room(9000.0, 1, 0), loops=(door(1500.0),))
    r = airflow(c, Placement(B200, quantity=4))
    assert r.status == "fail"
    assert (r.value, r.limit) == (pytest.approx(6200.0), pytest.approx(1500.0))
    assert "rack: 6200.0 CFM > 1500.0 CFM" in r.message
    # The room pool then carries what the door does not deliver: 6,200 - 1,500 = 4,700 CFM <= 9,000.
    assert "4700.0 CFM this rack after close-coupled units" in r.message


@pytest.mark.parametrize(("unit_cfm", "status"), [(8000.0, "fail"), (16000.0, "ok")])
def test_shared_rear_door_carries_the_air_of_all_its_racks(unit_cfm, status):
    # Another rack offers the door 57.2 kW and the 4 x 1,550 = 6,200 CFM of its B200s; this rack 4 x 1,550 =
    # 6,200 CFM more: 12,400 CFM on the door. 8,000 CFM < 12,400 (fail); 16,000 >= 12,400 (ok).
    c = ctx(room=crah_room(9000.0, 1, 0), loops=(door(unit_cfm, other_heat_kw=57.2, other_airflow_cfm=6200.0),))
    r = airflow(c, Placement(B200, quantity=4))
    assert r.status == status
    assert (r.value, r.limit) == (pytest.approx(12400.0), pytest.approx(unit_cfm))
    assert "6200.0 CFM other racks + 6200.0 CFM this rack = 12400.0 CFM" in r.message
    if status == "ok":
        # The door moves all 12,400 CFM of its racks: nothing is left for the room pool.
        assert "0.0 CFM this rack and its units' other racks, beyond the units' airflow" in r.message


@pytest.mark.parametrize(("other_cfm", "status"), [(7000.0, "fail"), (3000.0, "ok")])
def test_a_share_by_heat_no_longer_hides_a_door_moving_more_air_than_it_has(other_cfm, status):
    # A 10,000 CFM door already takes 10 kW and 7,000 CFM from other racks (high-airflow kit); this rack adds
    # 4 x B200: 57.2 kW, 6,200 CFM. Shared by heat, this rack's part was 10,000 x 57.2 / 67.2 = 8,512 CFM >=
    # 6,200 and passed, while the door moved 7,000 + 6,200 = 13,200 CFM > 10,000: a false OK. Clean case beside
    # it: 3,000 + 6,200 = 9,200 CFM <= 10,000.
    c = ctx(room=crah_room(90000.0, 1, 0), loops=(door(10000.0, other_heat_kw=10.0, other_airflow_cfm=other_cfm),))
    r = airflow(c, Placement(B200, quantity=4))
    assert r.status == status
    assert (r.value, r.limit) == (pytest.approx(other_cfm + 6200.0), pytest.approx(10000.0))


def test_unknown_air_of_other_racks_on_a_door_is_not_checked_there():
    c = ctx(room=crah_room(90000.0, 1, 0), loops=(door(10000.0, other_heat_kw=10.0, other_airflow_unknown=1),))
    r = airflow(c, Placement(B200, quantity=4))
    assert "rack: node airflow of other racks on" in r.message and "unknown (not checked)" in r.message


def test_door_of_unknown_airflow_leaves_all_air_to_the_room():
    c = ctx(room=crah_room(3000.0, 1, 0), loops=(door(None),))
    r = airflow(c, Placement(B200, quantity=4))
    assert r.status == "fail"  # the room pool must deliver all 6,200 CFM: 3,000 CFM is short
    assert (r.value, r.limit) == (pytest.approx(6200.0), pytest.approx(3000.0))
    assert "rack: airflow of door-1 unknown (not checked)" in r.message


def test_immersion_and_empty_rack_not_applicable():
    tank = loop("immersion", 200.0, name="tank")
    r = airflow(ctx(room=crah_room(10.0, 1, 0), loops=(tank,)), Placement(B200))
    assert r.status == "ok" and r.message.startswith("not applicable: immersion")
    assert check_rack(ctx()).get("COOLING_AIRFLOW").message == "no nodes"


def test_existing_nodes_count():
    c = ctx(room=crah_room(3000.0, 1, 0), nodes=(placed(B200, 1, 1),))
    r = airflow(c, Placement(B200))
    assert r.value == pytest.approx(3100.0) and r.status == "fail"  # 2 x 1,550 > 3,000


def test_a_door_of_unknown_airflow_passes_all_its_racks_air_to_the_room():
    # The door's airflow is unknown: it moves none, so the 2,000 CFM other racks offer it and this rack's
    # 4 x 1,550 = 6,200 CFM all reach the CRAH pool: 8,200 > 8,000 CFM fails; a 9,000 CFM pool passes.
    for pool_cfm, status in ((8000.0, "fail"), (9000.0, "ok")):
        c = ctx(room=crah_room(pool_cfm, 1, 0), loops=(door(None, other_heat_kw=10.0, other_airflow_cfm=2000.0),))
        r = airflow(c, Placement(B200, quantity=4))
        assert r.status == status, pool_cfm
        assert (r.value, r.limit) == (pytest.approx(8200.0), pytest.approx(pool_cfm))
