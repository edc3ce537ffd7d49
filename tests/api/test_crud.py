"""REST CRUD of the contract: field names, the whole chain, bad input, roles and constant-query lists."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cooling.models import CoolingLoop
from racks.models import Node, Pdu, PowerSource, Rack, Room, Row, Site
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_whole_chain_site_to_node(api):
    site = api.post(
        "/api/v1/sites/",
        {
            "name": "Ashburn 1",
            "slug": "ashburn-1",
            "country": "US",
            "utility_capacity_kw": 2000,
            "energy_price_per_kwh": 0.0895,
            "design_pue": 1.58,
        },
        format="json",
    )
    assert site.status_code == 201, site.data
    assert site.data["power_derating"] == 0.8  # contract default
    room = api.post(
        "/api/v1/rooms/",
        {"site": site.data["id"], "name": "Hall A", "floor_type": "slab", "floor_rated_load_kg_m2": 1224},
        format="json",
    )
    assert room.status_code == 201, room.data
    assert room.data["floor_load_method"] == "footprint"
    assert room.data["tile_rolling_load_kg"] is None  # not checked until entered
    row = api.post("/api/v1/rows/", {"room": room.data["id"], "name": "R1", "containment": "hot_aisle"}, format="json")
    assert row.status_code == 201, row.data
    assert row.data["aisle_width_mm"] == 1200
    rack = api.post(
        "/api/v1/racks/",
        {"row": row.data["id"], "name": "R1-01", "position": 1, "max_load_kg": 1400, "empty_weight_kg": 150},
        format="json",
    )
    assert rack.status_code == 201, rack.data
    assert (rack.data["u_height"], rack.data["width_mm"], rack.data["depth_mm"]) == (42, 600, 1200)
    ups = api.post(
        "/api/v1/power-sources/",
        {"site": site.data["id"], "name": "UPS-A", "kind": "ups", "capacity_kw": 500},
        format="json",
    )
    assert ups.status_code == 201, ups.data
    for side in "AB":
        pdu = api.post(
            "/api/v1/pdus/",
            {
                "rack": rack.data["id"],
                "name": f"PDU-{side}",
                "side": side,
                "phases": 3,
                "voltage_v": 415,
                "current_a": 63,
                "source": ups.data["id"],
            },
            format="json",
        )
        assert pdu.status_code == 201, pdu.data
        # 415 V x 63 A x sqrt(3) x 0.8 x 1.0 = 36.228 kW (reference §4.6)
        assert pdu.data["usable_kw"] == pytest.approx(36.228, rel=1e-3)
    loop = api.post(
        "/api/v1/cooling-loops/",
        {
            "site": site.data["id"],
            "room": room.data["id"],
            "name": "CRAH",
            "kind": "crah",
            "unit_capacity_kw": 100,
            "units": 4,
            "redundant_units": 1,
            "supply_temp_c": 22,
            "delta_t_c": 12,
            "fluid": "air",
        },
        format="json",
    )
    assert loop.status_code == 201, loop.data
    assert loop.data["usable_kw"] == 300.0
    assert loop.data["racks"] == []
    node = api.post(
        "/api/v1/nodes/", {"rack": rack.data["id"], "model": "dgx-a100", "status": "installed"}, format="json"
    )
    assert node.status_code == 201, node.data
    assert node.data["u_position"] == 1
    assert node.data["name"] == "dgx-a100-1"
    assert node.data["model_slug"] == "dgx-a100"
    listed = api.get(f"/api/v1/nodes/?rack={rack.data['id']}")
    assert listed.data["count"] == 1


CRUD_CASES = [
    ("sites", lambda: {"name": "S", "slug": "s"}, {"country": "DE"}),
    (
        "rooms",
        lambda: {"site": f.SiteFactory().id, "name": "Hall", "floor_rated_load_kg_m2": 1000},
        {"name": "Hall 2", "tile_rolling_load_kg": 450},
    ),
    ("rows", lambda: {"room": f.RoomFactory().id, "name": "Row"}, {"containment": "cold_aisle"}),
    (
        "racks",
        lambda: {"row": f.RowFactory().id, "name": "R", "max_load_kg": 1000, "empty_weight_kg": 120},
        {"u_height": 48},
    ),
    (
        "power-sources",
        lambda: {"site": f.SiteFactory().id, "name": "Utility", "kind": "utility", "capacity_kw": 5000},
        {"capacity_kw": 4000},
    ),
    (
        "pdus",
        lambda: {"rack": f.RackFactory().id, "name": "P", "side": "A", "phases": 1, "voltage_v": 230, "current_a": 32},
        {"power_factor": 0.95},
    ),
    (
        "cooling-loops",
        lambda: {
            "site": f.SiteFactory().id,
            "name": "CDU",
            "kind": "direct_liquid",
            "unit_capacity_kw": 600,
            "units": 3,
            "redundant_units": 1,
            "supply_temp_c": 30,
            "delta_t_c": 10,
            "fluid": "pg25",
        },
        {"max_flow_lpm": 2000, "unit_airflow_cfm": 12000},
    ),
    (
        "node-models",
        lambda: {
            "slug": "test-1u",
            "vendor": "Acme",
            "name": "Test 1U",
            "u_height": 1,
            "max_power_kw": 0.8,
            "typical_power_kw": 0.5,
            "weight_kg": 15,
        },
        {"weight_kg": 16},
    ),
]


@pytest.mark.parametrize(("resource", "payload", "patch"), CRUD_CASES, ids=[c[0] for c in CRUD_CASES])
def test_crud_each_resource(api, resource, payload, patch):
    body = payload()
    created = api.post(f"/api/v1/{resource}/", body, format="json")
    assert created.status_code == 201, created.data
    for key, value in body.items():
        assert created.data[key] == value, key
    url = f"/api/v1/{resource}/{created.data['id']}/"
    assert api.get(url).status_code == 200
    patched = api.patch(url, patch, format="json")
    assert patched.status_code == 200, patched.data
    for key, value in patch.items():
        assert patched.data[key] == value
    listed = api.get(f"/api/v1/{resource}/?limit=1")
    assert set(listed.data) == {"count", "next", "previous", "results"}
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_node_crud_and_move(api):
    rack = f.RackFactory()
    for side in "AB":
        f.PduFactory(rack=rack, side=side)
    f.CoolingLoopFactory(site=rack.row.room.site, room=rack.row.room)
    created = api.post("/api/v1/nodes/", {"rack": rack.id, "model": "cpu-2u", "u_position": 5}, format="json")
    assert created.status_code == 201, created.data
    url = f"/api/v1/nodes/{created.data['id']}/"
    moved = api.patch(url, {"u_position": 10, "name": "db-1", "status": "installed"}, format="json")
    assert moved.status_code == 200, moved.data
    assert (moved.data["u_position"], moved.data["name"], moved.data["status"]) == (10, "db-1", "installed")
    assert api.delete(url).status_code == 204
    assert not Node.objects.exists()


def _counts():
    return tuple(m.objects.count() for m in (Site, Room, Row, Rack, PowerSource, Pdu, CoolingLoop, Node))


@pytest.fixture
def parent_rack():
    rack = f.RackFactory()
    f.PduFactory(rack=rack, name="PDU-A", side="A")
    return rack


BAD_INPUT = [
    (
        "power-sources",
        lambda r: {"site": r.row.room.site_id, "name": "X", "kind": "ups", "capacity_kw": -5},
        "capacity_kw",
    ),
    (
        "pdus",
        lambda r: {
            "rack": r.id,
            "name": "P2",
            "side": "A",
            "phases": 3,
            "voltage_v": 415,
            "current_a": 32,
            "power_factor": 1.5,
        },
        "power_factor",
    ),
    (
        "pdus",
        lambda r: {"rack": r.id, "name": "P3", "side": "C", "phases": 3, "voltage_v": 415, "current_a": 32},
        "side",
    ),
    (
        "pdus",
        lambda r: {"rack": r.id, "name": "P4", "side": "A", "phases": 2, "voltage_v": 415, "current_a": 32},
        "phases",
    ),
    ("racks", lambda r: {"name": "No parent", "max_load_kg": 1000, "empty_weight_kg": 100}, "row"),
    ("racks", lambda r: {"row": 999999, "name": "Ghost parent", "max_load_kg": 1000, "empty_weight_kg": 100}, "row"),
    ("nodes", lambda r: {"rack": r.id, "model": "cpu-2u", "u_position": 0}, "u_position"),
    ("nodes", lambda r: {"rack": r.id, "model": "no-such-model"}, "model"),
    (
        "rooms",
        lambda r: {"site": r.row.room.site_id, "name": "H", "floor_rated_load_kg_m2": "heavy"},
        "floor_rated_load_kg_m2",
    ),
    (
        "rooms",
        lambda r: {"site": r.row.room.site_id, "name": "H", "floor_rated_load_kg_m2": "NaN"},
        "floor_rated_load_kg_m2",
    ),
    (
        "rooms",
        lambda r: {"site": r.row.room.site_id, "name": "H", "floor_rated_load_kg_m2": 1e300},
        "floor_rated_load_kg_m2",
    ),
    (
        "rooms",
        lambda r: {"site": r.row.room.site_id, "name": "H", "floor_rated_load_kg_m2": 1224, "tile_rolling_load_kg": 0},
        "tile_rolling_load_kg",
    ),
    (
        "racks",
        lambda r: {"row": r.row_id, "name": r.name, "position": 99, "max_load_kg": 1, "empty_weight_kg": 1},
        "name",  # a duplicate name: the name field's error
    ),
    (
        "pdus",
        lambda r: {"rack": r.id, "name": "PDU-A", "side": "B", "phases": 1, "voltage_v": 230, "current_a": 16},
        "name",
    ),
    (
        "cooling-loops",
        lambda r: {
            "site": r.row.room.site_id,
            "name": "L",
            "kind": "crah",
            "unit_capacity_kw": 10,
            "units": 2,
            "unit_airflow_cfm": -5,
        },
        "unit_airflow_cfm",
    ),
    (
        "cooling-loops",
        lambda r: {
            "site": r.row.room.site_id,
            "name": "L",
            "kind": "crah",
            "unit_capacity_kw": 10,
            "units": 2,
            "redundant_units": 2,
            "supply_temp_c": 20,
            "fluid": "air",
        },
        "redundant_units",
    ),
    (
        "cooling-loops",
        lambda r: {
            "site": r.row.room.site_id,
            "name": "L",
            "kind": "direct_liquid",
            "unit_capacity_kw": 10,
            "units": 2,
            "supply_temp_c": 20,
            "fluid": "air",
        },
        "fluid",
    ),
    ("sites", lambda r: {"name": "Bad\x00name", "slug": "bad"}, "name"),
    ("sites", lambda r: {"name": "PDR", "slug": "pdr", "power_derating": 0}, "power_derating"),
    ("racks", lambda r: {"row": r.row_id, "name": "R-neg", "max_load_kg": -1, "empty_weight_kg": 1}, "max_load_kg"),
    (
        "node-models",
        lambda r: {
            "slug": "x",
            "vendor": "v",
            "name": "n",
            "u_height": 1,
            "max_power_kw": 1,
            "typical_power_kw": 1,
            "weight_kg": 1,
            "liquid_fraction": 1.2,
        },
        "liquid_fraction",
    ),
    (
        "node-models",
        lambda r: {
            "slug": "x",
            "vendor": "v",
            "name": "n",
            "u_height": True,
            "max_power_kw": 1,
            "typical_power_kw": 1,
            "weight_kg": 1,
        },
        "u_height",
    ),
]


@pytest.mark.parametrize(
    ("resource", "payload", "field"), BAD_INPUT, ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(BAD_INPUT)]
)
def test_bad_input_answers_400_and_writes_nothing(api, parent_rack, resource, payload, field):
    before = _counts()
    response = api.post(f"/api/v1/{resource}/", payload(parent_rack), format="json")
    assert response.status_code == 400, response.data
    assert field in response.data["errors"], response.data
    assert all(str(msg) for msg in response.data["errors"][field])
    assert _counts() == before


def test_pdu_source_from_another_site_is_refused(api, parent_rack):
    foreign = f.PowerSourceFactory()
    response = api.post(
        "/api/v1/pdus/",
        {
            "rack": parent_rack.id,
            "name": "PX",
            "side": "B",
            "phases": 3,
            "voltage_v": 415,
            "current_a": 32,
            "source": foreign.id,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "source" in response.data["errors"]


def test_power_chain_cannot_loop(api):
    site = f.SiteFactory()
    top = f.PowerSourceFactory(site=site, name="top")
    mid = f.PowerSourceFactory(site=site, name="mid", parent=top)
    response = api.patch(f"/api/v1/power-sources/{top.id}/", {"parent": mid.id}, format="json")
    assert response.status_code == 400
    assert "loop" in str(response.data["errors"]["parent"])


def test_deleting_a_rack_with_nodes_needs_confirmation(api):
    node = f.NodeFactory()
    url = f"/api/v1/racks/{node.rack_id}/"
    refused = api.delete(url)
    assert refused.status_code == 409
    assert refused.data["node_count"] == 1
    assert Node.objects.count() == 1
    assert api.delete(url + "?confirm=true").status_code == 204
    assert Node.objects.count() == 0


def test_deleting_a_site_with_a_power_chain_works(api):
    rack = f.RackFactory()
    site = rack.row.room.site
    top = f.PowerSourceFactory(site=site, name="top")
    child = f.PowerSourceFactory(site=site, name="child", parent=top)
    f.PduFactory(rack=rack, source=child)
    assert api.delete(f"/api/v1/sites/{site.id}/").status_code == 204
    assert not PowerSource.objects.exists()


WRITES = [
    ("post", "/api/v1/sites/", {"name": "P", "slug": "p"}),
    ("post", "/api/v1/rooms/", {}),
    ("post", "/api/v1/rows/", {}),
    ("post", "/api/v1/racks/", {}),
    ("post", "/api/v1/power-sources/", {}),
    ("post", "/api/v1/pdus/", {}),
    ("post", "/api/v1/cooling-loops/", {}),
    ("post", "/api/v1/node-models/", {}),
    ("post", "/api/v1/nodes/", {}),
]


@pytest.mark.parametrize(("method", "url", "body"), WRITES, ids=[w[1] for w in WRITES])
def test_procurement_reads_but_never_writes(proc_api, method, url, body):
    assert proc_api.get(url).status_code == 200
    assert getattr(proc_api, method)(url, body, format="json").status_code == 403


def test_procurement_cannot_change_or_delete(proc_api):
    rack = f.RackFactory()
    url = f"/api/v1/racks/{rack.id}/"
    assert proc_api.get(url).status_code == 200
    assert proc_api.patch(url, {"name": "x"}, format="json").status_code == 403
    assert proc_api.put(url, {"name": "x"}, format="json").status_code == 403
    assert proc_api.delete(url).status_code == 403
    assert Rack.objects.get(pk=rack.pk).name == rack.name


@pytest.mark.parametrize("url", ["/api/v1/sites/", "/api/v1/racks/", "/api/v1/nodes/", "/api/v1/node-models/"])
def test_anonymous_gets_nothing(anon_api, url):
    assert anon_api.get(url).status_code in (401, 403)
    assert anon_api.post(url, {}, format="json").status_code in (401, 403)


def test_user_without_role_gets_nothing(db):
    from django.contrib.auth.models import User
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(User.objects.create_user("nobody", password="x-pass-123"))
    assert client.get("/api/v1/sites/").status_code == 403


def test_catalogue_is_shipped(api):
    data = api.get("/api/v1/node-models/?limit=100").data
    slugs = {m["slug"] for m in data["results"]}
    assert {
        "dgx-a100",
        "dgx-h100",
        "dgx-h200",
        "dgx-b200",
        "dgx-b300",
        "gb200-nvl72",
        "gb300-nvl72",
        "hgx-h100-8gpu",
        "cpu-2u",
    } <= slugs
    assert all(m["source"] for m in data["results"])


def _populate(n: int) -> None:
    site = f.SiteFactory()
    room = f.RoomFactory(site=site)
    row = f.RowFactory(room=room)
    ups = f.PowerSourceFactory(site=site)
    for _ in range(n):
        rack = f.RackFactory(row=row)
        f.PduFactory(rack=rack, source=ups)
        f.NodeFactory(rack=rack)
        loop = f.CoolingLoopFactory(site=site, room=room, kind="rear_door", fluid="water")
        loop.racks.add(rack)


LIST_URLS = ["sites", "rooms", "rows", "racks", "power-sources", "pdus", "cooling-loops", "node-models", "nodes"]


@pytest.mark.parametrize("resource", LIST_URLS)
def test_list_queries_do_not_grow_with_rows(api, resource):
    _populate(2)
    api.get(f"/api/v1/{resource}/")  # warm the token and role caches of this client
    with CaptureQueriesContext(connection) as small:
        assert api.get(f"/api/v1/{resource}/").status_code == 200
    _populate(12)
    with CaptureQueriesContext(connection) as large:
        assert api.get(f"/api/v1/{resource}/").status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


@pytest.mark.parametrize(
    ("resource", "expected"),
    # token with its user + role groups + count + page (+ one prefetch of the loops' racks)
    [("sites", 4), ("racks", 4), ("pdus", 4), ("nodes", 4), ("cooling-loops", 5)],
)
def test_list_query_count_is_pinned(api, django_assert_num_queries, resource, expected):
    _populate(5)
    with django_assert_num_queries(expected):
        api.get(f"/api/v1/{resource}/")


def test_audit_history_records_who_changed_what(api, proc_api, facilities_user):
    created = api.post("/api/v1/sites/", {"name": "Hist", "slug": "hist", "design_pue": 1.5}, format="json")
    url = f"/api/v1/sites/{created.data['id']}/"
    api.patch(url, {"design_pue": 1.3, "country": "NL"}, format="json")
    history = proc_api.get(url + "history/")
    assert history.status_code == 200
    newest, oldest = history.data["results"]
    assert (newest["type"], newest["user"]) == ("changed", facilities_user.username)
    assert {c["field"]: (c["old"], c["new"]) for c in newest["changes"]} == {
        "design_pue": (1.5, 1.3),
        "country": ("", "NL"),
    }
    assert oldest["type"] == "created"


def test_a_power_source_in_use_cannot_be_deleted_alone(api):
    rack = f.RackFactory()
    pdu = f.PduFactory(rack=rack, source=f.PowerSourceFactory(site=rack.row.room.site))
    response = api.delete(f"/api/v1/power-sources/{pdu.source_id}/")
    assert response.status_code == 409
    assert PowerSource.objects.filter(pk=pdu.source_id).exists()


def test_names_and_slugs_are_unique_regardless_of_case(api):
    site = api.post("/api/v1/sites/", {"name": "Hall Campus", "slug": "hall-campus"}, format="json")
    assert site.status_code == 201
    for body, field in [
        ({"name": "HALL CAMPUS", "slug": "other"}, "name"),
        ({"name": "Other", "slug": "Hall-Campus"}, "slug"),
    ]:
        refused = api.post("/api/v1/sites/", body, format="json")
        assert refused.status_code == 400, refused.content
        assert "regardless of case" in refused.json()["errors"][field][0]
    room = {"site": site.data["id"], "name": "Hall A", "floor_type": "slab", "floor_rated_load_kg_m2": 1224}
    assert api.post("/api/v1/rooms/", room, format="json").status_code == 201
    again = api.post("/api/v1/rooms/", {**room, "name": "hall a"}, format="json")
    assert again.status_code == 400 and "name" in again.json()["errors"]
    other_site = api.post("/api/v1/sites/", {"name": "Other", "slug": "other"}, format="json").data["id"]
    assert api.post("/api/v1/rooms/", {**room, "site": other_site, "name": "hall a"}, format="json").status_code == 201
    renamed = api.patch(f"/api/v1/sites/{site.data['id']}/", {"name": "hall campus"}, format="json")
    assert renamed.status_code == 200  # its own name in another case is no clash
    assert Site.objects.count() == 2


def test_cooling_loop_names_are_unique_regardless_of_case_within_their_site(api):
    site = f.SiteFactory()
    loop = {
        "site": site.pk,
        "name": "CDU-1",
        "kind": "direct_liquid",
        "unit_capacity_kw": 100,
        "units": 2,
        "redundant_units": 1,
        "supply_temp_c": 30,
        "delta_t_c": 10,
        "fluid": "water",
    }
    assert api.post("/api/v1/cooling-loops/", loop, format="json").status_code == 201
    again = api.post("/api/v1/cooling-loops/", {**loop, "name": "cdu-1"}, format="json")
    assert again.status_code == 400 and "regardless of case" in again.json()["errors"]["name"][0], again.content
    # The same name in another site is another loop.
    other = api.post("/api/v1/cooling-loops/", {**loop, "site": f.SiteFactory().pk, "name": "cdu-1"}, format="json")
    assert other.status_code == 201, other.content
