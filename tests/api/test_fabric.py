"""fabrics/ and switches/, and the fabric in placement checks and feasibility (issue 18, reference §11).

The room (planner.engine.geometry): rows A and B, five 600 mm x 1200 mm racks each, a 1200 mm aisle between;
rack centres x = 300, 900, 1500, 2100, 2700 mm; row A y = 600 mm, row B y = 1200 + 1200 + 600 = 3000 mm. The
eight leaves (one per rail, 64 x 400G, 32 down: §11.2 C) stand in A3 (x 1500). Slack 2 m (the default).
Routes to A3 + slack: A1/A5 1.2 + 2 = 3.2 m (active copper, 4 m stock); A2/A4 0.6 + 2 = 2.6 m (passive, 3 m);
B1/B5 1.2 + 2.4 + 2 = 5.6 m (multimode, 6 m); B2/B4 0.6 + 2.4 + 2 = 5.0 m (active, 5 m); B3 2.4 + 2 = 4.4 m
(active, 5 m).
"""

from __future__ import annotations

import pytest

from planner import selectors
from racks.models import Fabric, Node, NodeModel, Switch
from tests.factories import CoolingLoopFactory, PduFactory, RackFactory, RoomFactory, RowFactory, SiteFactory

# A test figure for the switch's power (QM9700 power is not found in the reference, §11.3): 1.5 kW, 1U; 14.8 kg
# (T [S115]).
LEAF = {"ports": 64, "port_speed_gbps": 400.0, "u_height": 1, "max_power_kw": 1.5, "weight_kg": 14.8}


def _room():
    site = SiteFactory(name="Fabric site", slug="fabric-site")
    room = RoomFactory(site=site, name="Hall")
    CoolingLoopFactory(site=site, room=room, unit_capacity_kw=1000.0, units=1, redundant_units=0)
    racks = {}
    for row_name in ("A", "B"):
        row = RowFactory(room=room, name=row_name, air_kw_per_rack_limit=100.0)
        for pos in range(1, 6):
            rack = RackFactory(row=row, name=f"{row_name}{pos}", position=pos, max_load_kg=1400.0)
            for side in ("A", "B"):
                for i in (1, 2):
                    PduFactory(rack=rack, name=f"{side}{i}", side=side)
            racks[rack.name] = rack
    return site, racks


def _fabric(api, site, racks, **kw):
    body = {"site": site.id, "name": "IB compute", "kind": "infiniband", "racks": [r.id for r in racks.values()], **kw}
    response = api.post("/api/v1/fabrics/", body, format="json")
    assert response.status_code == 201, response.data
    fabric = Fabric.objects.get(pk=response.data["id"])
    for rail in range(1, 9):
        response = api.post(
            "/api/v1/switches/",
            {"fabric": fabric.id, "rack": racks["A3"].id, "name": f"leaf-{rail}", "role": "leaf", "rail": rail, **LEAF},
            format="json",
        )
        assert response.status_code == 201, response.data
    return fabric


@pytest.fixture
def room(db):
    return _room()


def test_switch_is_rack_load_and_its_api_shape(api, room):
    site, racks = room
    _fabric(api, site, racks)
    sw = api.get("/api/v1/switches/", {"rack": racks["A3"].id}).data
    assert sw["count"] == 8
    first = sw["results"][0]
    assert first["u_position"] == 1 and first["u_height"] == 1 and first["max_power_kw"] == 1.5
    # 8 leaves x 1.5 kW = 12 kW on the rack, 8 x 14.8 = 118.4 kg on its frame, 8 U used.
    head = api.get(f"/api/v1/racks/{racks['A3'].id}/headroom/").data
    assert head["power"]["load_kw"] == pytest.approx(12.0)
    assert head["rack_load"]["load_kg"] == pytest.approx(118.4)
    assert head["space"]["free_u"] == 42 - 8
    assert NodeModel.objects.filter(kind="switch").count() == 8


def test_switch_refused_when_the_rack_is_full_and_bad_input(api, room):
    site, racks = room
    fabric = Fabric.objects.create(site=site, name="f")
    before = (Node.objects.count(), NodeModel.objects.count())
    r = api.post(
        "/api/v1/switches/",
        {"fabric": fabric.id, "rack": racks["A1"].id, "name": "big", **{**LEAF, "u_height": 43}},
        format="json",
    )
    # 43 U in a 42 U rack: SPACE fails (409); 61 U is beyond the field's 60 (400).
    assert r.status_code == 409 and any(c["code"] == "SPACE" and c["status"] == "fail" for c in r.data["checks"])
    r = api.post(
        "/api/v1/switches/",
        {"fabric": fabric.id, "rack": racks["A1"].id, "name": "big", **{**LEAF, "u_height": 61}},
        format="json",
    )
    assert r.status_code == 400
    r = api.post(
        "/api/v1/switches/",
        {"fabric": fabric.id, "rack": racks["A1"].id, "name": "hot", **{**LEAF, "max_power_kw": 500.0}},
        format="json",
    )
    assert r.status_code == 409 and any(c["code"] == "POWER_RACK" and c["status"] == "fail" for c in r.data["checks"])
    r = api.post("/api/v1/switches/", {"fabric": fabric.id, "rack": racks["A1"].id, "name": "x"}, format="json")
    assert r.status_code == 400 and "ports" in str(r.data)
    assert (Node.objects.count(), NodeModel.objects.count()) == before


def _check(api, rack, quantity=1):
    r = api.post(
        "/api/v1/placements/check/", {"rack": rack.id, "model": "dgx-b200", "quantity": quantity}, format="json"
    )
    assert r.status_code == 200, r.data
    return {c["code"]: c for c in r.data["checks"]}


def test_placement_beyond_copper_reach_proposes_optics(api, room):
    site, racks = room
    _fabric(api, site, racks)
    near = _check(api, racks["A2"])["FABRIC_REACH"]
    assert near["status"] == "ok" and near["value"] == pytest.approx(2.6) and "passive copper" in near["message"]
    far = _check(api, racks["B1"])["FABRIC_REACH"]
    # 1.2 m along + 2.4 m across + 2 m slack = 5.6 m > 5 m copper -> multimode SR4, 7.5 + 9 = 16.5 W per link
    assert far["status"] == "ok" and far["value"] == pytest.approx(5.6)
    assert "multimode SR4" in far["message"] and "16.5 W per link" in far["message"]
    ports = _check(api, racks["B1"], 4)["FABRIC_PORTS"]
    assert ports["status"] == "ok" and (ports["value"], ports["limit"]) == (4, 32)


def test_copper_only_site_fails_reach(api, room):
    site, racks = room
    _fabric(api, site, racks, media=["passive_copper", "active_copper"])
    far = _check(api, racks["B1"])["FABRIC_REACH"]
    assert far["status"] == "fail" and "5.6 m > 5 m" in far["message"]


def test_feasibility_32_b200_keeps_the_su_and_reports_the_bom(api, proc_api, room):
    site, racks = room
    _fabric(api, site, racks)
    r = proc_api.post("/api/v1/feasibility/", {"site": site.id, "model": "dgx-b200", "quantity": 33}, format="json")
    assert r.status_code == 200, r.data
    plan = r.data
    # 32 of 32 leaf ports per rail: the 33rd does not fit anywhere (FABRIC_PORTS binds in every rack).
    assert plan["placed"] == 32 and plan["unplaced"] == 1 and "FABRIC_PORTS" in plan["binding"]
    fab = plan["fabric"]["fabrics"][0]
    assert fab["rail_alignment"].startswith("kept") and fab["within_reach"] is True
    assert [p["rail"] for p in fab["leaf_ports"]] == list(range(1, 9))
    assert all(p["planned"] == 32 and p["capacity"] == 32 and p["used_before"] == 0 for p in fab["leaf_ports"])
    # Row B (5 racks x 4 = 20) first, then row A by position: A1 4, A2 4, A3 3 (34 U free beside the 8 leaves:
    # 3 x 10 U), A4 1 = 32; 8 links per DGX. A3 to its own leaves: 0 m + 2 m slack = 2 m passive.
    items = {(i["medium"], i["length_m"]): i["count"] for i in fab["bill_of_materials"]["items"]}
    assert items == {
        ("passive_copper", 2.0): 24,  # A3: 3 x 8
        ("passive_copper", 3.0): 40,  # A2 4 x 8 + A4 1 x 8
        ("active_copper", 4.0): 32,  # A1
        ("active_copper", 5.0): 96,  # B2, B3, B4
        ("multimode", 6.0): 64,  # B1, B5
    }
    # Optics: 64 x 16.5 W + 128 x (0.75 + 0.3) W = 1,056 + 134.4 = 1,190.4 W, counted in the energy.
    assert fab["bill_of_materials"]["optics_w"] == pytest.approx(1190.4)
    assert plan["energy"]["kw"] == pytest.approx(33 * 14.3 + 1.1904)


def test_site_without_fabric_has_no_fabric_key_and_no_extra_queries(api, proc_api, room):
    site, racks = room
    r = proc_api.post("/api/v1/feasibility/", {"site": site.id, "model": "dgx-b200", "quantity": 2}, format="json")
    assert "fabric" not in r.data and r.data["energy"]["kw"] == pytest.approx(2 * 14.3)
    assert selectors.rack_context(racks["A1"].id).fabrics == ()


def test_fabric_validation(api, room):
    site, racks = room
    other = SiteFactory(name="Other", slug="other")
    r = api.post("/api/v1/fabrics/", {"site": other.id, "name": "x", "racks": [racks["A1"].id]}, format="json")
    assert r.status_code == 400
    r = api.post("/api/v1/fabrics/", {"site": site.id, "name": "x", "media": ["copper"]}, format="json")
    assert r.status_code == 400
    assert Fabric.objects.count() == 0


def test_switch_delete_frees_the_rack(api, room):
    site, racks = room
    _fabric(api, site, racks)
    sw = Switch.objects.first()
    assert api.delete(f"/api/v1/switches/{sw.id}/").status_code == 204
    assert not Node.objects.filter(pk=sw.node_id).exists()
    assert NodeModel.objects.filter(kind="switch").count() == 7
    r = api.patch(f"/api/v1/switches/{Switch.objects.first().id}/", {"uplink_ports": 16}, format="json")
    assert r.status_code == 200 and r.data["uplink_ports"] == 16
    r = api.patch(f"/api/v1/switches/{Switch.objects.first().id}/", {"uplink_ports": 99}, format="json")
    assert r.status_code == 400


def test_fabric_dimension_in_headroom_and_report(api, room):
    from planner import reports

    site, racks = room
    _fabric(api, site, racks)
    api.post("/api/v1/nodes/", {"rack": racks["B1"].id, "model": "dgx-b200"}, format="json")
    # one B200 on the fabric: 1 port per rail used of 8 leaves x 32 -> 31 left at the tightest rail
    head = api.get(f"/api/v1/racks/{racks['B1'].id}/headroom/").data
    assert head["fabric"]["headroom_ports"] == 31
    assert head["fabric"]["fabrics"][0]["capacity_ports"] == 32 and head["fabric"]["fabrics"][0]["used_ports"] == 1
    site_head = api.get(f"/api/v1/sites/{site.id}/headroom/").data
    assert site_head["fabric"]["headroom_ports"] == 31
    report = reports.report_build(site.pk, notify=False)
    assert report.summary["fabric_headroom_ports"] == 31


def test_no_fabric_keeps_the_headroom_shape(api, room):
    site, racks = room
    head = api.get(f"/api/v1/racks/{racks['B1'].id}/headroom/").data
    assert "fabric" not in head
    assert "fabric" not in api.get(f"/api/v1/sites/{site.id}/headroom/").data
