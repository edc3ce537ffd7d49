"""COOLING_AIRFLOW over a site: the room's other racks, close-coupled units' share, the feasibility plan.

DGX B200: 1,550 CFM (catalogue, reference §1.1 P* [S2b]), 14.3 kW. Unit airflows are hand-set for the test.
"""

import pytest

from planner import engine, planning, selectors
from racks.models import NodeModel
from tests.factories import (
    CoolingLoopFactory,
    NodeFactory,
    PduFactory,
    RackFactory,
    RoomFactory,
    RowFactory,
    SiteFactory,
)

pytestmark = pytest.mark.django_db


def _fill(rack, slug: str, count: int) -> None:
    model = NodeModel.objects.get(slug=slug)
    for i in range(count):
        NodeFactory(rack=rack, model=model, u_position=1 + i * model.u_height)


def _room(crah_unit_cfm=3500.0, units=3, redundant=1):
    """Two racks fed for 72 kW a side in one room whose CRAH pool delivers 3,500 x (3 - 1) = 7,000 CFM."""
    site = SiteFactory()
    room = RoomFactory(site=site)
    row = RowFactory(room=room, air_kw_per_rack_limit=100.0)
    racks = [RackFactory(row=row, name=f"R{i}") for i in (1, 2)]
    for r in racks:
        for side in ("A", "B"):
            PduFactory(rack=r, side=side, current_a=125.0)
    CoolingLoopFactory(
        site=site,
        room=room,
        kind="crah",
        unit_capacity_kw=300.0,
        units=units,
        redundant_units=redundant,
        unit_airflow_cfm=crah_unit_cfm,
    )
    return site, room, racks


def _airflow(rack, quantity):
    model = selectors.node_model_spec(NodeModel.objects.get(slug="dgx-b200"))
    ctx = selectors.rack_context(rack.id)
    return engine.check_placement(ctx, engine.Placement(model, quantity=quantity)).get("COOLING_AIRFLOW")


@pytest.mark.parametrize(("quantity", "status"), [(2, "ok"), (3, "fail")])
def test_other_racks_of_the_room_count(quantity, status):
    # R1 holds 2 x B200 = 3,100 CFM. R2 + 2: 3,100 + 3,100 = 6,200 <= 7,000 CFM; + 3: 3,100 + 4,650 = 7,750 > 7,000.
    _site, _rm, racks = _room()
    _fill(racks[0], "dgx-b200", 2)
    r = _airflow(racks[1], quantity)
    assert r.status == status
    assert (r.value, r.limit) == (pytest.approx(3100 + 1550 * quantity), pytest.approx(7000.0))
    assert "3100.0 CFM other racks" in r.message


def test_rear_door_delivers_its_racks_air_so_the_room_pool_does_not():
    # A rear door on R1 delivering 4,000 CFM covers R1's 3,100 CFM: none of it reaches the CRAH pool, so R2
    # may take 4 x 1,550 = 6,200 CFM <= 7,000.
    site, room, racks = _room()
    _fill(racks[0], "dgx-b200", 2)
    door = CoolingLoopFactory(
        site=site, room=room, kind="rear_door", unit_capacity_kw=60.0, units=1, redundant_units=0, fluid="water"
    )
    door.unit_airflow_cfm = 4000.0
    door.save()
    door.racks.set([racks[0]])
    r = _airflow(racks[1], 4)
    assert r.status == "ok" and r.value == pytest.approx(6200.0)
    assert "0.0 CFM other racks" in r.message
    r1 = engine.check_rack(selectors.rack_context(racks[0].id)).get("COOLING_AIRFLOW")
    assert r1.status == "ok" and "rack: 3100.0 CFM <= 4000.0 CFM" in r1.message


def test_snapshot_and_rack_context_agree():
    _site, room, racks = _room()
    _fill(racks[0], "dgx-b200", 2)
    _fill(racks[1], "dgx-b200", 1)
    snap = selectors.site_snapshot(room.site_id)
    for rack in racks:
        one = selectors.rack_context(rack.id).room
        both = snap.contexts[rack.id].room
        assert (one.other_airflow_cfm, one.other_airflow_unknown) == (
            both.other_airflow_cfm,
            both.other_airflow_unknown,
        )
    assert snap.contexts[racks[1].id].room.other_airflow_cfm == pytest.approx(3100.0)


def test_feasibility_plan_counts_airflow_across_racks():
    # Two empty racks, 7,000 CFM in the room: 4 x B200 = 6,200 CFM fit in R1; a fifth unit anywhere makes
    # 7,750 CFM > 7,000, so only 4 of 6 are placed and COOLING_AIRFLOW binds.
    site, _rm, _racks = _room()
    model = selectors.node_model_spec(NodeModel.objects.get(slug="dgx-b200"))
    plan = planning.plan_feasibility(selectors.site_snapshot(site.id), model, 6)
    assert len(plan.placements) == 4 and plan.unplaced == 2
    assert "COOLING_AIRFLOW" in plan.binding


def test_site_export_import_keeps_the_new_fields_and_checks_airflow_across_racks():
    from planner import transfer

    site, room, racks = _room()
    room.floor_type, room.tile_rated_load_kg, room.tile_rolling_load_kg = "raised", 2000.0, 450.0
    room.save()
    _fill(racks[0], "dgx-b200", 2)
    _fill(racks[1], "dgx-b200", 2)  # 4 x 1,550 = 6,200 CFM <= 7,000
    doc = transfer.export_site(site)
    assert doc["rooms"][0]["tile_rolling_load_kg"] == 450.0
    assert doc["cooling_loops"][0]["unit_airflow_cfm"] == 3500.0
    copy = transfer.import_site(doc, name="Copy", slug="copy")
    again = transfer.export_site(copy.site)
    assert again["rooms"] == doc["rooms"] and again["cooling_loops"] == doc["cooling_loops"]
    # A CRAH of 3,000 CFM x (3 - 1) = 6,000 CFM: R1's 3,100 CFM then R2's make 6,200 > 6,000, so R2's second
    # node is refused on import (the import's running totals count the finished rack's node air).
    doc["cooling_loops"][0]["unit_airflow_cfm"] = 3000.0
    with pytest.raises(transfer.ImportFailed) as failed:
        transfer.import_site(doc, name="Short", slug="short")
    assert "COOLING_AIRFLOW" in str(failed.value.errors) or "COOLING_AIRFLOW" in str(failed.value)


def _shared_door(unit_cfm: float):
    """The two racks of ``_room`` behind one rear door (listing both) of ``unit_cfm`` CFM and 300 kW."""
    site, room, racks = _room(crah_unit_cfm=50000.0)
    door = CoolingLoopFactory(
        site=site, room=room, kind="rear_door", unit_capacity_kw=300.0, units=1, redundant_units=0, fluid="water"
    )
    door.unit_airflow_cfm = unit_cfm
    door.save()
    door.racks.set(racks)
    return site, racks


@pytest.mark.parametrize(("unit_cfm", "expected"), [(7000.0, 0), (7400.0, 1)])
def test_a_door_shared_by_two_racks_carries_both_racks_air(unit_cfm, expected):
    # R1 behind the door holds 4 x B200: 6,200 CFM, 4 x 14.3 = 57.2 kW, and no room for an 8 U DGX H100 (40 of
    # 42 U used). DGX H100s (1,105 CFM catalogue, §1.1 P [S1]; 11.3 kW published heat, §1.3) go to R2. The door
    # moves 6,200 + 1,105 = 7,305 CFM with one of them: more than 7,000 (none placed), within 7,400 (one).
    # Shared by heat, as before, R2's part of a 7,000 CFM door was 7,000 x 11.3 / (57.2 + 11.3) = 1,155 CFM >=
    # 1,105, so one H100 passed while the door moved 7,305 CFM of 7,000: a false OK.
    site, racks = _shared_door(unit_cfm)
    _fill(racks[0], "dgx-b200", 4)
    model = selectors.node_model_spec(NodeModel.objects.get(slug="dgx-h100"))
    plan = planning.plan_feasibility(selectors.site_snapshot(site.id), model, 3)
    assert len(plan.placements) == expected
    assert {p["rack"] for p in plan.placements} <= {racks[1].id}
    assert "COOLING_AIRFLOW" in plan.binding
    r2 = engine.check_placement(
        selectors.rack_context(racks[1].id), engine.Placement(model, quantity=expected + 1)
    ).get("COOLING_AIRFLOW")
    assert r2.status == "fail"
    assert r2.value == pytest.approx(6200.0 + 1105.0 * (expected + 1))


def test_the_plan_counts_its_own_air_on_a_shared_door():
    # Both racks empty behind one 7,000 CFM door: 4 x B200 = 6,200 CFM in R1, a fifth unit in either rack makes
    # 7,750 > 7,000 CFM on the door. The plan's running totals carry R1's air to R2's check.
    site, _racks = _shared_door(7000.0)
    model = selectors.node_model_spec(NodeModel.objects.get(slug="dgx-b200"))
    plan = planning.plan_feasibility(selectors.site_snapshot(site.id), model, 6)
    assert len(plan.placements) == 4 and plan.unplaced == 2
    assert plan.binding.get("COOLING_AIRFLOW")


def test_a_lost_door_moves_its_racks_air_to_the_door_left():
    # R1 behind doors D1 and D2 (5,000 CFM, 100 kW each), R2 behind D2 only; 2 x B200 = 3,100 CFM in each.
    # R1's air splits by usable kW: 1,550 CFM to each door; D2 carries 1,550 + 3,100 = 4,650 <= 5,000 CFM.
    # With D1 lost, R1's whole 3,100 CFM goes to D2: 6,200 > 5,000 CFM, and R2 (which lost nothing) fails too.
    from planner.engine.failure import Failure, what_if

    site, room, racks = _room(crah_unit_cfm=50000.0)
    doors = []
    for name, served in (("D1", racks[:1]), ("D2", racks)):
        d = CoolingLoopFactory(
            site=site, room=room, name=name, kind="rear_door", unit_capacity_kw=100.0, units=1, redundant_units=0
        )
        d.unit_airflow_cfm = 5000.0
        d.save()
        d.racks.set(served)
        doors.append(d)
    _fill(racks[0], "dgx-b200", 2)
    _fill(racks[1], "dgx-b200", 2)
    for rack in racks:
        assert engine.check_rack(selectors.rack_context(rack.id)).get("COOLING_AIRFLOW").status == "ok"
    ix = selectors.site_failure_index(site.id)
    result = what_if(ix, [Failure("cooling_loop", doors[0].id)])
    by_name = {o.rack_name: o for o in result.racks}
    for name in ("R1", "R2"):
        airflow = next(c for c in by_name[name].checks if c.code == "COOLING_AIRFLOW")
        assert airflow.status == "fail", name
        assert airflow.value == pytest.approx(6200.0) and airflow.limit == pytest.approx(5000.0)


def test_a_lost_door_sends_its_racks_air_to_the_room_pool_for_every_rack_of_the_room():
    # R1 behind a 5,000 CFM door, R2 on the room pool alone; 2 x B200 = 3,100 CFM in each; the pool delivers
    # 2,500 x (3 - 1) = 5,000 CFM. As it stands the pool carries R2's 3,100 CFM (the door moves all of R1's).
    # With the door lost, R1's 3,100 CFM reach the pool too: 6,200 > 5,000 CFM, for R2 as well, which lost
    # nothing; the N-1 sweep says the same as the what-if.
    from planner.engine.failure import Failure, n1_sweep, what_if

    site, room, racks = _room(crah_unit_cfm=2500.0)
    door = CoolingLoopFactory(
        site=site, room=room, name="D1", kind="rear_door", unit_capacity_kw=100.0, units=1, redundant_units=0
    )
    door.unit_airflow_cfm = 5000.0
    door.save()
    door.racks.set(racks[:1])
    _fill(racks[0], "dgx-b200", 2)
    _fill(racks[1], "dgx-b200", 2)
    r2 = engine.check_rack(selectors.rack_context(racks[1].id)).get("COOLING_AIRFLOW")
    assert r2.status == "ok" and r2.value == pytest.approx(3100.0)
    ix = selectors.site_failure_index(site.id)
    result = what_if(ix, [Failure("cooling_loop", door.id)])
    by_name = {o.rack_name: o for o in result.racks}
    for name in ("R1", "R2"):
        airflow = next(c for c in by_name[name].checks if c.code == "COOLING_AIRFLOW")
        assert airflow.status == "fail", name
        assert (airflow.value, airflow.limit) == (pytest.approx(6200.0), pytest.approx(5000.0))
    entry = next(e for e in n1_sweep(ix) if e.element.kind == "cooling_loop" and e.element.id == door.id)
    assert entry.summary.racks_failing == result.summary.racks_failing == 2
