"""TCO comparison (planner/engine/tco.py).

Sources (reference §7): colocation $184.06/kW/month, CBRE NA H2 2024 (P [S56]); air fleet PUE 1.54 (Uptime
2025, S [S26]). The cloud GPU-hour price and the hardware price have no source: tests pass them explicitly.
Expected values are recomputed by hand in the comments (8760 h/year).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.engine.costs import RetrofitConfig
from planner.engine.tco import CLOUD, COLOCATION, ON_PREM, TcoInput, compare_tco


def order(**extra) -> TcoInput:
    """8 nodes x 8 GPUs = 64 GPUs, 100 kW, 5 years at 80 %, $0.10/kWh, $200k retrofit, cloud $2/GPU-h."""
    base = dict(
        it_kw=100.0,
        node_count=8,
        gpu_count=64,
        horizon_years=5,
        utilization=0.8,
        energy_price_per_kwh=0.10,
        retrofit_capex_usd=200_000.0,
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
    # + retrofit $200,000 = $739,616
    assert on_prem.total_usd == pytest.approx(739_616.0)
    # CO2: 5,396,160 kWh x 0.4 kg/kWh = 2,158,464 kg
    assert on_prem.co2_kg == pytest.approx(2_158_464.0)
    # colocation all-in: 100 kW x 12 x 5 x $184.06 = $1,104,360
    assert colo.total_usd == pytest.approx(1_104_360.0)
    assert colo.rent_usd == pytest.approx(1_104_360.0) and colo.energy_usd == 0.0
    # cloud: 64 GPU x 8760 h x 5 y x 0.8 x $2.00 = $4,485,120
    assert cloud.total_usd == pytest.approx(4_485_120.0)
    assert cloud.co2_kg is None
    assert result.cheapest == ON_PREM
    assert any("S56" in a for a in result.assumptions)
    assert any("hardware purchase excluded" in n for n in result.notes)


@pytest.mark.parametrize(
    ("extra", "colo_total"),
    [
        # all-in default: rent only
        ({}, 1_104_360.0),
        # power billed separately at PUE 1.54: + 100 x 0.8 x 8760 x 5 x 1.54 x 0.10 = 539,616 -> 1,643,976
        ({"colo_includes_power": False}, 1_643_976.0),
        # ... with colo PUE 1.3: 100 x 0.8 x 8760 x 5 x 1.3 x 0.10 = 455,520 -> 1,559,880
        ({"colo_includes_power": False, "pue_colo": 1.3}, 1_559_880.0),
        # caller's own rent $150/kW/month: 100 x 12 x 5 x 150 = 900,000
        ({"colo_usd_per_kw_month": 150.0}, 900_000.0),
    ],
)
def test_colocation_variants(extra, colo_total):
    assert compare_tco(order(**extra)).option(COLOCATION).total_usd == pytest.approx(colo_total)


def test_cloud_omitted_without_price():
    result = compare_tco(order(cloud_usd_per_gpu_hour=None))
    assert [o.option for o in result.options] == [ON_PREM, COLOCATION]
    assert any("cloud omitted" in n for n in result.notes)
    assert all(cell.cloud_usd is None for cell in result.sensitivity)


def test_unknown_retrofit_capex_leaves_on_prem_out():
    result = compare_tco(order(retrofit_capex_usd=None))
    assert result.option(ON_PREM).total_usd is None
    assert result.cheapest == COLOCATION  # 1,104,360 < 4,485,120
    assert result.unamortized == ()
    assert any("retrofit capex unknown" in n for n in result.notes)


def test_hardware_capex_applies_to_on_prem_and_colo_only():
    base = compare_tco(order())
    with_hw = compare_tco(order(hardware_capex_usd=3_000_000.0))
    for name in (ON_PREM, COLOCATION):
        assert with_hw.option(name).total_usd - base.option(name).total_usd == pytest.approx(3_000_000.0)
    assert with_hw.option(CLOUD).total_usd == base.option(CLOUD).total_usd
    assert not any("hardware purchase excluded" in n for n in with_hw.notes)
    # on-prem 3,739,616 and colo 4,104,360 both < cloud 4,485,120
    assert with_hw.cheapest == ON_PREM


def test_sensitivity_table_values():
    result = compare_tco(order())
    assert len(result.sensitivity) == 9  # 3 energy steps x 3 utilization steps
    steps = [(c.energy_price_step, c.utilization_step) for c in result.sensitivity]
    assert steps[0] == (-0.2, -0.2) and steps[4] == (0.0, 0.0) and steps[-1] == (0.2, 0.2)
    corner = result.sensitivity[-1]
    # price 0.12, utilization 0.96: 100 x 0.96 x 8760 x 5 x 1.54 x 0.12 = 777,047.04 + 200,000 = 977,047.04
    assert corner.energy_price_per_kwh == pytest.approx(0.12)
    assert corner.utilization == pytest.approx(0.96)
    assert corner.on_prem_usd == pytest.approx(977_047.04)
    # cloud: 64 x 8760 x 5 x 0.96 x 2 = 5,382,144; colo unchanged (billed on contracted kW)
    assert corner.cloud_usd == pytest.approx(5_382_144.0)
    assert corner.colocation_usd == pytest.approx(1_104_360.0)
    base = result.sensitivity[4]
    assert base.on_prem_usd == pytest.approx(result.option(ON_PREM).total_usd)


def test_sensitivity_cheapest_flips():
    # 100 kW, 1 year, utilization 1.0, PUE 1.5, no retrofit, no cloud price.
    # colo: 100 x 12 x 184.06 = 220,872. on-prem kWh: 100 x 8760 x 1.5 = 1,314,000
    inp = TcoInput(
        it_kw=100.0,
        node_count=0,
        gpu_count=0,
        horizon_years=1,
        utilization=1.0,
        energy_price_per_kwh=0.15,
        pue_onprem=1.5,
    )
    result = compare_tco(inp)
    cells = {(c.energy_price_step, c.utilization_step): c for c in result.sensitivity}
    # base: 1,314,000 x 0.15 = 197,100 < 220,872 -> on-prem
    assert result.cheapest == ON_PREM and cells[(0.0, 0.0)].cheapest == ON_PREM
    # +20 % price: 1,314,000 x 0.18 = 236,520 > 220,872 -> colocation
    assert cells[(0.2, 0.0)].on_prem_usd == pytest.approx(236_520.0)
    assert cells[(0.2, 0.0)].cheapest == COLOCATION
    # +20 % price, -20 % utilization: 100 x 0.8 x 8760 x 1.5 x 0.18 = 189,216 -> on-prem
    assert cells[(0.2, -0.2)].on_prem_usd == pytest.approx(189_216.0)
    assert cells[(0.2, -0.2)].cheapest == ON_PREM
    # +20 % utilization clips at 1.0
    assert cells[(0.0, 0.2)].utilization == 1.0


@pytest.mark.parametrize(
    ("steps", "cells"),
    [((0.0,), 1), ((-0.1, 0.0, 0.1), 9), ((-0.3, -0.15, 0.0, 0.15, 0.3), 25)],
)
def test_sensitivity_steps_configurable(steps, cells):
    cfg = RetrofitConfig.from_overrides({"tco_sensitivity_steps": list(steps)})
    result = compare_tco(order(), cfg)
    assert len(result.sensitivity) == cells
    assert {c.energy_price_step for c in result.sensitivity} == set(steps)


def test_unamortized_risk_linear():
    # $200,000 retrofit over 5 years: $40,000 recovered per year
    result = compare_tco(order())
    assert [(u.years_in_service, u.unrecovered_usd) for u in result.unamortized] == [
        (1, pytest.approx(160_000.0)),
        (2, pytest.approx(120_000.0)),
        (3, pytest.approx(80_000.0)),
        (4, pytest.approx(40_000.0)),
        (5, pytest.approx(0.0)),
    ]
    assert result.unamortized[0].recovered_usd == pytest.approx(40_000.0)
    assert compare_tco(order(retrofit_capex_usd=0.0)).unamortized == ()


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
    ],
)
def test_input_validation(bad):
    with pytest.raises(ValueError):
        order(**bad)


@settings(max_examples=200, deadline=None)
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
)
def test_property_never_raises_and_cheapest_is_min(
    it_kw, gpus, years, util, price, capex, hardware, cloud, includes_power, carbon
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
    )
    result = compare_tco(inp)
    totals = {o.option: o.total_usd for o in result.options if o.total_usd is not None}
    if totals:
        assert totals[result.cheapest] == min(totals.values())
    for cell in result.sensitivity:
        row = {ON_PREM: cell.on_prem_usd, COLOCATION: cell.colocation_usd, CLOUD: cell.cloud_usd}
        known = {k: v for k, v in row.items() if v is not None}
        assert 0.0 <= cell.utilization <= 1.0
        if known:
            assert known[cell.cheapest] == min(known.values())
    assert len(result.sensitivity) == 9
    if capex:
        assert len(result.unamortized) == years
        unrecovered = [u.unrecovered_usd for u in result.unamortized]
        assert unrecovered == sorted(unrecovered, reverse=True)
        assert unrecovered[-1] == pytest.approx(0.0, abs=1e-6)
