"""KPIs on the feasibility answer (issue 17), on the demo site (Virginia $0.0895/kWh, PUE 1.58, no carbon)."""

import io

import pytest
from django.core.management import call_command

from racks.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    return Site.objects.get(slug="demo-campus")


def test_feasibility_kpis_worked_example(proc_api, demo):
    response = proc_api.post(
        "/api/v1/feasibility/",
        {
            "site": demo.id,
            "model": "dgx-b200",
            "quantity": 2,
            "hardware_usd_per_system": 400000,
            "hardware_lead_time_days": 90,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["fits_now"]
    k = body["kpis"]
    # v5.1 B200 x8 Llama 2 70B Server 99,123 tok/s per system (§12.2) x 2 = 198,246 tok/s
    assert k["tokens_per_s"] == pytest.approx(198246.0)
    # facility kW = 14.3 x 2 x 1.58 = 45.188; 198,246 / 45.188 = 4,387.13 tok/s per kW
    assert k["tokens_per_s_per_kw"] == pytest.approx(198246 / 45.188, rel=1e-6)
    # energy 45.188 x 0.0895 = $4.044326/h; capex 800,000 / 43,800 h = $18.264840/h; sum $22.309166/h
    # tokens/h 198,246 x 3,600 = 713.6856 M; $22.309166 / 713.6856 = $0.0312592 per M tokens
    assert k["usd_per_million_tokens"] == pytest.approx((45.188 * 0.0895 + 800000 / 43800) / 713.6856, rel=1e-5)
    assert k["g_co2_per_million_tokens"] is None and "carbon" in k["null_reasons"]["g_co2_per_million_tokens"]
    assert k["days_to_deploy"] == 90.0  # fits now: no retrofit; the hardware's 90 days


def test_feasibility_kpis_null_with_reasons_by_default(proc_api, demo):
    body = proc_api.post(
        "/api/v1/feasibility/", {"site": demo.id, "model": "cpu-2u", "quantity": 1}, format="json"
    ).json()
    k = body["kpis"]
    assert k["tokens_per_s"] is None and "no throughput basis" in k["null_reasons"]["tokens_per_s"]
    assert k["usd_per_million_tokens"] is None
    assert "unsourced" in k["null_reasons"]["days_to_deploy"]
    bad = proc_api.post(
        "/api/v1/feasibility/",
        {"site": demo.id, "model": "dgx-b200", "quantity": 1, "reference_workload": "gpt-9"},
        format="json",
    )
    assert bad.status_code == 400 and "reference_workload" in bad.json()["errors"]


def test_reservation_shows_the_kpis_of_what_it_holds(api, demo):
    body = api.post(
        "/api/v1/feasibility/", {"site": demo.id, "model": "dgx-b200", "quantity": 2, "commit": True}, format="json"
    ).json()
    assert body["kpis"]["tokens_per_s"] == pytest.approx(198246.0)  # the commit answer carries them too
    rid = body["reservation"]["id"]
    got = api.get(f"/api/v1/reservations/{rid}/").json()
    # 2 held x 99,123 tok/s (v5.1 B200 Llama 2 70B Server); facility kW 14.3 x 2 x 1.58 = 45.188
    assert got["kpis"]["tokens_per_s"] == pytest.approx(198246.0)
    assert got["kpis"]["tokens_per_s_per_kw"] == pytest.approx(198246 / 45.188, rel=1e-6)
    assert "kpis" not in api.get(f"/api/v1/reservations/?site={demo.id}").json()["results"][0]
