"""POST what-if/ and GET sites/{id}/resilience/: error shapes, DB-built sites, the demo's SPOFs, query counts.

Sites here: racks of 2 x DGX H100 (2 x 10.2 = 20.4 kW, 2 x 8 = 16 GPUs), one 415 V 3-phase 63 A PDU per side
(415 x 63 x sqrt(3) x 0.8 / 1000 = 36.23 kW >= 20.4 kW), hot-aisle row (25 kW air per rack >= 20.4 kW), and
two N+1 CRAH groups of 100 kW x (3 - 1) = 200 kW each (6 racks: 122.4 kW air <= 200 kW with one group lost).
"""

import io

import pytest
from django.core.management import call_command

from racks.models import NodeModel, Pdu, Rack, Site
from tests import factories as f

pytestmark = pytest.mark.django_db


def build_site(n_racks: int, *, shared_ups: bool):
    site = f.SiteFactory()
    room = f.RoomFactory(site=site)
    row = f.RowFactory(room=room, containment="hot_aisle")
    utility = f.PowerSourceFactory(site=site, name="Utility", kind="utility", capacity_kw=10_000)
    ups_a = f.PowerSourceFactory(site=site, name="UPS-A", parent=utility, capacity_kw=1000)
    ups_b = ups_a if shared_ups else f.PowerSourceFactory(site=site, name="UPS-B", parent=utility, capacity_kw=1000)
    for i in (1, 2):
        f.CoolingLoopFactory(site=site, room=room, name=f"CRAH-{i}", unit_capacity_kw=100, units=3, redundant_units=1)
    h100 = NodeModel.objects.get(slug="dgx-h100")
    racks = []
    for _ in range(n_racks):
        rack = f.RackFactory(row=row)
        f.PduFactory(rack=rack, side="A", name="PDU-A", source=ups_a)
        f.PduFactory(rack=rack, side="B", name="PDU-B", source=ups_b)
        for u in (1, 9):
            f.NodeFactory(rack=rack, model=h100, u_position=u)
        racks.append(rack)
    return site, ups_a, racks


def what_if(client, body):
    return client.post("/api/v1/what-if/", body, format="json")


def test_catalogue_gpu_counts(proc_api):
    # Migration racks 0008 (sources cited there); the DGX A100 has no sourced count: unknown.
    gpus = dict(NodeModel.objects.values_list("slug", "gpus"))
    assert gpus == {
        "dgx-a100": None,
        "dgx-h100": 8,
        "dgx-h200": 8,
        "dgx-b200": 8,
        "dgx-b300": 8,
        "gb200-nvl72": 72,
        "gb300-nvl72": 72,
        "hgx-h100-8gpu": 8,
        "cpu-2u": 0,
    }
    body = proc_api.get("/api/v1/node-models/?slug=gb200-nvl72").json()
    assert body["results"][0]["gpus"] == 72


def test_shared_ups_is_a_single_point_of_failure(proc_api):
    site, ups, racks = build_site(2, shared_ups=True)
    response = what_if(proc_api, {"site": site.id, "fail": [{"kind": "power_source", "id": ups.id}]})
    assert response.status_code == 200, response.data
    body = response.json()
    assert [r["rack"] for r in body["racks"]] == sorted(r.id for r in racks)
    for r in body["racks"]:
        assert r["status"] == "fail" and r["was"] == "warn"  # POWER_REDUNDANCY warns now: A and B share UPS-A
        power = next(c for c in r["checks"] if c["code"] == "POWER_RACK")
        assert power["status"] == "fail" and "loses power" in power["message"]
        assert all(c["status"] != "ok" for c in r["checks"])
    # 2 racks x 20.4 kW = 40.8 kW; 2 racks x 2 systems x 8 GPUs = 32 GPUs.
    assert body["summary"] == {
        "racks_failing": 2,
        "racks_warning": 0,
        "it_kw_affected": pytest.approx(40.8),
        "gpus_affected": 32,
        "nodes_without_gpu_count": 0,
    }

    res = proc_api.get(f"/api/v1/sites/{site.id}/resilience/")
    assert res.status_code == 200, res.data
    data = res.json()
    spofs = data["single_points_of_failure"]
    assert [(e["kind"], e["id"]) for e in spofs] == [("power_source", ups.id)]
    assert data["elements"][0] == spofs[0]  # worst first
    assert {r["rack"] for r in spofs[0]["racks"]} == {r.id for r in racks}
    assert spofs[0]["summary"]["it_kw_affected"] == pytest.approx(40.8)
    assert all(e["kind"] != "power_source" or e["name"] != "Utility" for e in data["elements"])


def test_2n_site_has_no_single_point_of_failure(proc_api):
    site, ups_a, racks = build_site(2, shared_ups=False)
    body = what_if(proc_api, {"site": site.id, "fail": [{"kind": "power_source", "id": ups_a.id}]}).json()
    # Both racks run on side B: 20.4 kW <= 36.23 kW; they warn (one side left, PSU feed loss), none fails.
    assert body["summary"]["racks_failing"] == 0 and body["summary"]["racks_warning"] == 2
    data = proc_api.get(f"/api/v1/sites/{site.id}/resilience/").json()
    assert data["single_points_of_failure"] == []
    # 2 UPS + 4 PDUs + 4 sides + 2 CRAH loops + one unit of each = 14 elements.
    assert len(data["elements"]) == 14
    side = what_if(proc_api, {"site": site.id, "fail": [{"kind": "side", "id": racks[0].id, "side": "A"}]}).json()
    assert [r["rack"] for r in side["racks"]] == [racks[0].id] and side["summary"]["racks_failing"] == 0


def test_bad_requests_answer_400_with_the_field(proc_api):
    site, _, racks = build_site(1, shared_ups=True)
    _other, other_ups, other_racks = build_site(1, shared_ups=True)
    own_pdu = Pdu.objects.filter(rack=racks[0]).first()
    foreign_pdu = Pdu.objects.filter(rack=other_racks[0]).first()
    cases = [
        ({"site": 999999, "fail": [{"kind": "pdu", "id": 1}]}, "site", None),
        ({"site": site.id, "fail": [{"kind": "meteor", "id": 1}]}, "fail.0.kind", None),
        ({"site": site.id, "fail": []}, "fail.non_field_errors", None),
        ({"site": site.id, "fail": [{"kind": "pdu", "id": own_pdu.id}] * 101}, "fail.non_field_errors", None),
        ({"site": site.id, "fail": [{"kind": "pdu", "id": "one"}]}, "fail.0.id", None),
        ({"site": site.id}, "fail", None),
        ({"site": site.id, "fail": [{"kind": "side", "id": racks[0].id}]}, "fail.0.side", None),
        ({"site": site.id, "fail": [{"kind": "pdu", "id": 5, "side": "A"}]}, "fail.0.side", None),
        ({"site": site.id, "fail": [{"kind": "pdu", "id": foreign_pdu.id}]}, "fail.0.id", f"PDU {foreign_pdu.id}"),
        (
            {
                "site": site.id,
                "fail": [{"kind": "pdu", "id": own_pdu.id}, {"kind": "power_source", "id": other_ups.id}],
            },
            "fail.1.id",
            f"power source {other_ups.id}",
        ),
        ({"site": site.id, "fail": [{"kind": "side", "id": other_racks[0].id, "side": "A"}]}, "fail.0.id", "rack"),
        ({"site": site.id, "fail": [{"kind": "cooling_loop", "id": 999999}]}, "fail.0.id", "cooling loop 999999"),
    ]
    for body, field, text in cases:
        response = what_if(proc_api, body)
        assert response.status_code == 400, (body, response.data)
        errors = response.json()["errors"]
        assert field in errors, (body, errors)
        if text:
            assert text in errors[field][0]
    assert proc_api.get("/api/v1/sites/999999/resilience/").status_code == 404
    assert proc_api.get(f"/api/v1/sites/{site.id}/resilience/?bogus=1").status_code == 400


def test_query_counts_do_not_grow_with_the_site(proc_api, django_assert_num_queries, django_assert_max_num_queries):
    counts = {}
    for n in (2, 6):
        site, ups, _ = build_site(n, shared_ups=True)
        with django_assert_max_num_queries(100) as q:
            assert (
                what_if(proc_api, {"site": site.id, "fail": [{"kind": "power_source", "id": ups.id}]}).status_code
                == 200
            )
        counts["what-if", n] = len(q)
        with django_assert_max_num_queries(100) as q:
            assert proc_api.get(f"/api/v1/sites/{site.id}/resilience/").status_code == 200
        counts["resilience", n] = len(q)
    assert counts["what-if", 2] == counts["what-if", 6]
    assert counts["resilience", 2] == counts["resilience", 6]
    # Token and role (2), the ten queries of selectors.site_snapshot; what-if also reads the site to validate it.
    # Resilience (first request of the site): the site's budget token before and after the sweep it caches.
    assert counts["resilience", 6] == 2 + 1 + 10 + 1
    assert counts["what-if", 6] == 2 + 1 + 10
    with django_assert_num_queries(counts["what-if", 6]):
        what_if(proc_api, {"site": site.id, "fail": [{"kind": "power_source", "id": ups.id}]})
    # Again: the sweep from this process's cache under the unchanged token (token and role, the token).
    with django_assert_num_queries(2 + 1):
        proc_api.get(f"/api/v1/sites/{site.id}/resilience/")


def test_demo_site_single_points_of_failure(proc_api):
    """The demo (seed_demo) is 2N on power: UPS-A / UPS-B, each side's panel and busway independent, every
    rack with PDUs on both sides each carrying the whole rack (A1: 2 x 36.23 = 72.46 kW per side >= 40.8 kW;
    A2: 4 x 36.23 = 144.9 kW >= 132 kW; legacy 8.65 kW >= 7.5 kW), UPS-B alone carries the site's 347 kW <=
    1,400 kW: no power element is a SPOF. Every cooling loop has N+1 units (a unit loss leaves its usable kW)
    or, for RDHx A1 (4 x 55 kW, no spare), 3 x 55 = 165 kW >= the 124.5 kW its three loaded racks offer. But each
    loop is alone in its role, so losing a whole loop is a SPOF: Legacy CRAH (the legacy hall has no other air
    cooling), AI CRAH (likewise for the AI hall), RDHx A1 (A1-01/02 put 40.8 kW, A1-03 42.9 kW of air on a
    25 kW hot-aisle row limit) and CDU A2 (A2-01's GB200 liquid heat has no other loop)."""
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    site = Site.objects.get(slug="demo-campus")
    data = proc_api.get(f"/api/v1/sites/{site.id}/resilience/").json()
    spofs = {(e["kind"], e["name"]) for e in data["single_points_of_failure"]}
    assert spofs == {
        ("cooling_loop", "Legacy CRAH"),
        ("cooling_loop", "AI CRAH"),
        ("cooling_loop", "RDHx A1"),
        ("cooling_loop", "CDU A2"),
    }
    rdhx = next(e for e in data["single_points_of_failure"] if e["name"] == "RDHx A1")
    assert {r["rack_name"] for r in rdhx["racks"]} == {"A1-01", "A1-02", "A1-03"}
    cdu = next(e for e in data["single_points_of_failure"] if e["name"] == "CDU A2")
    assert [r["rack_name"] for r in cdu["racks"]] == ["A2-01"]
    # 132 kW, 72 GPUs (GB200 NVL72).
    assert cdu["summary"]["it_kw_affected"] == pytest.approx(132.0) and cdu["summary"]["gpus_affected"] == 72
    assert not any(e["kind"] in ("power_source", "pdu", "side") and e["spof"] for e in data["elements"])
    assert Rack.objects.filter(row__room__site=site).exists()


def test_demo_sweep_agrees_with_what_if_for_every_element():
    """On the demo's selector-built contexts, the sweep's shortcut (room-only racks: the room's verdict) gives
    each element the summary a full what-if of it gives, and what-if of nothing touches no rack."""
    from planner import selectors
    from planner.engine.failure import n1_sweep
    from planner.engine.failure import what_if as engine_what_if

    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    index = selectors.site_failure_index(Site.objects.get(slug="demo-campus").id)
    assert engine_what_if(index, []).racks == ()
    entries = n1_sweep(index)
    assert len(entries) > 100
    for e in entries:
        assert e.summary == engine_what_if(index, [e.element.failure]).summary, e.element
