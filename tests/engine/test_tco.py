"""TCO comparison (planner/engine/tco.py): worked examples for every formula, the arithmetic in the comments.

Sources (reference §7): colocation $184.06/kW/month, CBRE NA H2 2024 (P [S56]); air fleet PUE 1.54 (Uptime
2025, S [S26]); GPU-hour prices §17.2 (H100 neocloud reserved $1.75-2.25 -> 2.00, hyperscaler on-demand $3.90,
T [S148]; H200 on-demand $7.912, S [S147b]). Idle power, the hardware price, the discount rate and the caller's
cloud price have no source: tests pass them explicitly. 8760 h/year.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.engine.costs import (
    HYPERSCALER_ON_DEMAND,
    NEOCLOUD_RESERVED,
    RetrofitConfig,
    draw_fraction_of_max,
    facility_energy_kwh,
)
from planner.engine.tco import CLOUD, COLOCATION, ON_PREM, TcoInput, annuity_factor, compare_tco


def order(**extra) -> TcoInput:
    """8 nodes x 8 GPUs = 64 GPUs, 100 kW, 5 years at 80 %, $0.10/kWh, $200k retrofit, $1M hardware, idle 0,
    cloud $2/GPU-h."""
    base = dict(
        it_kw=100.0,
        node_count=8,
        gpu_count=64,
        horizon_years=5,
        utilization=0.8,
        energy_price_per_kwh=0.10,
        retrofit_capex_usd=200_000.0,
        hardware_capex_usd=1_000_000.0,
        idle_fraction=0.0,
        cloud_usd_per_gpu_hour=2.0,
    )
    base.update(extra)
    return TcoInput(**base)


def small(**extra) -> TcoInput:
    """One 10 kW system with 8 GPUs, 1 year at full use, PUE 1.5, $0.10/kWh, $100k hardware, cloud $2/GPU-h."""
    base = dict(
        it_kw=10.0,
        node_count=1,
        gpu_count=8,
        horizon_years=1,
        utilization=1.0,
        energy_price_per_kwh=0.10,
        pue_onprem=1.5,
        retrofit_capex_usd=0.0,
        hardware_capex_usd=100_000.0,
        idle_fraction=0.0,
        cloud_usd_per_gpu_hour=2.0,
    )
    base.update(extra)
    return TcoInput(**base)


def test_worked_example():
    result = compare_tco(order(carbon_kg_per_kwh=0.4))
    on_prem, colo, cloud = (result.option(n) for n in (ON_PREM, COLOCATION, CLOUD))
    # on-prem energy: 100 kW x 0.8 x 8760 h x 5 y x PUE 1.54 = 5,396,160 kWh; x $0.10 = $539,616
    assert on_prem.energy_kwh == pytest.approx(5_396_160.0)
    assert on_prem.energy_usd == pytest.approx(539_616.0)
    # + retrofit $200,000 + hardware $1,000,000 = $1,739,616
    assert on_prem.total_usd == pytest.approx(1_739_616.0)
    # CO2: 5,396,160 kWh x 0.4 kg/kWh = 2,158,464 kg
    assert on_prem.co2_kg == pytest.approx(2_158_464.0)
    # colocation, power billed on top by default: rent 100 kW x 12 x 5 x $184.06 = $1,104,360
    # + metered power 100 x 0.8 x 8760 x 5 x 1.54 x 0.10 = $539,616 + hardware $1,000,000 = $2,643,976
    assert colo.rent_usd == pytest.approx(1_104_360.0) and colo.energy_usd == pytest.approx(539_616.0)
    assert colo.total_usd == pytest.approx(2_643_976.0)
    # cloud: 64 GPU x 8760 h x 5 y x 0.8 x $2.00 = $4,485,120
    assert cloud.total_usd == pytest.approx(4_485_120.0)
    assert cloud.co2_kg is None
    assert result.cheapest == ON_PREM
    assert any("S56" in a for a in result.assumptions)
    # discount rate 0 (default): NPV = total
    assert on_prem.npv_usd == pytest.approx(on_prem.total_usd)


def test_colo_power_on_top_by_default_and_its_source():
    assert "S56" in RetrofitConfig.source_of("colo_power_billed_separately")
    assert "unsourced" in RetrofitConfig.source_of("colo_power_billed_separately")
    all_in = RetrofitConfig.from_overrides({"colo_power_billed_separately": False})
    # all-in: rent 1,104,360 + hardware 1,000,000 = 2,104,360
    assert compare_tco(order(), all_in).option(COLOCATION).total_usd == pytest.approx(2_104_360.0)
    assert compare_tco(order(), all_in).option(COLOCATION).energy_usd == 0.0
    with pytest.raises(ValueError, match="true or false"):
        RetrofitConfig.from_overrides({"colo_power_billed_separately": 1})


@pytest.mark.parametrize(
    ("extra", "colo_total"),
    [
        # power on top at PUE 1.54: 1,104,360 + 539,616 + 1,000,000 = 2,643,976
        ({}, 2_643_976.0),
        # all-in: rent + hardware = 2,104,360
        ({"colo_includes_power": True}, 2_104_360.0),
        # colo PUE 1.3: 100 x 0.8 x 8760 x 5 x 1.3 x 0.10 = 455,520 -> 1,104,360 + 455,520 + 1,000,000 = 2,559,880
        ({"pue_colo": 1.3}, 2_559_880.0),
        # own rent $150/kW/month: 100 x 12 x 5 x 150 = 900,000 + 539,616 + 1,000,000 = 2,439,616
        ({"colo_usd_per_kw_month": 150.0}, 2_439_616.0),
    ],
)
def test_colocation_variants(extra, colo_total):
    assert compare_tco(order(**extra)).option(COLOCATION).total_usd == pytest.approx(colo_total)


def test_idle_floor():
    # draw = idle + (1 - idle) x u = 0.3 + 0.7 x 0.5 = 0.65 of max
    assert draw_fraction_of_max(0.5, 0.3) == pytest.approx(0.65)
    # 100 kW x 0.65 x 8760 h x 1.54 = 876,876 kWh a year
    assert facility_energy_kwh(100.0, 8760.0, 1.54, 0.5, 0.3) == pytest.approx(876_876.0)
    result = compare_tco(order(utilization=0.5, idle_fraction=0.3))
    on_prem = result.option(ON_PREM)
    # 5 years: 4,384,380 kWh, $438,438; + 200,000 + 1,000,000 = 1,638,438
    assert on_prem.energy_kwh == pytest.approx(4_384_380.0)
    assert on_prem.total_usd == pytest.approx(1_638_438.0)
    assert on_prem.total_usd_low is None and on_prem.range_reason == ""  # idle known: one figure
    # idle 0: proportional, 100 x 0.5 x 8760 x 5 x 1.54 = 3,372,600 kWh; idle 1: max power all year 6,745,200
    assert compare_tco(order(utilization=0.5, idle_fraction=0.0)).option(ON_PREM).energy_kwh == pytest.approx(3_372_600)
    assert compare_tco(order(utilization=0.5, idle_fraction=1.0)).option(ON_PREM).energy_kwh == pytest.approx(6_745_200)
    assert "unsourced" in RetrofitConfig.source_of("tco_idle_fraction_of_max")


def test_unknown_idle_is_a_range_with_its_reason():
    result = compare_tco(order(utilization=0.5, idle_fraction=None))
    on_prem = result.option(ON_PREM)
    # low (idle 0): 200,000 + 1,000,000 + 337,260 = 1,537,260; high (max all year): + 674,520 = 1,874,520
    assert on_prem.total_usd == pytest.approx(1_537_260.0)
    assert on_prem.total_usd_low == pytest.approx(1_537_260.0)
    assert on_prem.total_usd_high == pytest.approx(1_874_520.0)
    assert on_prem.energy_kwh_high == pytest.approx(6_745_200.0)
    assert "idle power unknown" in on_prem.range_reason
    assert result.idle_fraction is None
    # at full utilisation idle does not matter: no range
    assert compare_tco(order(utilization=1.0, idle_fraction=None)).option(ON_PREM).total_usd_low is None
    # the configured idle is used when the input gives none
    cfg = RetrofitConfig.from_overrides({"tco_idle_fraction_of_max": 0.3})
    assert compare_tco(order(utilization=0.5, idle_fraction=None), cfg).option(ON_PREM).energy_kwh == pytest.approx(
        4_384_380.0
    )


def test_npv_and_depreciation_worked():
    inp = small(horizon_years=3, discount_rate=0.08, hardware_capex_usd=300_000.0)
    # annuity(8 %, 3) = 1/1.08 + 1/1.08^2 + 1/1.08^3 = 0.925926 + 0.857339 + 0.793832 = 2.577097
    assert annuity_factor(0.08, 3) == pytest.approx(2.577097, rel=1e-6)
    result = compare_tco(inp)
    on_prem, cloud = result.option(ON_PREM), result.option(CLOUD)
    # energy a year 10 kW x 8760 h x 1.5 x $0.10 = $13,140; NPV = 300,000 + 13,140 x 2.577097 = 333,863.05
    assert on_prem.annual_opex_usd == pytest.approx(13_140.0)
    assert on_prem.npv_usd == pytest.approx(333_863.05, abs=0.01)
    assert on_prem.total_usd == pytest.approx(339_420.0)  # 300,000 + 3 x 13,140
    # cloud 8 x 8760 x $2 = 140,160 a year; NPV 140,160 x 2.577097 = 361,205.9
    assert cloud.npv_usd == pytest.approx(361_205.9, abs=0.1)
    # payback vs cloud: 300,000 / (140,160 - 13,140) = 2.3618 years, within the 3 years
    pb = next(p for p in result.payback if p.alternative == CLOUD)
    assert pb.payback_years == pytest.approx(2.3618, abs=1e-4) and pb.within_horizon
    # hardware life 5 years over a 3-year horizon: book value 300,000 x (1 - 3/5) = 120,000 credited
    dep = compare_tco(small(horizon_years=3, discount_rate=0.08, hardware_capex_usd=300_000.0, hardware_life_years=5))
    d = dep.option(ON_PREM)
    assert d.hardware_residual_usd == pytest.approx(120_000.0)
    assert d.total_usd == pytest.approx(219_420.0)  # 300,000 - 120,000 + 39,420
    # NPV 333,863.05 - 120,000 / 1.08^3 (1.259712) = 333,863.05 - 95,259.87 = 238,603.18
    assert d.npv_usd == pytest.approx(238_603.18, abs=0.01)


def test_payback_never_and_immediate():
    # cloud at $0.10/GPU-h: 8 x 8760 x 0.10 = 7,008 a year < on-prem's 13,140: never pays back
    never = next(p for p in compare_tco(small(cloud_usd_per_gpu_hour=0.1)).payback if p.alternative == CLOUD)
    assert never.payback_years is None and never.within_horizon is False and "never" in never.reason
    # no capex on-prem: pays back at once
    now = next(p for p in compare_tco(small(hardware_capex_usd=0.0)).payback if p.alternative == CLOUD)
    assert now.payback_years == 0.0


def test_break_even_utilisation_worked():
    result = compare_tco(small(neocloud_reserved_usd_per_gpu_hour=1.5))
    by = {b.alternative: b for b in result.break_even}
    # on-prem(u) = 100,000 + 13,140 u; cloud(u) = 8 x 8760 x 2 x u = 140,160 u
    # equal at u = 100,000 / (140,160 - 13,140) = 100,000 / 127,020 = 0.78728: on-prem beats cloud above 78.7 %
    assert by[CLOUD].utilization == pytest.approx(0.78728, abs=1e-5)
    assert by[CLOUD].on_prem_cheaper == "above"
    # reserved: every hour paid, 8 x 8760 x 1.5 = 105,120 whatever u: 100,000 + 13,140 u <= 105,120
    # -> u <= 5,120 / 13,140 = 0.38965: on-prem is cheaper below
    assert by[NEOCLOUD_RESERVED].utilization == pytest.approx(0.38965, abs=1e-5)
    assert by[NEOCLOUD_RESERVED].on_prem_cheaper == "below"
    # idle floor 0.5: on-prem(u) = 100,000 + 13,140 x (0.5 + 0.5 u) = 106,570 + 6,570 u
    # u* = 106,570 / (140,160 - 6,570) = 106,570 / 133,590 = 0.79774
    idle = {b.alternative: b for b in compare_tco(small(idle_fraction=0.5)).break_even}
    assert idle[CLOUD].utilization == pytest.approx(0.79774, abs=1e-5)
    # colocation: rent 10 x 12 x 184.06 = 22,087.2 + power 13,140 x (1.54 / 1.5) u = 13,490.4 u + hardware 100,000
    # on-prem - colo = 13,140 u - 22,087.2 - 13,490.4 u < 0 at every u: always cheaper
    assert by[COLOCATION].on_prem_cheaper == "always" and by[COLOCATION].utilization is None
    # cloud at $20/GPU-h: 100,000 / (1,401,600 - 13,140) = 0.072023
    cheap = {b.alternative: b for b in compare_tco(small(cloud_usd_per_gpu_hour=20.0)).break_even}
    assert cheap[CLOUD].utilization == pytest.approx(0.072023, abs=1e-6)
    # cloud at $0.10: never
    dear = {b.alternative: b for b in compare_tco(small(cloud_usd_per_gpu_hour=0.1)).break_even}
    assert dear[CLOUD].on_prem_cheaper == "never"


def test_gpu_hour_tiers_sourced_defaults():
    result = compare_tco(order(gpu_family="H100"))
    reserved, on_demand = result.option(NEOCLOUD_RESERVED), result.option(HYPERSCALER_ON_DEMAND)
    # reserved: every hour paid, 64 x 8760 x 5 x $2.00 = 5,606,400
    assert reserved.total_usd == pytest.approx(5_606_400.0)
    assert reserved.usd_per_gpu_hour == 2.00 and "S148" in reserved.price_basis and "2026" in reserved.price_basis
    # on-demand per used hour: 64 x 8760 x 5 x 0.8 x $3.90 = 8,745,984
    assert on_demand.total_usd == pytest.approx(8_745_984.0)
    assert "S148" in on_demand.price_basis
    h200 = compare_tco(order(gpu_family="H200"))
    assert h200.option(HYPERSCALER_ON_DEMAND).usd_per_gpu_hour == pytest.approx(7.912)
    assert "S147b" in h200.option(HYPERSCALER_ON_DEMAND).price_basis
    # no sourced H200 reserved price: null with its reason, never 0
    assert h200.option(NEOCLOUD_RESERVED).total_usd is None
    assert "no sourced H200" in h200.option(NEOCLOUD_RESERVED).total_reason
    # the caller's price wins; then the configured one
    mine = compare_tco(order(gpu_family="B200", neocloud_reserved_usd_per_gpu_hour=3.0))
    assert mine.option(NEOCLOUD_RESERVED).total_usd == pytest.approx(64 * 8760 * 5 * 3.0)
    cfg = RetrofitConfig.from_overrides({"hyperscaler_on_demand_usd_per_gpu_hour": 5.0})
    assert compare_tco(order(gpu_family="B200"), cfg).option(HYPERSCALER_ON_DEMAND).usd_per_gpu_hour == 5.0
    # no GPUs: no tiers; the caller's cloud price on no (known) GPUs is unknown, never 0
    assert compare_tco(order(gpu_count=0, cloud_usd_per_gpu_hour=None)).option(NEOCLOUD_RESERVED) is None
    no_gpus = compare_tco(order(gpu_count=0)).option(CLOUD)
    assert no_gpus.total_usd is None and "gpus_per_node" in no_gpus.total_reason


def test_tornado_worked():
    # small(): on-prem 100,000 + 13,140 = 113,140; cloud 140,160; base = -27,020 (on-prem cheaper)
    result = compare_tco(small())
    assert result.tornado_reference == CLOUD
    assert result.tornado_base_usd == pytest.approx(-27_020.0)
    bars = {b.variable: b for b in result.tornado}
    # GPU-hour price x0.8 / x1.2: cloud 112,128 / 168,192 -> +1,012 / -55,052, swing 56,064
    assert bars["gpu_hour_price"].low_usd == pytest.approx(1_012.0)
    assert bars["gpu_hour_price"].swing_usd == pytest.approx(56_064.0)
    # capex 80,000 / 120,000 -> -47,020 / -7,020, swing 40,000
    assert (bars["capex"].low_usd, bars["capex"].high_usd) == (pytest.approx(-47_020.0), pytest.approx(-7_020.0))
    # utilisation 0.8 / 1.0 (clipped): 110,512 - 112,128 = -1,616 / -27,020, swing 25,404
    assert bars["utilization"].low_usd == pytest.approx(-1_616.0) and bars["utilization"].high_input == 1.0
    # energy price 0.08 / 0.12: energy 10,512 / 15,768 -> swing 5,256; PUE 1.2 / 1.8 the same
    assert bars["energy_price"].swing_usd == pytest.approx(5_256.0)
    assert bars["pue"].swing_usd == pytest.approx(5_256.0)
    assert [b.variable for b in result.tornado] == ["gpu_hour_price", "capex", "utilization", "energy_price", "pue"]


def test_hardware_unknown_totals_null_components_numbers():
    result = compare_tco(order(hardware_capex_usd=None))
    for name in (ON_PREM, COLOCATION):
        o = result.option(name)
        assert o.total_usd is None and o.npv_usd is None and "hardware price unknown" in o.total_reason
        assert o.hardware_capex_usd is None
    assert result.option(ON_PREM).energy_usd == pytest.approx(539_616.0)  # known component stays a number
    assert result.option(COLOCATION).rent_usd == pytest.approx(1_104_360.0)
    assert result.option(CLOUD).total_usd == pytest.approx(4_485_120.0)
    assert result.cheapest == CLOUD
    assert result.tornado == () and "unknown" in result.tornado_reason
    assert all(p.payback_years is None for p in result.payback)
    assert all(b.on_prem_cheaper is None for b in result.break_even)
    assert any("hardware price unknown" in n for n in result.notes)
    assert all(u.on_prem_at_risk_usd is None and u.hardware_book_value_usd is None for u in result.unamortized)


def test_cloud_omitted_without_price():
    result = compare_tco(order(cloud_usd_per_gpu_hour=None))
    assert [o.option for o in result.options] == [ON_PREM, COLOCATION, NEOCLOUD_RESERVED, HYPERSCALER_ON_DEMAND]
    assert any("cloud omitted" in n for n in result.notes)
    assert all(cell.cloud_usd is None for cell in result.sensitivity)


def test_unknown_retrofit_capex_leaves_on_prem_out():
    result = compare_tco(order(retrofit_capex_usd=None))
    assert result.option(ON_PREM).total_usd is None
    assert result.cheapest == COLOCATION  # 2,643,976 < 4,485,120
    assert all(u.unrecovered_usd is None for u in result.unamortized)
    assert any("retrofit capex unknown" in n for n in result.notes)


def test_sensitivity_table_values():
    result = compare_tco(order())
    assert len(result.sensitivity) == 9  # 3 energy steps x 3 utilization steps
    steps = [(c.energy_price_step, c.utilization_step) for c in result.sensitivity]
    assert steps[0] == (-0.2, -0.2) and steps[4] == (0.0, 0.0) and steps[-1] == (0.2, 0.2)
    corner = result.sensitivity[-1]
    # price 0.12, utilization 0.96: 100 x 0.96 x 8760 x 5 x 1.54 x 0.12 = 777,047.04 + 1,200,000 = 1,977,047.04
    assert corner.energy_price_per_kwh == pytest.approx(0.12)
    assert corner.utilization == pytest.approx(0.96)
    assert corner.on_prem_usd == pytest.approx(1_977_047.04)
    # cloud: 64 x 8760 x 5 x 0.96 x 2 = 5,382,144; colo: rent 1,104,360 + power 777,047.04 + 1,000,000
    assert corner.cloud_usd == pytest.approx(5_382_144.0)
    assert corner.colocation_usd == pytest.approx(2_881_407.04)
    base = result.sensitivity[4]
    assert base.on_prem_usd == pytest.approx(result.option(ON_PREM).total_usd)


@pytest.mark.parametrize(
    ("steps", "cells"),
    [((0.0,), 1), ((-0.1, 0.0, 0.1), 9), ((-0.3, -0.15, 0.0, 0.15, 0.3), 25)],
)
def test_sensitivity_steps_configurable(steps, cells):
    cfg = RetrofitConfig.from_overrides({"tco_sensitivity_steps": list(steps)})
    result = compare_tco(order(), cfg)
    assert len(result.sensitivity) == cells
    assert {c.energy_price_step for c in result.sensitivity} == set(steps)


def test_unamortized_risk_leases_and_hardware():
    cfg = RetrofitConfig.from_overrides({"neocloud_reserved_term_years": 3})
    result = compare_tco(order(gpu_family="H100"), cfg)
    # retrofit $200,000 over 5 years: $40,000 recovered per year
    assert [u.unrecovered_usd for u in result.unamortized] == [
        pytest.approx(v) for v in (160_000.0, 120_000.0, 80_000.0, 40_000.0, 0.0)
    ]
    assert result.unamortized[0].recovered_usd == pytest.approx(40_000.0)
    year1, year4 = result.unamortized[0], result.unamortized[3]
    # hardware $1M over 5 years: book value after 1 year 800,000; on-prem at risk 160,000 + 800,000
    assert year1.hardware_book_value_usd == pytest.approx(800_000.0)
    assert year1.on_prem_at_risk_usd == pytest.approx(960_000.0)
    # colo lease = horizon: 4 years left x 100 x 12 x 184.06 (220,872) = 883,488; + book value 800,000
    assert year1.colo_lease_remaining_usd == pytest.approx(883_488.0)
    assert year1.colocation_at_risk_usd == pytest.approx(1_683_488.0)
    # reserved 3-year terms: after 1 year 2 years owed x 64 x 8760 x $2 (1,121,280) = 2,242,560;
    # after 4 years the second term (capped at the 5-year horizon) has 1 year left: 1,121,280
    assert year1.reserved_commitment_remaining_usd == pytest.approx(2_242_560.0)
    assert year4.reserved_commitment_remaining_usd == pytest.approx(1_121_280.0)
    assert result.unamortized[2].reserved_commitment_remaining_usd == 0.0
    assert result.unamortized[-1].on_prem_at_risk_usd == pytest.approx(0.0)


def test_cbre_requirement_range_note():
    # CBRE's figure is for 250-500 kW requirements
    assert any("250-500 kW" in n for n in compare_tco(order(it_kw=100.0)).notes)
    assert not any("250-500 kW" in n for n in compare_tco(order(it_kw=300.0)).notes)
    assert not any("250-500 kW" in n for n in compare_tco(order(colo_usd_per_kw_month=200.0)).notes)


@pytest.mark.parametrize(
    "bad",
    [
        {"utilization": 1.2},
        {"utilization": -0.1},
        {"horizon_years": 0},
        {"horizon_years": 2.5},
        {"it_kw": -1.0},
        {"it_kw": math.inf},
        {"gpu_count": -1},
        {"pue_onprem": 0.9},
        {"cloud_usd_per_gpu_hour": -2.0},
        {"idle_fraction": 1.5},
        {"discount_rate": 1.0},
        {"discount_rate": -0.1},
        {"hardware_life_years": 0.0},
        {"neocloud_reserved_usd_per_gpu_hour": math.nan},
    ],
)
def test_input_validation(bad):
    with pytest.raises(ValueError):
        order(**bad)


@pytest.mark.parametrize(
    "overrides",
    [
        {"tco_idle_fraction_of_max": 1.5},
        {"tco_discount_rate": 1.0},
        {"hardware_life_years": 0},
        {"neocloud_reserved_term_years": 0},
        {"tco_tornado_step": 2.0},
    ],
)
def test_config_validation(overrides):
    with pytest.raises(ValueError):
        RetrofitConfig.from_overrides(overrides)


@settings(max_examples=150, deadline=None)
@given(
    it_kw=st.floats(0, 5000, allow_nan=False),
    gpus=st.integers(0, 10_000),
    years=st.integers(1, 30),
    util=st.floats(0, 1),
    price=st.floats(0, 1),
    capex=st.none() | st.floats(0, 1e8),
    hardware=st.none() | st.floats(0, 1e9),
    cloud=st.none() | st.floats(0, 20),
    includes_power=st.booleans(),
    carbon=st.none() | st.floats(0, 1),
    idle=st.none() | st.floats(0, 1),
    rate=st.floats(0, 0.5),
    family=st.sampled_from([None, "H100", "H200", "B200"]),
)
def test_property_never_raises_and_cheapest_is_min(
    it_kw, gpus, years, util, price, capex, hardware, cloud, includes_power, carbon, idle, rate, family
):
    inp = TcoInput(
        it_kw=it_kw,
        node_count=gpus // 8,
        gpu_count=gpus,
        horizon_years=years,
        utilization=util,
        energy_price_per_kwh=price,
        carbon_kg_per_kwh=carbon,
        retrofit_capex_usd=capex,
        hardware_capex_usd=hardware,
        cloud_usd_per_gpu_hour=cloud,
        colo_includes_power=includes_power,
        idle_fraction=idle,
        discount_rate=rate,
        gpu_family=family,
    )
    result = compare_tco(inp)
    totals = {o.option: o.total_usd for o in result.options if o.total_usd is not None}
    if totals:
        assert totals[result.cheapest] == min(totals.values())
    for o in result.options:
        assert (o.total_usd is None) == bool(o.total_reason)  # an unknown total always says why
        if o.total_usd is not None:
            assert o.npv_usd <= o.total_usd + 1e-6 * max(1.0, o.total_usd)  # discounting never adds
        if o.total_usd_low is not None:
            assert o.total_usd_low <= o.total_usd_high + 1e-6 * max(1.0, o.total_usd_high)
    for cell in result.sensitivity:
        row = {
            ON_PREM: cell.on_prem_usd,
            COLOCATION: cell.colocation_usd,
            CLOUD: cell.cloud_usd,
            NEOCLOUD_RESERVED: cell.neocloud_reserved_usd,
            HYPERSCALER_ON_DEMAND: cell.hyperscaler_on_demand_usd,
        }
        known = {k: v for k, v in row.items() if v is not None}
        assert 0.0 <= cell.utilization <= 1.0
        if known:
            assert known[cell.cheapest] == min(known.values())
    assert len(result.sensitivity) == 9
    assert len(result.unamortized) == years
    for b in result.break_even:
        assert b.utilization is None or 0.0 <= b.utilization <= 1.0
    swings = [b.swing_usd for b in result.tornado]
    assert swings == sorted(swings, reverse=True)
    if capex:
        unrecovered = [u.unrecovered_usd for u in result.unamortized]
        assert unrecovered == sorted(unrecovered, reverse=True)
        assert unrecovered[-1] == pytest.approx(0.0, abs=1e-6)
