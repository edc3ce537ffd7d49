"""What-if and the N-1 sweep on hand-built sites (planner.engine.failure).

Contexts are built as the selector builds them: every "other" load is the site's total minus the rack's own
share, worked out by hand in the comments. PDU figures: 415 V x 100 A x sqrt(3) x 0.8 / 1000 = 57.51 kW;
415 V x 250 A x sqrt(3) x 0.8 / 1000 = 143.76 kW (DESIGN PDU usable_kw). DGX H100: 10.2 kW, 8 GPUs; GB200
NVL72: 132 kW, liquid fraction 0.871 -> 114.972 kW liquid + 17.028 kW air, 72 GPUs (builders.py).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from planner.engine.failure import Failure, build_index, n1_sweep, what_if
from planner.engine.results import FAIL, OK, WARN
from tests.engine.builders import CPU2U, GB200, H100, ctx, loop, pdu, rack, room, row, source, stack

GPUS = {"dgx-h100": 8, "gb200-nvl72": 72}
H100_RACK_KW = 4 * 10.2  # 40.8 kW per rack


def crah_pair(other_air_kw: float, *, cap: float = 100.0, units: int = 3, redundant: int = 1):
    """Two CRAH groups of the room, each 100 kW x (3 - 1) = 200 kW usable: 400 kW in all (N+1 in each)."""
    loops = (
        loop("crah", cap, units, redundant, loop_id=50, name="CRAH-1"),
        loop("crah", cap, units, redundant, loop_id=51, name="CRAH-2"),
    )
    return loops, room(room_id=1, other_air_heat_kw=other_air_kw, air_loops=loops)


def h100_site(*, shared_ups: bool):
    """Two racks of 4 x DGX H100 (40.8 kW each), one 57.51 kW PDU per side.

    Shared: both sides of both racks on UPS 2 (200 kW) under the utility 1. 2N: side A on UPS 2, side B on
    UPS 3 (200 kW each). Each source above a rack carries the other rack's 40.8 kW ("other"); the room's air
    heat other than the rack's own is the other rack's 40.8 kW.
    """
    crahs, rm = crah_pair(other_air_kw=H100_RACK_KW)
    util = source(1, 10000.0, H100_RACK_KW, kind="utility")
    ups_a = source(2, 200.0, H100_RACK_KW, parent_id=1)
    ups_b = source(3, 200.0, H100_RACK_KW, parent_id=1)
    contexts = {}
    for rid in (1, 2):
        b_source = 2 if shared_ups else 3
        contexts[rid] = ctx(
            rack=rack(rack_id=rid, name=f"R{rid}"),
            room=rm,
            nodes=stack(H100, 4, first_id=100 * rid),
            pdus=(pdu("A", a=100.0, source=2, i=10 * rid + 1), pdu("B", a=100.0, source=b_source, i=10 * rid + 2)),
            sources=(util, ups_a) if shared_ups else (util, ups_a, ups_b),
            loops=crahs,
        )
    return contexts


def by_element(entries, kind, eid, side=None):
    for e in entries:
        if (e.element.kind, e.element.id, e.element.side) == (kind, eid, side):
            return e
    raise AssertionError(f"no sweep entry for {kind} {eid} {side}")


def assert_sweep_agrees(ix, entries):
    """The sweep's summary of each element is what_if's for that element alone."""
    for e in entries:
        assert e.summary == what_if(ix, [e.element.failure]).summary, e.element


def test_shared_ups_takes_both_racks_down_and_is_a_spof():
    ix = build_index(h100_site(shared_ups=True), GPUS)
    # As it stands both racks pass: A+B share UPS 2, so POWER_REDUNDANCY warns.
    assert ix.baseline == {1: WARN, 2: WARN}
    result = what_if(ix, [Failure("power_source", 2)])
    assert [o.rack_name for o in result.racks] == ["R1", "R2"]
    for o in result.racks:
        assert o.status == FAIL
        power = next(c for c in o.checks if c.code == "POWER_RACK")
        assert power.status == FAIL and "loses power" in power.message
    # 2 racks x 40.8 kW = 81.6 kW; 2 racks x 4 systems x 8 GPUs = 64 GPUs.
    assert result.summary.racks_failing == 2
    assert result.summary.it_kw_affected == pytest.approx(81.6)
    assert result.summary.gpus_affected == 64
    assert result.summary.nodes_without_gpu_count == 0

    entries = n1_sweep(ix)
    worst = entries[0]
    assert (worst.element.kind, worst.element.id) == ("power_source", 2)
    assert worst.spof and [name for _, name in worst.newly_failing] == ["R1", "R2"]
    spofs = [e for e in entries if e.spof]
    assert [(e.element.kind, e.element.id) for e in spofs] == [("power_source", 2)]
    assert not any(e.element.kind == "power_source" and e.element.id == 1 for e in entries)  # utility not swept
    assert_sweep_agrees(ix, entries)


def test_2n_independent_ups_has_no_spof():
    ix = build_index(h100_site(shared_ups=False), GPUS)
    # PSU_FEED_LOSS warns as it stands (DGX H100: 3 x 3.3 = 9.9 kW < 10.2 kW on one feed).
    assert ix.baseline == {1: WARN, 2: WARN}
    result = what_if(ix, [Failure("power_source", 2)])
    # Both racks lose side A and run on B: 40.8 kW <= 57.51 kW; UPS 3 carries 81.6 kW <= 200 kW.
    assert {o.rack_name: o.status for o in result.racks} == {"R1": WARN, "R2": WARN}
    for o in result.racks:
        assert all(c.status != FAIL for c in o.checks)
        assert any(c.code == "POWER_REDUNDANCY" and "side B only" in c.message for c in o.checks)
    assert result.summary.racks_failing == 0 and result.summary.racks_warning == 2
    assert result.summary.it_kw_affected == 0.0

    entries = n1_sweep(ix)
    assert not [e for e in entries if e.spof]
    kinds = {(e.element.kind, e.element.id, e.element.side) for e in entries}
    # UPS 2 and 3, four PDUs, four sides, two CRAH groups and one unit of each.
    assert kinds == {
        ("power_source", 2, None),
        ("power_source", 3, None),
        ("pdu", 11, "A"),
        ("pdu", 12, "B"),
        ("pdu", 21, "A"),
        ("pdu", 22, "B"),
        ("side", 1, "A"),
        ("side", 1, "B"),
        ("side", 2, "A"),
        ("side", 2, "B"),
        ("cooling_loop", 50, None),
        ("cooling_loop", 51, None),
        ("cooling_unit", 50, None),
        ("cooling_unit", 51, None),
    }
    # N+1 CRAH losing one unit: 100 kW x (2 - 0) = 200 kW usable still; the room's 81.6 kW fits.
    unit = what_if(ix, [Failure("cooling_unit", 50)])
    assert unit.summary.racks_failing == 0
    # A whole CRAH group lost: 200 kW left >= 81.6 kW.
    assert what_if(ix, [Failure("cooling_loop", 50)]).summary.racks_failing == 0
    assert_sweep_agrees(ix, entries)


def test_two_failures_at_once_2n_both_ups_down():
    ix = build_index(h100_site(shared_ups=False), GPUS)
    result = what_if(ix, [Failure("power_source", 2), Failure("power_source", 3)])
    assert result.summary.racks_failing == 2
    assert result.summary.it_kw_affected == pytest.approx(81.6)


def test_losing_the_last_side_of_a_rack_fails_only_that_rack():
    ix = build_index(h100_site(shared_ups=False), GPUS)
    result = what_if(ix, [Failure("side", 1, "A"), Failure("pdu", 12)])
    assert [(o.rack_name, o.status) for o in result.racks] == [("R1", FAIL)]
    assert result.summary.it_kw_affected == pytest.approx(40.8) and result.summary.gpus_affected == 32


def gb200_site(cdu_kw: float):
    """Two racks with one GB200 NVL72 each, both served by CDU 60 and CDU 61 (direct liquid, one unit each).

    Liquid heat 2 x 114.972 = 229.944 kW shared in proportion to capacity (equal CDUs: half each), so each
    rack's "other" on each CDU is the other rack's half, 57.486 kW. Air 2 x 17.028 kW to the CRAH pool.
    """
    cdus = (
        loop("direct_liquid", cdu_kw, 1, 0, loop_id=60, name="CDU-1", other_heat_kw=57.486, racks_served=2),
        loop("direct_liquid", cdu_kw, 1, 0, loop_id=61, name="CDU-2", other_heat_kw=57.486, racks_served=2),
    )
    crahs, _ = crah_pair(other_air_kw=0.0)
    rm = room(room_id=1, floor_rated_load_kg_m2=2500.0, other_air_heat_kw=17.028, air_loops=crahs)
    return {
        rid: ctx(
            rack=rack(rack_id=rid, name=f"L{rid}"),
            room=rm,
            nodes=stack(GB200, 1, first_id=100 * rid),
            pdus=(pdu("A", a=250.0, i=10 * rid + 1), pdu("B", a=250.0, i=10 * rid + 2)),
            loops=(*crahs, *cdus),
        )
        for rid in (1, 2)
    }


def test_two_cdus_at_70_percent_losing_one_overloads_the_survivor():
    # 165 kW each: 114.972 / 165 = 69.7 % loaded. Without CDU-2, CDU-1 carries 229.944 kW > 165 kW.
    ix = build_index(gb200_site(165.0), GPUS)
    assert ix.baseline == {1: WARN, 2: WARN}  # COOLING_LIQUID_REDUNDANCY warns: 229.944 > 165 left
    result = what_if(ix, [Failure("cooling_loop", 61)])
    assert [(o.rack_name, o.status) for o in result.racks] == [("L1", FAIL), ("L2", FAIL)]
    for o in result.racks:
        liquid = next(c for c in o.checks if c.code == "COOLING_LIQUID")
        assert liquid.status == FAIL
        assert liquid.value == pytest.approx(229.944) and liquid.limit == pytest.approx(165.0)
        # Under the failure the redundancy rule warns, never fails.
        assert all(c.status == WARN for c in o.checks if c.code == "COOLING_LIQUID_REDUNDANCY")
    # 2 x 132 kW = 264 kW, 2 x 72 = 144 GPUs.
    assert result.summary.it_kw_affected == pytest.approx(264.0) and result.summary.gpus_affected == 144
    entries = n1_sweep(ix)
    spofs = {(e.element.kind, e.element.id) for e in entries if e.spof}
    # Each CDU, and one unit of each (its only unit: 165 x 0 = 0 kW left).
    assert spofs == {("cooling_loop", 60), ("cooling_loop", 61), ("cooling_unit", 60), ("cooling_unit", 61)}
    assert_sweep_agrees(ix, entries)


def test_two_cdus_with_room_to_spare_survive_losing_one():
    # 300 kW each: without one, 229.944 kW <= 300 kW on the other.
    ix = build_index(gb200_site(300.0), GPUS)
    assert ix.baseline == {1: OK, 2: OK}
    result = what_if(ix, [Failure("cooling_loop", 61)])
    assert result.summary.racks_failing == 0
    assert not [e for e in n1_sweep(ix) if e.spof]


def single_crah_site(units: int, redundant: int):
    """Two H100 racks (40.8 kW air each) in a room cooled by one CRAH loop of 50 kW units."""
    crah = loop("crah", 50.0, units, redundant, loop_id=70, name="CRAH")
    rm = room(room_id=1, other_air_heat_kw=H100_RACK_KW, air_loops=(crah,))
    return {
        rid: ctx(
            rack=rack(rack_id=rid, name=f"R{rid}"),
            room=rm,
            nodes=stack(H100, 4, first_id=100 * rid),
            pdus=(pdu("A", a=100.0, i=10 * rid + 1), pdu("B", a=100.0, i=10 * rid + 2)),
            loops=(crah,),
        )
        for rid in (1, 2)
    }


def test_loop_without_redundant_unit_losing_one_fails_its_racks():
    # 50 kW x 2 = 100 kW >= 81.6 kW now; one unit lost: 50 kW x 1 = 50 kW < 81.6 kW.
    ix = build_index(single_crah_site(2, 0), GPUS)
    assert ix.baseline == {1: WARN, 2: WARN}
    result = what_if(ix, [Failure("cooling_unit", 70)])
    assert [(o.rack_name, o.status) for o in result.racks] == [("R1", FAIL), ("R2", FAIL)]
    room_check = next(c for c in result.racks[0].checks if c.code == "COOLING_AIR_ROOM")
    assert room_check.value == pytest.approx(81.6) and room_check.limit == pytest.approx(50.0)
    unit = by_element(n1_sweep(ix), "cooling_unit", 70)
    assert unit.spof and unit.summary.racks_failing == 2


def test_n_plus_1_crah_losing_one_unit_stays_ok():
    # 50 kW x (3 - 1) = 100 kW; one unit lost: 50 kW x (2 - 0) = 100 kW, still >= 81.6 kW.
    ix = build_index(single_crah_site(3, 1), GPUS)
    result = what_if(ix, [Failure("cooling_unit", 70)])
    assert result.summary.racks_failing == 0
    assert not by_element(n1_sweep(ix), "cooling_unit", 70).spof
    # Two units lost: 50 kW x 1 = 50 kW < 81.6 kW.
    two = what_if(ix, [Failure("cooling_unit", 70), Failure("cooling_unit", 70)])
    assert two.summary.racks_failing == 2


def rear_door_site():
    """R1 has a 50 kW rear door (loop 80) taking all its 40.8 kW; R2 none. Room CRAH 60 kW usable.

    Room pool now: R2's 40.8 kW <= 60 kW. R1's context: the door's other heat 0, the room's other air
    40.8 - 40.8 x 0 (door pass-through) = 40.8 kW; R2's: 40.8 - its own 40.8 = 0 kW.
    """
    crah = loop("crah", 60.0, 2, 1, loop_id=50, name="CRAH")
    door = loop("rear_door", 50.0, 1, 0, loop_id=80, name="RD-1", racks_served=1)
    contexts = {}
    for rid, other_air, loops in ((1, H100_RACK_KW, (crah, door)), (2, 0.0, (crah,))):
        contexts[rid] = ctx(
            rack=rack(rack_id=rid, name=f"R{rid}"),
            room=room(room_id=1, other_air_heat_kw=other_air, air_loops=(crah,)),
            nodes=stack(H100, 4, first_id=100 * rid),
            pdus=(pdu("A", a=100.0, i=10 * rid + 1), pdu("B", a=100.0, i=10 * rid + 2)),
            loops=loops,
        )
    return contexts


def test_rear_door_lost_moves_its_heat_to_the_room():
    ix = build_index(rear_door_site(), GPUS)
    assert ix.baseline == {1: WARN, 2: WARN}
    # Door lost: the room pool carries 40.8 + 40.8 = 81.6 kW > 60 kW: both racks fail COOLING_AIR_ROOM.
    result = what_if(ix, [Failure("cooling_loop", 80)])
    assert [(o.rack_name, o.status) for o in result.racks] == [("R1", FAIL), ("R2", FAIL)]
    for o in result.racks:
        c = next(c for c in o.checks if c.code == "COOLING_AIR_ROOM")
        assert c.value == pytest.approx(81.6) and c.limit == pytest.approx(60.0)
    entries = n1_sweep(ix)
    door = by_element(entries, "cooling_loop", 80)
    assert [name for _, name in door.failing] == ["R1", "R2"]  # R2 only through the room's total
    assert_sweep_agrees(ix, entries)


def test_unknown_gpu_count_is_counted_and_reported():
    ix = build_index(h100_site(shared_ups=True), {"dgx-h100": None})
    s = what_if(ix, [Failure("power_source", 2)]).summary
    assert s.gpus_affected == 0 and s.nodes_without_gpu_count == 8


@pytest.mark.parametrize(
    ("failure", "text"),
    [
        (Failure("meteor", 1), "unknown failure kind 'meteor'"),
        (Failure("power_source", 999), "power source 999"),
        (Failure("pdu", 999), "PDU 999"),
        (Failure("side", 999, "A"), "rack 999"),
        (Failure("side", 1, "C"), "side must be A or B"),
        (Failure("cooling_loop", 999), "cooling loop 999"),
        (Failure("cooling_unit", 999), "cooling loop 999"),
    ],
)
def test_bad_failures_raise_value_error(failure, text):
    ix = build_index(h100_site(shared_ups=True), GPUS)
    with pytest.raises(ValueError, match=text):
        what_if(ix, [failure])


def test_side_without_pdus_raises():
    contexts = h100_site(shared_ups=True)
    contexts[1] = ctx(
        **{**{f: getattr(contexts[1], f) for f in ("rack", "room", "nodes", "sources", "loops")}},
        pdus=(pdu("A", a=100.0, source=2, i=11),),
    )
    ix = build_index(contexts, GPUS)
    with pytest.raises(ValueError, match="no PDU on side B"):
        what_if(ix, [Failure("side", 1, "B")])


def test_no_failure_changes_nothing():
    ix = build_index(h100_site(shared_ups=True), GPUS)
    assert what_if(ix, []).racks == ()


def test_one_pdu_of_a_side_lost_runs_on_the_other_side():
    """Two 415 V 63 A PDUs per side: 2 x 36.23 = 72.46 kW a side for 40.8 kW. Losing PDU A1 leaves side A
    36.23 kW < 40.8 kW (redundancy lost: warn), side B 72.46 kW carries the rack alone; losing A1 and the
    whole side B leaves 36.23 kW < 40.8 kW: the rack fails."""
    contexts = {
        1: ctx(
            rack=rack(rack_id=1, name="R1"),
            nodes=stack(H100, 4),
            pdus=(pdu("A", i=1), pdu("A", i=2), pdu("B", i=3), pdu("B", i=4)),
        )
    }
    ix = build_index(contexts, GPUS)
    one = what_if(ix, [Failure("pdu", 1)])
    power = next(c for c in one.racks[0].checks if c.code == "POWER_RACK")
    assert power.status == WARN and "side B alone carries the rack: 40.80 kW <= 72.46 kW" in power.message
    assert one.summary.racks_failing == 0
    two = what_if(ix, [Failure("pdu", 1), Failure("side", 1, "B")])
    power = next(c for c in two.racks[0].checks if c.code == "POWER_RACK")
    assert power.status == FAIL and power.limit == pytest.approx(36.23, abs=0.01)
    assert two.summary.racks_failing == 1


def test_elements_touching_no_rack_are_swept_and_accepted():
    """A spare UPS (4, under the utility) and a CRAH of another room (90) feed and serve no rack here: they are
    elements of the site, and losing them touches nothing."""
    spare = source(4, 500.0, parent_id=1)
    other_room = loop("crah", 100.0, 2, 1, loop_id=90, name="CRAH-other")
    ix = build_index(h100_site(shared_ups=False), GPUS, sources=[spare], loops=[other_room])
    for failure in (Failure("power_source", 4), Failure("cooling_loop", 90), Failure("cooling_unit", 90)):
        result = what_if(ix, [failure])
        assert result.racks == () and result.summary.racks_failing == 0 and result.summary.racks_warning == 0
    entries = n1_sweep(ix)
    assert by_element(entries, "power_source", 4).summary.racks_warning == 0
    assert not by_element(entries, "cooling_loop", 90).spof


H100_PUBLISHED = replace(H100, heat_output_kw=38_557 / 3.41214 / 1000)  # 11.2999 kW of heat (§1.3)


@pytest.mark.parametrize(("crah_kw", "after"), [(45.0, FAIL), (48.0, OK)])
def test_a_lost_rear_door_moves_the_published_heat_to_the_room(crah_kw, after):
    """R1: 4 x DGX H100 with the published heat output (power 40.8 kW, air heat 4 x 11.2999 = 45.2 kW) behind
    a 50 kW rear door; R2: one 1.5 kW CPU server. One CRAH of ``crah_kw``. As it stands the door takes all
    45.2 kW and the room carries 1.5 kW. With the door lost the room carries 45.2 + 1.5 = 46.7 kW: a 45 kW
    CRAH fails for R2 as well (budgeted at power, R2 would see 40.8 + 1.5 = 42.3 <= 45: a false OK); 48 kW
    passes."""
    crah = loop("crah", crah_kw, 1, 0, loop_id=50, name="CRAH")
    door = loop("rear_door", 50.0, 1, 0, loop_id=60, name="Door R1", fluid="water")
    heat_r1 = 4 * 38_557 / 3.41214 / 1000
    common = {
        "row": row(air_kw_per_rack_limit=60.0),
        "sources": (source(1, 10000.0, kind="utility"), source(2, 200.0, parent_id=1), source(3, 200.0, parent_id=1)),
    }
    contexts = {
        1: ctx(
            rack=rack(rack_id=1, name="R1"),
            room=room(room_id=1, other_air_heat_kw=1.5, air_loops=(crah,)),
            nodes=stack(H100_PUBLISHED, 4),
            pdus=(pdu("A", a=100.0, source=2, i=11), pdu("B", a=100.0, source=3, i=12)),
            loops=(crah, door),
            **common,
        ),
        2: ctx(
            rack=rack(rack_id=2, name="R2"),
            room=room(room_id=1, other_air_heat_kw=0.0, air_loops=(crah,)),
            nodes=stack(CPU2U, 1, first_id=200),
            pdus=(pdu("A", a=100.0, source=2, i=21), pdu("B", a=100.0, source=3, i=22)),
            loops=(crah,),
            **common,
        ),
    }
    ix = build_index(contexts, GPUS)
    assert ix.baseline[1] != FAIL and ix.baseline[2] != FAIL
    result = what_if(ix, [Failure("cooling_loop", 60)])
    status = {o.rack_name: o.status for o in result.racks}
    # what-if lists a rack's checks that are not ok
    room_air = {o.rack_name: next((c for c in o.checks if c.code == "COOLING_AIR_ROOM"), None) for o in result.racks}
    if after == FAIL:
        assert status.get("R2") == FAIL and status.get("R1") == FAIL
        assert room_air["R2"].value == pytest.approx(heat_r1 + 1.5, abs=1e-3)
    else:
        assert FAIL not in status.values()
