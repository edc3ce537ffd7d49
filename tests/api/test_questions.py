"""Question endpoints: check, headroom, retrofits, feasibility, TCO."""

import io

import pytest
from django.core.management import call_command

from racks.models import Node, NodeModel, Rack, Site
from tests import factories as f

pytestmark = pytest.mark.django_db

ALL_CODES = [
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
]


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    return Site.objects.get(slug="demo-campus")


def _rack(name: str) -> Rack:
    return Rack.objects.get(name=name)


def test_check_lists_every_rule_and_never_writes(proc_api, demo):
    before = Node.objects.count()
    response = proc_api.post(
        "/api/v1/placements/check/", {"rack": _rack("A1-04").id, "model": "dgx-h100", "quantity": 2}, format="json"
    )
    assert response.status_code == 200, response.data
    assert [c["code"] for c in response.data["checks"]] == ALL_CODES
    for check in response.data["checks"]:
        assert set(check) >= {"code", "status", "message", "value", "limit", "unit"}
        assert check["status"] in ("ok", "warn", "fail")
        assert check["message"]
    assert {"ok", "checks", "headroom", "retrofits"} <= set(response.data)
    assert Node.objects.count() == before


def test_check_power_rack_arithmetic(proc_api, demo):
    # A1 racks: two 415 V 3-phase 63 A PDUs per side at 0.8 and PF 1.0: 2 x 36.228 = 72.457 kW (§4.6).
    # Six DGX H100 budget 6 x 10.2 = 61.2 kW: power fits; space 6 x 8U = 48U > 42U does not.
    response = proc_api.post(
        "/api/v1/placements/check/", {"rack": _rack("A1-04").id, "model": "dgx-h100", "quantity": 6}, format="json"
    )
    checks = {c["code"]: c for c in response.data["checks"]}
    assert checks["POWER_RACK"]["value"] == pytest.approx(61.2, rel=1e-3)
    assert checks["POWER_RACK"]["limit"] == pytest.approx(2 * 415 * 63 * 3**0.5 * 0.8 / 1000, rel=1e-3)
    assert checks["POWER_RACK"]["status"] == "ok"
    assert checks["SPACE"]["status"] == "fail"
    assert response.data["ok"] is False
    assert response.data["retrofits"] is not None


def test_check_rejects_bad_input(proc_api, demo):
    rack = _rack("A1-04").id
    for body, field in [
        ({"rack": rack, "model": "dgx-h100", "quantity": 0}, "quantity"),
        ({"rack": rack, "model": "nope"}, "model"),
        ({"rack": 999999, "model": "dgx-h100"}, "rack"),
        ({"rack": rack, "model": "dgx-h100", "quantity": 2, "u_position": 3}, "u_position"),
        ({"rack": rack, "model": "dgx-h100", "quantity": "two"}, "quantity"),
    ]:
        response = proc_api.post("/api/v1/placements/check/", body, format="json")
        assert response.status_code == 400, body
        assert field in response.data["errors"]


def _big_site(n_rows: int, racks_per_row: int) -> Rack:
    site = f.SiteFactory(utility_capacity_kw=10_000)
    room = f.RoomFactory(site=site)
    top = f.PowerSourceFactory(site=site, name="utility", kind="utility", capacity_kw=10_000)
    ups = f.PowerSourceFactory(site=site, name="ups", parent=top, capacity_kw=5000)
    f.CoolingLoopFactory(site=site, room=room, name="crah")
    cdu = f.CoolingLoopFactory(
        site=site, room=room, name="cdu", kind="direct_liquid", fluid="water", unit_capacity_kw=1000
    )
    first = None
    for _ in range(n_rows):
        row = f.RowFactory(room=room, containment="hot_aisle")
        for _ in range(racks_per_row):
            rack = f.RackFactory(row=row)
            for side in "AB":
                f.PduFactory(rack=rack, side=side, source=ups)
            f.NodeFactory(rack=rack)
            cdu.racks.add(rack)
            first = first or rack
    return first


def test_check_uses_a_fixed_number_of_queries(proc_api, django_assert_num_queries, django_assert_max_num_queries):
    """Cold (the site's budget totals are summed) and warm (cached under the site's budget token) alike."""
    counts = {}
    for size, rack in (("small", _big_site(1, 2)), ("large", _big_site(4, 10))):
        for state in ("cold", "warm"):
            with django_assert_max_num_queries(1000) as q:  # counted as the pin below counts
                response = proc_api.post(
                    "/api/v1/placements/check/", {"rack": rack.id, "model": "dgx-h100"}, format="json"
                )
            assert response.status_code == 200, response.data
            counts[size, state] = len(q)
    assert counts["small", "cold"] == counts["large", "cold"]
    assert counts["small", "warm"] == counts["large", "warm"]
    # The five queries of ``selectors._load_site_budgets`` and the token read again before caching the build,
    # once per site and budget token.
    assert counts["small", "cold"] - counts["small", "warm"] == 6
    with django_assert_num_queries(counts["large", "warm"]):
        proc_api.post("/api/v1/placements/check/", {"rack": rack.id, "model": "dgx-h100"}, format="json")


def test_node_create_that_breaks_a_rule_answers_409_and_writes_nothing(api, demo):
    before = Node.objects.count()
    # A1-06 has no rear door: four DGX H100 are 40.8 kW of air heat > 25 kW contained-row limit.
    rack = _rack("A1-06")
    ok = api.post("/api/v1/nodes/", {"rack": rack.id, "model": "dgx-h100"}, format="json")
    assert ok.status_code == 201, ok.data
    ok2 = api.post("/api/v1/nodes/", {"rack": rack.id, "model": "dgx-h100"}, format="json")
    assert ok2.status_code == 201, ok2.data
    refused = api.post("/api/v1/nodes/", {"rack": rack.id, "model": "dgx-h100"}, format="json")
    assert refused.status_code == 409
    failing = [c["code"] for c in refused.data["checks"] if c["status"] == "fail"]
    assert failing == ["COOLING_AIR_RACK"]
    assert isinstance(refused.data["checks"][0]["limit"], (int, float))
    assert Node.objects.count() == before + 2


def test_rack_headroom_contract(proc_api, demo):
    response = proc_api.get(f"/api/v1/racks/{_rack('A1-01').id}/headroom/")
    assert response.status_code == 200
    data = response.data
    for dim, keys in {
        "power": ("capacity_kw", "load_kw", "headroom_kw"),
        "cooling_air": ("capacity_kw", "load_kw", "headroom_kw"),
        "cooling_liquid": ("capacity_kw", "load_kw", "headroom_kw"),
        "space": ("free_u", "largest_free_block_u"),
        "rack_load": ("capacity_kg", "load_kg", "headroom_kg"),
        "floor": ("capacity_kg_m2", "load_kg_m2", "headroom_kg_m2"),
    }.items():
        assert set(keys) <= set(data[dim]), dim
    # Four DGX H100 at 10.2 kW (§1.1) = 40.8 kW of load; 8U each -> 32U used of 42.
    assert data["power"]["load_kw"] == pytest.approx(40.8, rel=1e-3)
    assert data["space"]["free_u"] == 10
    assert "binding" in data
    assert set(data["fits"]) >= {"dgx-h100", "dgx-b200", "gb200-nvl72"}
    assert data["fits"]["gb200-nvl72"] == 0  # rack-scale systems need an empty rack
    assert data["fits"]["dgx-h100"] == 1  # 10 free U hold one more 8U system


def test_site_headroom_nests_rooms_and_rows(proc_api, demo):
    response = proc_api.get(f"/api/v1/sites/{demo.id}/headroom/")
    assert response.status_code == 200
    data = response.data
    assert {"power", "cooling_air", "cooling_liquid", "space", "rack_load", "floor", "binding", "fits"} <= set(data)
    assert {r["name"] for r in data["rooms"]} == {"Legacy Hall", "AI Hall"}
    ai = next(r for r in data["rooms"] if r["name"] == "AI Hall")
    assert {row["name"] for row in ai["rows"]} == {"A1", "A2"}
    total = sum(n.model.max_power_kw for n in Node.objects.select_related("model"))
    assert data["power"]["load_kw"] == pytest.approx(total, rel=1e-6)


def test_retrofits_for_model_and_target(proc_api, demo):
    rack = _rack("A1-06")
    by_model = proc_api.get(f"/api/v1/racks/{rack.id}/retrofits/?model=dgx-b200&quantity=4")
    assert by_model.status_code == 200, by_model.data
    kinds = [o["kind"] for o in by_model.data["options"]]
    assert set(kinds) <= {
        "containment",
        "in_row",
        "rear_door_passive",
        "rear_door_active",
        "direct_liquid",
        "immersion",
        "replace_pdus",
        "add_pdus",
        "busway_tap_off",
        "upstream_capacity",
        "utility_upgrade",
        "combined",
    }
    first = by_model.data["options"][0]
    assert {
        "kind",
        "resolves",
        "capex_usd",
        "pue_after",
        "annual_energy_cost_delta",
        "annual_co2_kg_delta",
        "notes",
    } <= set(first)
    assert "COOLING_AIR_RACK" in first["resolves"]
    by_target = proc_api.get(f"/api/v1/racks/{rack.id}/retrofits/?target_kw=80")
    assert by_target.status_code == 200
    assert proc_api.get(f"/api/v1/racks/{rack.id}/retrofits/").status_code == 400
    assert proc_api.get(f"/api/v1/racks/{rack.id}/retrofits/?target_kw=nan").status_code == 400


def _check_each(api, plan, model):
    """Every planned unit passes the check endpoint on the state it would be placed into."""
    by_rack: dict[int, list[int]] = {}
    for p in plan["placements"]:
        by_rack.setdefault(p["rack"], []).append(p["u_position"])
    for rack_id, positions in by_rack.items():
        for u in sorted(positions):
            check = api.post(
                "/api/v1/placements/check/", {"rack": rack_id, "model": model, "u_position": u}, format="json"
            )
            assert check.data["ok"], [c for c in check.data["checks"] if c["status"] == "fail"]
            created = api.post("/api/v1/nodes/", {"rack": rack_id, "model": model, "u_position": u}, format="json")
            assert created.status_code == 201, created.data


@pytest.mark.parametrize(("model", "quantity"), [("dgx-b200", 16), ("gb200-nvl72", 4)])
def test_feasibility_on_demo_site(api, proc_api, demo, model, quantity):
    response = proc_api.post(
        "/api/v1/feasibility/", {"site": demo.id, "model": model, "quantity": quantity}, format="json"
    )
    assert response.status_code == 200, response.data
    plan = response.data
    assert plan["requested"] == quantity
    assert len(plan["placements"]) + plan["unplaced"] == quantity
    assert plan["fits_now"] == (plan["unplaced"] == 0)
    assert plan["energy"]["kw"] == pytest.approx(NodeModel.objects.get(slug=model).max_power_kw * quantity)
    if plan["unplaced"]:
        assert plan["binding"], "what binds for the rest must be named"
    assert len(plan["placements"]) > 0
    _check_each(api, plan, model)


def test_feasibility_commit_reserves_planned_nodes(api, proc_api, demo):
    before = Node.objects.count()
    refused = proc_api.post(
        "/api/v1/feasibility/", {"site": demo.id, "model": "dgx-b200", "quantity": 2, "commit": True}, format="json"
    )
    assert refused.status_code == 403
    assert Node.objects.count() == before
    response = api.post(
        "/api/v1/feasibility/", {"site": demo.id, "model": "dgx-b200", "quantity": 2, "commit": True}, format="json"
    )
    assert response.status_code == 200, response.data
    assert len(response.data["committed_node_ids"]) == 2
    assert Node.objects.filter(status="planned", model__slug="dgx-b200").count() == 2


def test_tco(proc_api, demo):
    response = proc_api.post(
        "/api/v1/tco/",
        {
            "site": demo.id,
            "model": "dgx-b200",
            "quantity": 4,
            "horizon_years": 3,
            "gpus_per_node": 8,
            "cloud_usd_per_gpu_hour": 3.0,
        },
        format="json",
    )
    assert response.status_code == 200, response.data
    assert response.data["cheapest"]
    bad = proc_api.post(
        "/api/v1/tco/", {"site": demo.id, "model": "dgx-b200", "quantity": 4, "utilization": 1.5}, format="json"
    )
    assert bad.status_code == 400


def test_seed_demo_is_idempotent(demo):
    from cooling.models import CoolingLoop
    from racks.models import Pdu, PowerSource

    def counts():
        return [m.objects.count() for m in (Site, Rack, Pdu, PowerSource, CoolingLoop, Node)]

    before = counts()
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    assert counts() == before


def test_site_headroom_reports_stranded_capacity(proc_api, demo):
    data = proc_api.get(f"/api/v1/sites/{demo.id}/headroom/").data
    assert set(data["stranded_kw"]) == {"power", "cooling"}
    legacy = next(r for r in data["rooms"] if r["name"] == "Legacy Hall")
    # Legacy racks: 8.646 kW of power per rack (208 V 3-phase 30 A at 0.8) against a 10 kW air limit,
    # so cooling is left over where power runs out: stranded cooling, no stranded power.
    assert legacy["stranded_kw"]["cooling"] > 0


def test_check_floor_rolling_from_the_room_rating(proc_api):
    # A raised room whose panels take 400 kg per caster (hand-set): a GB200 NVL72 (1,360 kg incl. its frame,
    # catalogue / reference §1.1 T [S9]) puts 1,360 x 0.5 = 680 kg on one caster while rolled in ([S38]).
    room = f.RoomFactory(floor_type="raised", tile_rated_load_kg=2000.0, tile_rolling_load_kg=400.0)
    rack = f.RackFactory(row=f.RowFactory(room=room))
    response = proc_api.post("/api/v1/placements/check/", {"rack": rack.id, "model": "gb200-nvl72"}, format="json")
    assert response.status_code == 200, response.data
    rolling = {c["code"]: c for c in response.data["checks"]}["FLOOR_ROLLING"]
    assert (rolling["status"], rolling["value"], rolling["limit"]) == ("fail", 680.0, 400.0)
    assert "[S38]" in rolling["message"]
