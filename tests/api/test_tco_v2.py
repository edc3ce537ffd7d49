"""POST /api/v1/tco/ v2: the new fields, unknown costs null with their reason, and bad input 400 with nothing written.

Order: 2 x DGX B200 (14.3 kW, 8 GPUs each, reference §1.1) = 28.6 kW, 16 GPUs; the site prices energy at $0.10.
"""

import pytest

from racks.models import Node, Site
from tests import factories as f

pytestmark = pytest.mark.django_db


def _post(api, site, **extra):
    return api.post("/api/v1/tco/", {"site": site.id, "model": "dgx-b200", "quantity": 2, **extra}, format="json")


def test_hardware_unknown_is_null_with_its_reason(proc_api):
    site = f.SiteFactory(design_pue=1.5, energy_price_per_kwh=0.1)
    body = _post(proc_api, site, horizon_years=1).json()
    onprem = next(o for o in body["options"] if o["option"] == "on_prem")
    assert onprem["total_usd"] is None and onprem["npv_usd"] is None
    assert "hardware price unknown" in onprem["total_reason"]
    # the known component stays a number: 28.6 kW x 8760 h = 250,536 kWh x 1.5 x $0.10 = $37,580.40
    assert onprem["energy_usd"] == pytest.approx(37_580.4)
    assert any("hardware price unknown" in n for n in body["notes"])
    assert body["tornado"] == [] and body["tornado_reason"]
    assert body["gpu_count"] == 16 and body["gpu_family"] == "B200"  # GPUs from the catalogue
    # B200: no sourced reserved or on-demand price (§17.2): null, never 0
    tiers = {o["option"]: o for o in body["options"] if o["option"] in ("neocloud_reserved", "hyperscaler_on_demand")}
    assert set(tiers) == {"neocloud_reserved", "hyperscaler_on_demand"}
    assert all(t["total_usd"] is None and "no sourced B200" in t["total_reason"] for t in tiers.values())


def test_full_answer_with_hardware(proc_api):
    site = f.SiteFactory(design_pue=1.5, energy_price_per_kwh=0.1)
    body = _post(
        proc_api,
        site,
        horizon_years=1,
        hardware_capex_usd=100_000,
        idle_fraction=0.0,
        cloud_usd_per_gpu_hour=2.0,
        discount_rate=0.0,
        retrofit_capex_usd=0,  # the bare site fits nothing: its retrofit cost would be unknown
    ).json()
    by = {o["option"]: o for o in body["options"]}
    # on-prem 100,000 + 37,580.40 = 137,580.40; cloud 16 x 8760 x $2 = 280,320
    assert by["on_prem"]["total_usd"] == pytest.approx(137_580.4)
    assert by["cloud"]["total_usd"] == pytest.approx(280_320.0)
    # colocation, power on top: rent 28.6 x 12 x 184.06 = 63,169.392 + power 28.6 x 8760 x 1.54 x 0.1 = 38,582.544
    assert by["colocation"]["total_usd"] == pytest.approx(100_000 + 63_169.392 + 38_582.544, abs=0.02)
    be = next(b for b in body["break_even"] if b["alternative"] == "cloud")
    # 100,000 / (280,320 - 37,580.4) = 0.41196: on-prem beats cloud above 41.2 %
    assert be["on_prem_cheaper"] == "above" and be["utilization"] == pytest.approx(0.41196, abs=1e-4)
    assert body["tornado_reference"] == "cloud"
    assert {b["variable"] for b in body["tornado"]} == {"energy_price", "utilization", "pue", "gpu_hour_price", "capex"}
    assert len(body["unamortized"]) == 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"utilization": 1.5}, "utilization"),
        ({"idle_fraction": -0.1}, "idle_fraction"),
        ({"idle_fraction": "lots"}, "idle_fraction"),
        ({"discount_rate": 1.0}, "discount_rate"),
        ({"hardware_capex_usd": -5}, "hardware_capex_usd"),
        ({"hardware_life_years": 0}, "hardware_life_years"),
        ({"neocloud_reserved_usd_per_gpu_hour": "NaN"}, "neocloud_reserved_usd_per_gpu_hour"),
        ({"colo_includes_power": "yes"}, "colo_includes_power"),
        ({"horizon_years": 0}, "horizon_years"),
    ],
)
def test_bad_numbers_400_nothing_written(proc_api, extra, field):
    site = f.SiteFactory(energy_price_per_kwh=0.1)
    before = (Site.objects.count(), Node.objects.count())
    response = _post(proc_api, site, **extra)
    assert response.status_code == 400, response.content
    assert field in str(response.json()), response.json()
    assert (Site.objects.count(), Node.objects.count()) == before


def test_site_without_energy_price_400(proc_api):
    site = f.SiteFactory(energy_price_per_kwh=None)
    response = _post(proc_api, site)
    assert response.status_code == 400 and "energy_price_per_kwh" in str(response.json())
