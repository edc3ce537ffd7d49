"""Shared formulas (planner/engine/units.py) against the reference's worked numbers.

Reference: /work/shared/reference/engineering.md. §4.6 rack PDU table (C, PF 1.0; 208 V 3-ph 30 A at 80 %
= 8,646 W matches S [S33]); §4.3 liquid flow and fluid properties at 30 °C (CoolProp 8.0.0, C [S31]);
§4.2 airflow; §0.2 conversions. Tolerance: relative 1e-3 (§0.2).
"""

from __future__ import annotations

import math

import pytest

from planner.engine import coolant_flow_lpm, flow_heat_kw, loop_usable_kw, pdu_usable_kw
from planner.engine.units import (
    FLUIDS,
    SQRT3,
    air_kw_per_rack_limit,
    airflow_cfm,
    c_to_f,
    fmt,
    kg_m2_to_lbf_ft2,
    kg_to_lb,
    kw_to_btu_h,
    lpm_to_gpm,
)

# (volts, phases, amps, full kW, 80 % kW) — reference §4.6, every row.
PDU_TABLE = [
    (208, 1, 30, 6.240, 4.992),
    (230, 1, 16, 3.680, 2.944),
    (230, 1, 32, 7.360, 5.888),
    (208, 3, 30, 10.808, 8.646),
    (208, 3, 60, 21.616, 17.293),
    (400, 3, 32, 22.170, 17.736),
    (400, 3, 63, 43.648, 34.918),
    (415, 3, 32, 23.002, 18.401),
    (415, 3, 63, 45.285, 36.228),
    (480, 3, 30, 24.942, 19.953),
    (480, 3, 60, 49.883, 39.907),
]


@pytest.mark.parametrize(
    ("volts", "phases", "amps", "full_kw", "derated_kw"),
    PDU_TABLE,
    ids=[f"ref-4.6-{v}V-{ph}ph-{a}A" for v, ph, a, _, _ in PDU_TABLE],
)
def test_pdu_usable_kw_matches_reference_table(volts, phases, amps, full_kw, derated_kw):
    assert pdu_usable_kw(volts, amps, phases, 1.0, 1.0) == pytest.approx(full_kw, rel=1e-3)
    assert pdu_usable_kw(volts, amps, phases, 0.8, 1.0) == pytest.approx(derated_kw, rel=1e-3)


def test_pdu_usable_kw_worked_example_s33():
    # §4.4 S [S33]: 208 V x 30 A x sqrt(3) x 0.8 = 8,646 VA.
    assert pdu_usable_kw(208, 30, 3, 0.8) * 1000 == pytest.approx(8646, abs=0.5)


def test_pdu_usable_kw_power_factor_multiplies():
    # §4.6: "For PF < 1 multiply by PF." 415 V 3-ph 63 A at 0.8 and PF 0.95 = 36.228 x 0.95.
    assert pdu_usable_kw(415, 63, 3, 0.8, 0.95) == pytest.approx(36.228 * 0.95, rel=1e-3)


def test_sqrt3_constant():
    assert pytest.approx(1.7320508, rel=1e-7) == SQRT3  # §0.2


@pytest.mark.parametrize(
    ("cap", "units", "redundant", "expected"),
    [(100.0, 4, 1, 300.0), (250.0, 3, 1, 500.0), (40.0, 1, 0, 40.0), (50.0, 2, 2, 0.0), (50.0, 1, 3, 0.0)],
    ids=["N+1-4x100", "N+1-3x250-CDU", "single-rear-door", "all-redundant", "more-redundant-than-units"],
)
def test_loop_usable_kw(cap, units, redundant, expected):
    assert loop_usable_kw(cap, units, redundant) == expected


def test_coolant_flow_water_1kw_10k_ref_4_3():
    # §4.3 C [S31]: 60 / (0.9956 x 4.180 x 10) = 1.4418 L/min.
    assert coolant_flow_lpm(1.0, 10.0, "water") == pytest.approx(1.4418, rel=1e-4)


def test_coolant_flow_pg25_needs_4_6_percent_more_than_simplified_formula_ref_4_3():
    # §4.3: simplified kW x 60 / (4.186 x dT); PG25 at 30 C flow factor 1.0456, water 1.0058.
    simplified = 100.0 * 60 / (4.186 * 10)
    assert coolant_flow_lpm(100.0, 10.0, "pg25") / simplified == pytest.approx(1.0456, rel=1e-3)
    assert coolant_flow_lpm(100.0, 10.0, "water") / simplified == pytest.approx(1.0058, rel=1e-3)


def test_coolant_flow_us_form_consistency_ref_4_3():
    # §4.3: 1 kW at 18 F (10 K) -> 0.3791 gpm = 1.435 L/min with gpm = BTU/h / (500 dT F); within 1 %.
    assert coolant_flow_lpm(1.0, 10.0, "water") == pytest.approx(1.435, rel=1e-2)


def test_fluid_table_values_ref_4_3():
    assert FLUIDS["water"].rho_cp_kj_per_l_k == pytest.approx(4.1616, rel=1e-4)
    assert FLUIDS["pg25"].rho_cp_kj_per_l_k == pytest.approx(4.0034, rel=1e-4)
    assert "[S31]" in FLUIDS["water"].source and "[S31]" in FLUIDS["pg25"].source


def test_flow_heat_kw_is_the_inverse_of_flow():
    for fluid in ("water", "pg25"):
        assert flow_heat_kw(coolant_flow_lpm(115.0, 8.0, fluid), 8.0, fluid) == pytest.approx(115.0)


def test_coolant_flow_rejects_unknown_fluid_and_zero_delta_t():
    with pytest.raises(KeyError):
        coolant_flow_lpm(1.0, 10.0, "air")
    with pytest.raises(ValueError):
        coolant_flow_lpm(1.0, 0.0, "water")


@pytest.mark.parametrize(
    ("limit", "containment", "expected"),
    [
        (None, "none", 10.0),
        (None, "cold_aisle", 25.0),
        (None, "hot_aisle", 25.0),
        (17.5, "none", 17.5),
        (None, "unknown", 10.0),
    ],
    ids=["open-aisle-ref-3-T[S45]", "cold-aisle-ref-3-T[S65]", "hot-aisle-ref-3-T[S65]", "row-limit", "unknown"],
)
def test_air_kw_per_rack_default_by_containment(limit, containment, expected):
    assert air_kw_per_rack_limit(limit, containment)[0] == expected


def test_display_conversions_ref_0_2():
    assert kw_to_btu_h(6.5) == pytest.approx(22179, rel=1e-3)  # §1.3 DGX A100 22,179 BTU/h
    assert kw_to_btu_h(14.3) == pytest.approx(48794, rel=1e-3)  # §1.3 DGX B200 48,794 BTU/h
    assert kg_to_lb(130.45) == pytest.approx(287.6, rel=1e-3)  # §1.2 DGX H100 287.6 lb
    # 12 kPa = 250.6 lbf/ft2 (§0.2); 12 kPa / g = 1223.6 kg/m2.
    assert kg_m2_to_lbf_ft2(12000 / 9.80665) == pytest.approx(250.6, rel=1e-3)
    assert c_to_f(30.0) == 86.0
    assert lpm_to_gpm(1.435) == pytest.approx(0.3791, rel=1e-3)  # §4.3


def test_airflow_cfm_ref_1_3_dgx_a100():
    # §1.3: 3.16 x 6,500 / 840 = 24.45 F (13.6 C) -> at 13.58 C the model needs ~840 CFM (±1 %, §0.2).
    assert airflow_cfm(6.5, 24.45 / 1.8) == pytest.approx(840, rel=1e-2)


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (40.8, "40.8"),
        (36.22757, "36.23"),
        (415.0, "415"),
        (0.0, "0"),
        (-0.001, "0"),
        (9.899999999, "9.9"),
        (math.inf, "inf"),
    ],
)
def test_fmt_two_decimals_at_most(x, text):
    assert fmt(x) == text
