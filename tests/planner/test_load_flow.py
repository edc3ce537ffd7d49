"""Issue 13's false OKs of the heat split, each from a worked example, with the clean case beside it.

Figures: DGX H100 10.2 kW, all air (reference §1.1 P [S1]); GB200 NVL72 132 kW, 0.8712 liquid (§1.1 P* [S10]).
"""

import pytest

from planner import engine, selectors
from planner import headroom as headroom_mod
from planner.web.headlines import site_headlines
from racks.models import NodeModel
from tests.factories import (
    CoolingLoopFactory,
    NodeFactory,
    PduFactory,
    PowerSourceFactory,
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


def _feeds(rack, amps: float = 125.0) -> None:
    for side in ("A", "B"):
        PduFactory(rack=rack, side=side, current_a=amps)


def _rule(result, code):
    return next(c for c in result.checks if c.code == code)


def _door_room(door_kw: float):
    """Three racks of 4 x H100 in one room; a rear door listing R1 only; CRAH 45 kW.

    Air heat per rack at NVIDIA's published heat output (reference §1.2/§1.3, 38,557 BTU/h / 3.41214 = 11.2999
    kW per system, stored to 0.1 W): 4 x 11.2999 = 45.1996 kW (power 40.8 kW)."""
    site = SiteFactory()
    room = RoomFactory(site=site)
    row = RowFactory(room=room, air_kw_per_rack_limit=50.0)
    racks = [RackFactory(row=row, name=f"R{i}") for i in (1, 2, 3)]
    for r in racks:
        _feeds(r)
        _fill(r, "dgx-h100", 4)
    CoolingLoopFactory(site=site, room=room, kind="crah", unit_capacity_kw=45.0, units=1, redundant_units=0)
    door = CoolingLoopFactory(
        site=site, room=room, kind="rear_door", unit_capacity_kw=door_kw, units=1, redundant_units=0, fluid="water"
    )
    door.racks.set([racks[0]])
    return site, racks


def test_a_rear_door_is_never_added_to_the_rooms_pool():
    # Before: room air 3 x 45.1996 = 135.6 kW vs 45 CRAH + 80 door = 125 kW (the door's spare credited against
    # R2 and R3, which it does not serve). Now: the door removes R1's 45.1996 kW and no more; the CRAH carries
    # R2 + R3 = 2 x 45.1996 = 90.3992 kW > 45 kW.
    _site, racks = _door_room(80.0)
    r = _rule(engine.check_rack(selectors.rack_context(racks[2].id)), "COOLING_AIR_ROOM")
    assert r.status == "fail"
    assert r.value == pytest.approx(2 * 45.1996) and r.limit == pytest.approx(45.0)


def test_a_rear_door_short_of_its_racks_heat_passes_the_rest_to_the_room():
    # A 30 kW door on R1 (45.1996 kW air): 15.1996 kW reaches the room; the room carries 15.1996 + 90.3992 =
    # 105.5988 kW.
    _site, racks = _door_room(30.0)
    for rack in racks:
        r = _rule(engine.check_rack(selectors.rack_context(rack.id)), "COOLING_AIR_ROOM")
        assert r.value == pytest.approx(15.1996 + 90.3992)
    door_rack = _rule(engine.check_rack(selectors.rack_context(racks[0].id)), "COOLING_AIR_RACK")
    assert door_rack.value == pytest.approx(45.1996 - 30.0)


def test_clean_room_with_doors_on_every_rack_stays_ok():
    site = SiteFactory()
    room = RoomFactory(site=site)
    row = RowFactory(room=room, air_kw_per_rack_limit=50.0)
    CoolingLoopFactory(site=site, room=room, kind="crah", unit_capacity_kw=45.0, units=2, redundant_units=1)
    for _ in range(3):
        r = RackFactory(row=row)
        _feeds(r)
        _fill(r, "dgx-h100", 4)
        # 50 kW doors >= 4 x 11.2999 = 45.1996 kW air heat each (published heat output): nothing reaches the room.
        door = CoolingLoopFactory(
            site=site, room=room, kind="rear_door", unit_capacity_kw=50.0, units=1, redundant_units=0, fluid="water"
        )
        door.racks.set([r])
    for rack in RackFactory._meta.model.objects.filter(row=row):
        res = engine.check_rack(selectors.rack_context(rack.id))
        assert _rule(res, "COOLING_AIR_ROOM").status == "ok"
        assert _rule(res, "COOLING_AIR_ROOM").value == pytest.approx(0.0)
        assert _rule(res, "COOLING_AIR_RACK").status == "ok"


def _two_cdus():
    """R1 listed on CDU-A (120 kW) and CDU-B (60 kW); R2 listed on CDU-A only. No nodes yet."""
    site = SiteFactory()
    room = RoomFactory(site=site)
    row = RowFactory(room=room, air_kw_per_rack_limit=50.0)
    CoolingLoopFactory(site=site, room=room, kind="crah", unit_capacity_kw=500.0, units=1, redundant_units=0)
    r1, r2 = RackFactory(row=row, max_load_kg=2000.0), RackFactory(row=row, max_load_kg=2000.0)
    for r in (r1, r2):
        _feeds(r, amps=250.0)
    a = CoolingLoopFactory(
        site=site, room=room, kind="direct_liquid", unit_capacity_kw=120.0, units=1, redundant_units=0, fluid="water"
    )
    b = CoolingLoopFactory(
        site=site, room=room, kind="direct_liquid", unit_capacity_kw=60.0, units=1, redundant_units=0, fluid="water"
    )
    a.racks.set([r1, r2])
    b.racks.set([r1])
    return site, r1, r2, a, b


def test_liquid_heat_is_shared_in_proportion_to_capacity():
    # R1 alone on two CDUs, 120 and 60 kW: 115.00 kW goes 2/3 - 1/3 = 76.65 / 38.32 kW (even: 57.50 each,
    # which would overload neither but is not how the capacity shares the heat).
    _site, r1, _r2, a, b = _two_cdus()
    _fill(r1, "gb200-nvl72", 1)
    budgets = selectors.site_budgets(r1.row.room.site)
    heat = 132.0 * 0.8712  # the catalogue liquid fraction (115 / 132)
    assert budgets.loop_liquid_heat_kw[a.id] == pytest.approx(heat * 120 / 180)
    assert budgets.loop_liquid_heat_kw[b.id] == pytest.approx(heat * 60 / 180)
    r = _rule(engine.check_rack(selectors.rack_context(r1.id)), "COOLING_LIQUID")
    assert r.status == "ok" and "x 120.00 / 180.00 kW usable" in r.message


def test_even_split_false_ok_on_a_shared_cdu():
    # CDU-A 180 kW, CDU-B 60 kW; a GB200 (115.00 kW liquid) in R2 (CDU-A only) and one in R1 (both).
    # Even split of R1: A 115.00 + 57.50 = 172.46 <= 180, B 57.50 <= 60: OK before. In proportion to
    # capacity: A 115.00 + 115.00 x 180 / 240 = 201.2 kW > 180: fail now.
    _site, r1, r2, a, _b = _two_cdus()
    a.unit_capacity_kw = 180.0
    a.save()
    _fill(r2, "gb200-nvl72", 1)
    _fill(r1, "gb200-nvl72", 1)
    heat = 132.0 * 0.8712  # the catalogue liquid fraction (115 / 132)
    r = _rule(engine.check_rack(selectors.rack_context(r1.id)), "COOLING_LIQUID")
    assert r.status == "fail"
    assert r.value == pytest.approx(heat + heat * 180 / 240) and r.limit == pytest.approx(180.0)


def test_a_shared_cdu_counts_once_in_row_room_and_site_headroom():
    # One room-wide 300 kW CDU serves six racks of a row; a GB200 (115.00 kW liquid) in the first. Before:
    # the row, room and site showed 6 x 300 kW of liquid capacity (the loop once per rack it serves).
    site = SiteFactory()
    room = RoomFactory(site=site)
    row = RowFactory(room=room, air_kw_per_rack_limit=50.0)
    CoolingLoopFactory(site=site, room=room, kind="crah", unit_capacity_kw=500.0, units=1, redundant_units=0)
    CoolingLoopFactory(
        site=site, room=room, kind="direct_liquid", unit_capacity_kw=300.0, units=1, redundant_units=0, fluid="water"
    )
    racks = [RackFactory(row=row, max_load_kg=2000.0) for _ in range(6)]
    for r in racks:
        _feeds(r, amps=250.0)
    _fill(racks[0], "gb200-nvl72", 1)
    head = headroom_mod.site_headroom(selectors.site_snapshot(site.id))
    heat = 132.0 * 0.8712  # the catalogue liquid fraction (115 / 132)
    for group in (head, head["rooms"][0], head["rooms"][0]["rows"][0]):
        liquid = group["cooling_liquid"]
        assert liquid["capacity_kw"] == pytest.approx(300.0)
        assert liquid["load_kw"] == pytest.approx(heat, abs=1e-3)
        assert liquid["headroom_kw"] == pytest.approx(300.0 - heat, abs=1e-3)
        for dim in ("power", "cooling_air", "cooling_liquid"):
            assert group[dim]["headroom_kw"] <= group[dim]["capacity_kw"] + 1e-9
        cool_cap = group["cooling_air"].get("room_capacity_kw", group["cooling_air"]["capacity_kw"])
        assert group["stranded_kw"]["cooling"] <= cool_cap + liquid["capacity_kw"] + 1e-9
        assert group["stranded_kw"]["power"] <= group["power"]["capacity_kw"] + 1e-9


def test_dashboard_and_site_headroom_agree_on_air_capacity():
    site, _racks = _door_room(80.0)
    head = headroom_mod.site_headroom(selectors.site_snapshot(site.id))
    headline = next(h for h in site_headlines() if h.site.id == site.id)
    assert headline.air_capacity_kw == pytest.approx(head["cooling_air"]["room_capacity_kw"])
    assert headline.air_capacity_kw == pytest.approx(45.0 + 80.0)
    assert headline.liquid_capacity_kw == pytest.approx(head["cooling_liquid"]["capacity_kw"])


def test_a_2n_site_with_n_plus_1_cooling_has_no_redundancy_finding():
    site = SiteFactory()
    room = RoomFactory(site=site)
    row = RowFactory(room=room, air_kw_per_rack_limit=50.0)
    utility = PowerSourceFactory(site=site, kind="utility", capacity_kw=2000.0)
    ups_a = PowerSourceFactory(site=site, kind="ups", capacity_kw=500.0, parent=utility)
    ups_b = PowerSourceFactory(site=site, kind="ups", capacity_kw=500.0, parent=utility)
    CoolingLoopFactory(site=site, room=room, kind="crah", unit_capacity_kw=50.0, units=3, redundant_units=1)
    CoolingLoopFactory(
        site=site, room=room, kind="direct_liquid", unit_capacity_kw=150.0, units=2, redundant_units=1, fluid="water"
    )
    rack = RackFactory(row=row, max_load_kg=2000.0)
    PduFactory(rack=rack, side="A", current_a=250.0, source=ups_a)
    PduFactory(rack=rack, side="B", current_a=250.0, source=ups_b)
    _fill(rack, "gb200-nvl72", 1)
    res = engine.check_rack(selectors.rack_context(rack.id))
    for code in ("POWER_REDUNDANCY", "COOLING_LIQUID_REDUNDANCY", "COOLING_AIR_ROOM", "COOLING_LIQUID"):
        assert _rule(res, code).status == "ok", _rule(res, code)
    # The same rack with both feeds on UPS A: the finding names the UPS.
    for p in rack.pdus.filter(side="B"):
        p.source = ups_a
        p.save()
    r = _rule(engine.check_rack(selectors.rack_context(rack.id)), "POWER_REDUNDANCY")
    assert r.status == "warn" and f"ups {ups_a.name}" in r.message


def test_check_and_report_agree_on_a_model_without_psu_data():
    from planner import reports

    model = NodeModel.objects.create(
        slug="no-psu-data", vendor="x", name="No PSU data", u_height=2, max_power_kw=1.0, typical_power_kw=1.0,
        weight_kg=20.0, cooling="air", liquid_fraction=0.0, psu_count=0, psu_rating_kw=0.0, psus_required=0,
    )  # fmt: skip
    site = SiteFactory()
    row = RowFactory(room=RoomFactory(site=site))
    CoolingLoopFactory(site=site, room=row.room)
    rack = RackFactory(row=row)
    _feeds(rack)
    NodeFactory(rack=rack, model=model, u_position=1)
    r = _rule(engine.check_rack(selectors.rack_context(rack.id)), "PSU_FEED_LOSS")
    report = reports.report_build(site.id)
    assert r.status == "ok" and "not checked" in r.message
    assert report.summary["psu_feed_loss_node_count"] == 0


def test_dashboard_and_report_count_the_same_racks_near_a_limit():
    # Two racks of one 415 V 63 A 3-phase PDU per side at 0.8 (36.23 kW): 3 x H100 = 30.6 kW (84 %) is near
    # the limit (>= 80 % used), 2 x H100 = 20.4 kW (56 %) is not; generous cooling and floor.
    from planner import reports

    site = SiteFactory()
    row = RowFactory(room=RoomFactory(site=site), air_kw_per_rack_limit=100.0)
    CoolingLoopFactory(site=site, room=row.room, unit_capacity_kw=500.0)
    for count in (3, 2):
        rack = RackFactory(row=row, max_load_kg=2000.0)
        _feeds(rack, amps=63.0)
        _fill(rack, "dgx-h100", count)
    headline = next(h for h in site_headlines() if h.site.id == site.id)
    report = reports.report_build(site.id)
    assert headline.racks_near_limit == 1
    assert report.summary["near_limit_count"] == 1
