"""Worked examples of every KPI (planner/engine/kpis.py): each figure recomputed by hand in the test."""

import pytest

from planner.engine.kpis import CLOUD, COLOCATION, SITE, KpiInput, compute_kpis

REL = 1e-6

# MLPerf Inference v5.1 closed, NVIDIA, B200-SXM-180GBx8 Llama 2 70B Server: 99,123 tok/s (reference §12.2, P* [S121]).
B200_SERVER = 99123.0


def site_input(**over):
    base = dict(
        kind=SITE,
        systems=4,
        it_kw_per_system=14.3,  # DGX B200 max power, §1.1
        tokens_per_s_per_system=B200_SERVER,
        throughput_source="MLPerf v5.1",
        gpus_per_system=8,
        pue=1.2,
        pue_basis="site design PUE",
        energy_price_per_kwh=0.10,
        carbon_kg_per_kwh=0.381,  # Germany, Ember 2023, §14
        hardware_usd_per_system=500_000.0,
        retrofit_capex_usd=100_000.0,
        retrofit_lead_time_weeks=52.0,
        hardware_lead_time_days=120.0,
        amortization_years=5.0,
    )
    base.update(over)
    return KpiInput(**base)


def test_site_kpis_worked_example():
    k = compute_kpis(site_input())
    # tokens/s: 99,123 x 4 = 396,492
    assert k.tokens_per_s == pytest.approx(396492.0, rel=REL)
    # facility kW: 14.3 x 4 x 1.2 = 68.64; 396,492 / 68.64 = 5,776.399...
    assert k.tokens_per_s_per_kw == pytest.approx(396492 / 68.64, rel=1e-6)
    assert k.tokens_per_s_per_kw == pytest.approx(5776.399, abs=1e-3)
    # cost per hour: energy 68.64 kW x $0.10 = $6.864/h; capex (2,000,000 + 100,000) / (5 x 8,760) = $47.9452/h
    # total $54.8092/h; tokens per hour 396,492 x 3,600 = 1,427,371,200; $/M = 54.8092 / 1,427.3712 = $0.0383991
    per_h = 6.864 + 2_100_000 / 43_800
    assert k.usd_per_million_tokens == pytest.approx(per_h / 1427.3712, rel=1e-5)
    assert k.usd_per_million_tokens == pytest.approx(0.038399, abs=1e-6)
    assert k.energy_usd_per_million_tokens == pytest.approx(6.864 / 1427.3712, rel=1e-5)  # $0.004809
    # carbon: 68.64 kW x 0.381 kg x 1,000 = 26,151.84 g/h; / 1,427.3712 = 18.3218 g per M tokens
    assert k.g_co2_per_million_tokens == pytest.approx(26151.84 / 1427.3712, rel=1e-5)
    assert k.g_co2_per_million_tokens == pytest.approx(18.322, abs=1e-3)
    # days: max(52 weeks x 7 = 364, 120) = 364
    assert k.days_to_deploy == 364.0
    assert k.null_reasons == {}
    assert "396492" in k.arithmetic["tokens_per_s"]


def test_cloud_matches_reference_planner_note():
    # §17.2 planner note: $6.03/GPU-h / (12,390 tok/s/GPU x 3,600) x 10^6 = $0.135 per M tokens. One GPU's share:
    k = compute_kpis(
        KpiInput(
            kind=CLOUD,
            systems=1,
            it_kw_per_system=14.3,
            tokens_per_s_per_system=12390.0 * 8,
            gpus_per_system=8,
            cloud_usd_per_gpu_hour=6.03,
            carbon_kg_per_kwh=None,
        )
    )
    assert k.usd_per_million_tokens == pytest.approx(6.03 / (12390 * 3600) * 1e6, rel=1e-5)
    assert k.usd_per_million_tokens == pytest.approx(0.135, abs=5e-4)
    assert k.tokens_per_s_per_kw is None and "PUE" in k.null_reasons["tokens_per_s_per_kw"]
    assert "carbon" in k.null_reasons["g_co2_per_million_tokens"]


def test_colocation_rent_all_in():
    # CBRE $184.06/kW-month (§7.3): 57.2 kW x 184.06 x 12 / 8,760 = $14.4224/h; hardware 2,000,000 / 43,800 = $45.6621/h
    k = compute_kpis(
        site_input(
            kind=COLOCATION, colo_usd_per_kw_month=184.06, colo_includes_power=True, pue=1.54, retrofit_capex_usd=None
        )
    )
    per_h = 57.2 * 184.06 * 12 / 8760 + 2_000_000 / 43_800
    assert k.usd_per_million_tokens == pytest.approx(per_h / 1427.3712, rel=1e-5)
    assert k.energy_usd_per_million_tokens is None  # power included in the rent
    assert k.days_to_deploy == 120.0  # no retrofit at a colocation: the hardware's 120 days


def test_utilization_spreads_fixed_costs_over_fewer_hours():
    full = compute_kpis(site_input(energy_price_per_kwh=0.0))
    half = compute_kpis(site_input(energy_price_per_kwh=0.0, utilization=0.5))
    assert half.usd_per_million_tokens == pytest.approx(2 * full.usd_per_million_tokens, rel=1e-5)


@pytest.mark.parametrize(
    "over, key, reason",
    [
        ({"tokens_per_s_per_system": None}, "tokens_per_s", "throughput"),
        ({"energy_price_per_kwh": None}, "usd_per_million_tokens", "energy price"),
        ({"hardware_usd_per_system": None}, "usd_per_million_tokens", "hardware price"),
        ({"retrofit_capex_usd": None}, "usd_per_million_tokens", "retrofit cost"),
        ({"carbon_kg_per_kwh": None}, "g_co2_per_million_tokens", "carbon"),
        ({"hardware_lead_time_days": None}, "days_to_deploy", "unsourced"),
        ({"retrofit_lead_time_weeks": None}, "days_to_deploy", "retrofit lead time"),
        ({"pue": None}, "tokens_per_s_per_kw", "PUE"),
    ],
)
def test_unknown_input_gives_null_with_reason(over, key, reason):
    k = compute_kpis(site_input(**over))
    assert getattr(k, key) is None
    assert reason in k.null_reasons[key]
    clean = compute_kpis(site_input())
    assert getattr(clean, key) is not None


def test_unknown_because_names_the_callers_reason():
    k = compute_kpis(
        site_input(retrofit_capex_usd=None, unknown_because={"retrofit_capex_usd": "no retrofit resolves POWER_SITE"})
    )
    assert k.null_reasons["usd_per_million_tokens"] == "no retrofit resolves POWER_SITE"


def test_bad_input_refused():
    with pytest.raises(ValueError):
        site_input(utilization=0)
    with pytest.raises(ValueError):
        site_input(kind="moon")
    with pytest.raises(ValueError):
        site_input(pue=0.9)
