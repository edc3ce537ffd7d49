"""Issue 13 item 3 through the API: kVA ratings and their clean() errors, the derated panel, the shipped
published heat outputs, the CDU approach. Figures computed by hand in the comments."""

from __future__ import annotations

import pytest

from cooling.models import CoolingLoop
from racks.models import NodeModel, PowerSource
from tests import factories as f

pytestmark = pytest.mark.django_db

# §1.2/§1.3, exact factor 3.41214 (§0.2), stored to 0.1 W: 38,557 BTU/h = 11.2999 kW; 48,794 = 14.3001 kW;
# 22,179 = 6.5000 kW.
H100_HEAT_KW = round(38557 / 3.41214 / 1000, 4)


def _check(api, rack, model, quantity):
    r = api.post("/api/v1/placements/check/", {"rack": rack.id, "model": model, "quantity": quantity}, format="json")
    assert r.status_code in (200, 409), r.data
    return {c["code"]: c for c in r.json()["checks"]}


def test_power_source_in_kva_has_usable_kw(api):
    site = f.SiteFactory()
    r = api.post(
        "/api/v1/power-sources/",
        {"site": site.id, "name": "UPS-A", "kind": "ups", "capacity_kva": 500, "power_factor": 0.9},
        format="json",
    )
    assert r.status_code == 201, r.data
    # 500 kVA x 0.9 = 450 kW; a UPS is not derated even when the site derates distribution.
    assert r.data["capacity_kw"] is None and r.data["usable_kw"] == pytest.approx(450.0)
    assert r.data["listed_continuous_100"] is False
    # A kW-only source keeps its meaning: capacity_kw is the rating, usable 300 kW.
    kw = api.post(
        "/api/v1/power-sources/", {"site": site.id, "name": "P1", "kind": "panel", "capacity_kw": 300}, format="json"
    )
    assert kw.status_code == 201 and kw.data["usable_kw"] == pytest.approx(300.0) and kw.data["power_factor"] == 1.0


def test_power_source_rating_errors_answer_400_in_the_error_shape(api):
    site = f.SiteFactory()
    none = api.post("/api/v1/power-sources/", {"site": site.id, "name": "U", "kind": "ups"}, format="json")
    assert none.status_code == 400
    assert set(none.json()["errors"]) >= {"capacity_kw", "capacity_kva"}, none.json()
    # 460 kW > 500 kVA x 0.9 = 450 kW: refused, naming the arithmetic.
    over = api.post(
        "/api/v1/power-sources/",
        {"site": site.id, "name": "U", "kind": "ups", "capacity_kw": 460, "capacity_kva": 500, "power_factor": 0.9},
        format="json",
    )
    assert over.status_code == 400
    assert "500 kVA x 0.9 = 450 kW" in over.json()["errors"]["capacity_kw"][0]
    bad_pf = api.post(
        "/api/v1/power-sources/",
        {"site": site.id, "name": "U", "kind": "ups", "capacity_kva": 500, "power_factor": 1.2},
        format="json",
    )
    assert bad_pf.status_code == 400 and "power_factor" in bad_pf.json()["errors"]
    # Clean case: 450 kW = 500 x 0.9 exactly is allowed; usable 450.
    ok = api.post(
        "/api/v1/power-sources/",
        {"site": site.id, "name": "U", "kind": "ups", "capacity_kw": 450, "capacity_kva": 500, "power_factor": 0.9},
        format="json",
    )
    assert ok.status_code == 201 and ok.data["usable_kw"] == pytest.approx(450.0)
    # PATCH clearing the only rating is refused too.
    cleared = api.patch(
        f"/api/v1/power-sources/{ok.data['id']}/", {"capacity_kw": None, "capacity_kva": None}, format="json"
    )
    assert cleared.status_code == 400 and "capacity_kw" in cleared.json()["errors"]
    assert PowerSource.objects.get(pk=ok.data["id"]).capacity_kva == 500


def _panel_site(derate: bool, listed: bool = False):
    site = f.SiteFactory(power_derating=0.8, derate_distribution=derate)
    room = f.RoomFactory(site=site)
    rack = f.RackFactory(row=f.RowFactory(room=room, air_kw_per_rack_limit=100.0))
    f.CoolingLoopFactory(site=site, room=room, unit_capacity_kw=500.0, units=1, redundant_units=0)
    panel = f.PowerSourceFactory(site=site, name="PNL-1", kind="panel", capacity_kw=50.0, listed_continuous_100=listed)
    for side in ("A", "B"):
        f.PduFactory(rack=rack, side=side, current_a=125.0, source=panel)
    return site, rack, panel


def test_derated_panel_fails_upstream_where_the_undervalued_one_passes(api):
    # 4 x DGX H100 = 4 x 10.2 = 40.8 kW on a 50 kW panel. Site not derating: 40.8 <= 50 ok.
    _site, rack, _ = _panel_site(derate=False)
    assert _check(api, rack, "dgx-h100", 4)["POWER_UPSTREAM"]["status"] == "ok"
    # Derating: 50 x 0.8 = 40 kW < 40.8 -> fail, with the arithmetic and the source tag.
    _site, rack, panel = _panel_site(derate=True)
    up = _check(api, rack, "dgx-h100", 4)["POWER_UPSTREAM"]
    assert up["status"] == "fail" and up["limit"] == pytest.approx(40.0)
    assert "50 kW rated x 0.8 continuous (§4.5 NEC 210.20(A) P* [S32])" in up["message"]
    assert api.get(f"/api/v1/power-sources/{panel.id}/").data["usable_kw"] == pytest.approx(40.0)
    head = api.get(f"/api/v1/racks/{rack.id}/headroom/").json()
    assert head["power"]["headroom_kw"] == pytest.approx(40.0)  # the panel binds (PDUs 2 x 71.9 kW)
    # Listed for 100 % continuous operation: not derated, passes again.
    _site, rack, _ = _panel_site(derate=True, listed=True)
    assert _check(api, rack, "dgx-h100", 4)["POWER_UPSTREAM"]["status"] == "ok"


def test_shipped_catalogue_publishes_heat_output_where_the_reference_does(api):
    heat = dict(NodeModel.objects.values_list("slug", "heat_output_kw"))
    assert heat["dgx-a100"] == pytest.approx(6.5)  # 22,179 / 3.41214 = 6,500.03 W
    assert heat["dgx-h100"] == pytest.approx(11.2999)
    assert heat["dgx-h200"] == pytest.approx(H100_HEAT_KW)
    assert heat["dgx-b200"] == pytest.approx(14.3001)  # 48,794 / 3.41214 = 14,300.12 W
    for slug in ("dgx-b300", "gb200-nvl72", "gb300-nvl72", "hgx-h100-8gpu", "cpu-2u"):
        assert heat[slug] is None, slug
    body = api.get("/api/v1/node-models/?slug=dgx-h100").json()["results"][0]
    assert body["heat_output_kw"] == pytest.approx(H100_HEAT_KW)


def test_four_h100_budget_45_2_kw_of_air_heat_on_the_room(api):
    # Power 4 x 10.2 = 40.8 kW; air heat 4 x 11.2999 = 45.1996 kW. CRAH 45 kW usable: the room fails at
    # 45.2 kW (at 40.8 kW it would pass); the rack's headroom and a neighbour's check see the same 45.2 kW.
    site = f.SiteFactory()
    room = f.RoomFactory(site=site)
    row = f.RowFactory(room=room, air_kw_per_rack_limit=100.0)
    r1, r2 = f.RackFactory(row=row), f.RackFactory(row=row)
    for r in (r1, r2):
        for side in ("A", "B"):
            f.PduFactory(rack=r, side=side, current_a=125.0)
    f.CoolingLoopFactory(site=site, room=room, unit_capacity_kw=45.0, units=1, redundant_units=0)
    checks = _check(api, r1, "dgx-h100", 4)
    assert checks["POWER_RACK"]["value"] == pytest.approx(40.8)
    assert checks["COOLING_AIR_RACK"]["value"] == pytest.approx(4 * H100_HEAT_KW)
    assert checks["COOLING_AIR_ROOM"]["status"] == "fail"
    assert checks["COOLING_AIR_ROOM"]["value"] == pytest.approx(45.1996, rel=1e-5)
    # Installed (the fixture writes them directly): the budgets carry 45.2 kW for the neighbour's check.
    model = NodeModel.objects.get(slug="dgx-h100")
    for i in range(4):
        f.NodeFactory(rack=r1, model=model, u_position=1 + 8 * i)
    head = api.get(f"/api/v1/racks/{r1.id}/headroom/").json()
    assert head["power"]["load_kw"] == pytest.approx(40.8)
    assert head["cooling_air"]["load_kw"] == pytest.approx(45.1996, rel=1e-5)
    room_check = _check(api, r2, "cpu-2u", 1)["COOLING_AIR_ROOM"]
    # 45.1996 kW other racks + 1.5 kW this rack = 46.70 kW > 45 kW.
    assert room_check["value"] == pytest.approx(45.1996 + 1.5, rel=1e-5)
    assert "45.20 kW other racks" in room_check["message"]
    site_head = api.get(f"/api/v1/sites/{site.id}/headroom/").json()
    assert site_head["cooling_air"]["load_kw"] == pytest.approx(45.1996, rel=1e-5)
    assert site_head["power"]["load_kw"] == pytest.approx(40.8)


def _liquid_rack(approach):
    site = f.SiteFactory()
    room = f.RoomFactory(site=site)
    rack = f.RackFactory(row=f.RowFactory(room=room, air_kw_per_rack_limit=100.0), max_load_kg=3000.0)
    for side in ("A", "B"):
        f.PduFactory(rack=rack, side=side, current_a=125.0)
    f.CoolingLoopFactory(site=site, room=room, unit_capacity_kw=500.0, units=1, redundant_units=0)
    f.CoolingLoopFactory(
        site=site,
        room=room,
        name="CDU-1",
        kind="direct_liquid",
        fluid="water",
        unit_capacity_kw=500.0,
        units=1,
        redundant_units=0,
        supply_temp_c=40.0,
        approach_c=approach,
    )
    NodeModel.objects.create(
        slug="dlc-test",
        vendor="test",
        name="DLC test tray",
        u_height=1,
        max_power_kw=2.0,
        typical_power_kw=2.0,
        weight_kg=20.0,
        cooling="hybrid",
        liquid_fraction=0.8,
        max_inlet_temp_c=35.0,
        max_supply_temp_c=45.0,
    )
    return rack


def test_approach_pushes_a_loop_over_the_nodes_max_supply(api):
    # 40 C facility + 6 K approach = 46 C > 45 C max supply -> fail.
    temp = _check(api, _liquid_rack(6.0), "dlc-test", 1)["COOLING_TEMPERATURE"]
    assert temp["status"] == "fail" and temp["value"] == pytest.approx(46.0)
    assert "40.0 C + 6 K CDU approach = 46.0 C" in temp["message"]


def test_approach_under_the_limit_and_not_given(api):
    # 40 + 4 = 44 C <= 45 C.
    assert _check(api, _liquid_rack(4.0), "dlc-test", 1)["COOLING_TEMPERATURE"]["status"] == "ok"
    NodeModel.objects.filter(slug="dlc-test").delete()
    # Not given: checked at the 40 C facility supply, and said so.
    temp = _check(api, _liquid_rack(None), "dlc-test", 1)["COOLING_TEMPERATURE"]
    assert temp["status"] == "ok" and "CDU approach not given" in temp["message"]


def test_loop_approach_through_the_api(api):
    site = f.SiteFactory()
    body = {
        "site": site.id,
        "name": "CDU-A",
        "kind": "direct_liquid",
        "unit_capacity_kw": 800,
        "supply_temp_c": 32,
        "fluid": "pg25",
        "approach_c": 3.5,
    }
    r = api.post("/api/v1/cooling-loops/", body, format="json")
    assert r.status_code == 201 and r.data["approach_c"] == 3.5
    neg = api.post("/api/v1/cooling-loops/", {**body, "name": "CDU-B", "approach_c": -1}, format="json")
    assert neg.status_code == 400 and "approach_c" in neg.json()["errors"]
    crah = {**body, "name": "CRAH-1", "kind": "crah", "fluid": "air"}
    air = api.post("/api/v1/cooling-loops/", crah, format="json")
    assert air.status_code == 400 and "approach_c" in air.json()["errors"]
    assert CoolingLoop.objects.filter(name="CDU-A").get().approach_c == 3.5


def test_site_derate_distribution_through_the_api(api):
    r = api.post("/api/v1/sites/", {"name": "D", "slug": "d", "derate_distribution": True}, format="json")
    assert r.status_code == 201 and r.data["derate_distribution"] is True
    assert api.post("/api/v1/sites/", {"name": "E", "slug": "e"}, format="json").data["derate_distribution"] is False


def test_export_and_import_carry_the_new_fields():
    from planner import transfer

    site = f.SiteFactory(derate_distribution=True)
    room = f.RoomFactory(site=site)
    f.PowerSourceFactory(
        site=site, name="UPS-K", capacity_kw=None, capacity_kva=500.0, power_factor=0.9, listed_continuous_100=True
    )
    f.CoolingLoopFactory(
        site=site, room=room, name="CDU-1", kind="direct_liquid", fluid="water", supply_temp_c=32.0, approach_c=3.0
    )
    doc = transfer.export_site(site)
    assert doc["site"]["derate_distribution"] is True
    src = doc["power_sources"][0]
    assert (src["capacity_kw"], src["capacity_kva"], src["power_factor"], src["listed_continuous_100"]) == (
        None,
        500.0,
        0.9,
        True,
    )
    assert "usable_kw" not in src  # computed, never exported
    assert next(lp for lp in doc["cooling_loops"] if lp["name"] == "CDU-1")["approach_c"] == 3.0
    copy = transfer.import_site(doc, name="Copy K", slug="copy-k").site
    assert copy.derate_distribution is True
    ups = PowerSource.objects.get(site=copy, name="UPS-K")
    assert (ups.capacity_kva, ups.power_factor, ups.listed_continuous_100) == (500.0, 0.9, True)
    assert CoolingLoop.objects.get(site=copy, name="CDU-1").approach_c == 3.0
