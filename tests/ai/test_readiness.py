"""Readiness 0-100 (issue 17) on the demo site: every deduction explained by its evidence and recomputed here
from the site's own answers (rack headroom, the N-1 sweep, the site row)."""

import io

import pytest
from django.core.management import call_command

from planner.engine.readiness import ReadinessInput, readiness
from racks.models import Rack, Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    return Site.objects.get(slug="demo-campus")


def test_demo_readiness_every_deduction_explained(proc_api, demo):
    body = proc_api.get(f"/api/v1/sites/{demo.pk}/readiness/").json()
    comps = {c["name"]: c for c in body["components"]}
    heads = [proc_api.get(f"/api/v1/racks/{r.pk}/headroom/").json() for r in Rack.objects.filter(row__room__site=demo)]
    racks = len(heads)
    # power density: racks with >= 56 kW capacity (4 x DGX B300, §16 P [S106])
    dense = sum(1 for h in heads if h["power"]["capacity_kw"] >= 56)
    assert comps["power_density"]["score"] == pytest.approx(dense / racks, abs=1e-4)
    assert f"{dense} of {racks} racks" in comps["power_density"]["evidence"]
    # liquid: racks a liquid loop serves
    liquid = sum(1 for h in heads if h["cooling_liquid"]["capacity_kw"] > 0)
    assert comps["liquid_cooling"]["score"] == pytest.approx(liquid / racks, abs=1e-4)
    # the liquid retrofit recommendation: (racks - liquid) x 56 kW x $2,000/kW (§7.3 S [S54])
    rec = next(r for r in body["recommendations"] if r["component"] == "liquid_cooling")
    assert rec["capex_usd"] == (racks - liquid) * 56 * 2000
    # redundancy: the demo's N-1 sweep has single points of failure; each deducts a quarter
    spofs = len(proc_api.get(f"/api/v1/sites/{demo.pk}/resilience/").json()["single_points_of_failure"])
    assert spofs > 0
    assert comps["redundancy"]["score"] == max(0.0, 1 - 0.25 * spofs)
    assert f"{spofs} single point(s) of failure" in comps["redundancy"]["evidence"]
    # fabric: the demo has GPU systems with compute-fabric ports (§11.1) and no fabric: 0 of them served, 0 points,
    # a critical gap; telemetry: not modelled, left out of the total
    gpu_racks = Rack.objects.filter(row__room__site=demo, nodes__model__compute_ports__gt=0).distinct().count()
    assert gpu_racks > 0
    assert comps["fabric"]["modelled"] and comps["fabric"]["score"] == 0
    assert f"0 of {gpu_racks} racks with compute-fabric systems" in comps["fabric"]["evidence"]
    assert any(g.startswith("fabric") for g in body["critical_gaps"])
    assert not comps["telemetry"]["modelled"]
    # grid: utility 3,000 kW; headroom share / 20 %, capped at 1
    assert "utility 3,000 kW" in comps["grid_headroom"]["evidence"]
    # compliance: nothing recorded on the demo site
    assert comps["compliance"]["score"] == 0 and "missing jurisdiction" in comps["compliance"]["evidence"]
    # total: points over the 95 modelled weights (100 - telemetry 5)
    points = sum(c["points"] for c in body["components"] if c["modelled"])
    assert body["weight_modelled"] == 95
    assert body["score"] == pytest.approx(round(points / 95 * 100, 1), abs=0.05)
    assert 0 <= body["score"] <= 100
    assert any(g.startswith("liquid_cooling") for g in body["critical_gaps"])

    # recording the compliance attributes raises the score by exactly that component's points
    Site.objects.filter(pk=demo.pk).update(
        jurisdiction="US",
        data_processing_country="US",
        dora_register_entry="RoI-1",
        carbon_source="EPA eGRID",
        carbon_year=2023,
        ai_rmf_govern_url="https://e.example/g",
        ai_rmf_map_url="https://e.example/m",
    )
    from django.db.models import Q

    from planner.budget_tokens import touch_sites

    touch_sites(Q(pk=demo.pk))  # a queryset update sends no signal: renew the site's token as a save would
    after = proc_api.get(f"/api/v1/sites/{demo.pk}/readiness/").json()
    compliance = next(c for c in after["components"] if c["name"] == "compliance")
    assert compliance["score"] == pytest.approx(7 / 9, abs=1e-4)
    assert after["score"] == pytest.approx(body["score"] + 7 / 9 * 10 / 95 * 100, abs=0.1)


def test_readiness_pure_clean_and_failing():
    clean = readiness(
        ReadinessInput(
            rack_power_kw=(60.0, 80.0),
            rack_liquid_kw=(100.0, 100.0),
            rack_floor_headroom_kg_m2=(10.0, 0.0),
            spof_count=0,
            elements_swept=10,
            utility_capacity_kw=1000.0,
            site_load_kw=500.0,
            attributes={
                a: "x"
                for a in (
                    "jurisdiction",
                    "data_processing_country",
                    "dora_register_entry",
                    "carbon_source",
                    "carbon_year",
                    "ai_rmf_govern_url",
                    "ai_rmf_map_url",
                    "ai_rmf_measure_url",
                    "ai_rmf_manage_url",
                )
            },
        )
    )
    assert clean["score"] == 100.0 and clean["critical_gaps"] == []
    bad = readiness(
        ReadinessInput(
            rack_power_kw=(10.0, 80.0),
            rack_liquid_kw=(0.0, 0.0),
            rack_floor_headroom_kg_m2=(-1.0, -1.0),
            spof_count=2,
            elements_swept=10,
            utility_capacity_kw=1000.0,
            site_load_kw=950.0,
        )
    )
    comps = {c["name"]: c for c in bad["components"]}
    # power 1/2 x 20 = 10; liquid 0; floor 0; redundancy (1 - 0.5) x 15 = 7.5; grid 5 % / 20 % x 10 = 2.5; compliance 0
    assert [
        comps[n]["points"] for n in ("power_density", "liquid_cooling", "floor", "redundancy", "grid_headroom")
    ] == [10.0, 0.0, 0.0, 7.5, 2.5]
    assert bad["score"] == pytest.approx(20 / 85 * 100, abs=0.05)


def test_readiness_fabric_component():
    """3 of 4 GPU racks in a fabric with 10 leaf ports left: 0.75 x 10 = 7.5 points; with no port left the share
    halves (0.375 -> 3.75 points, a critical gap); no fabric and no GPU system: not modelled (out of the total)."""
    base = {
        "rack_power_kw": (60.0,),
        "rack_liquid_kw": (100.0,),
        "rack_floor_headroom_kg_m2": (1.0,),
        "spof_count": 0,
        "elements_swept": 1,
        "utility_capacity_kw": 1000.0,
        "site_load_kw": 0.0,
    }

    def fabric(**kw):
        out = readiness(ReadinessInput(**base, **kw))
        return next(c for c in out["components"] if c["name"] == "fabric"), out

    comp, out = fabric(fabric_modelled=True, fabric_racks_needing=4, fabric_racks_served=3, fabric_headroom_ports=10)
    assert comp["points"] == 7.5 and "3 of 4 racks" in comp["evidence"]
    assert not any(g.startswith("fabric") for g in out["critical_gaps"])
    comp, out = fabric(fabric_modelled=True, fabric_racks_needing=4, fabric_racks_served=3, fabric_headroom_ports=0)
    assert comp["points"] == 3.75 and "half marks" in comp["evidence"]
    assert any(g.startswith("fabric") for g in out["critical_gaps"])
    comp, out = fabric()
    assert not comp["modelled"] and comp["points"] is None and out["weight_modelled"] == 85
