"""Issue 13 item 3 data rules: sources in kVA with a power factor, the continuous-load derating of panels and
busways (reference §4.5), published heat output (§1.2/§1.3) and the CDU approach temperature (§2.2).

Every expected figure is computed by hand in the comment beside it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from planner.engine import Placement, check_placement
from planner.engine.inputs import PowerSourceSpec
from planner.engine.units import node_heat_kw, source_derating, source_usable_kw
from tests.engine.builders import DLC1U, H100, ctx, loop, pdu, room, row

# §1.2 P [S1]: 38,557 BTU/h; §0.2 exact factor 3.41214 -> 38,557 / 3.41214 / 1000 = 11.29995 kW.
H100_HEAT_KW = 38557 / 3.41214 / 1000
H100_PUB = replace(H100, heat_output_kw=H100_HEAT_KW)


def rule(result, code):
    return next(c for c in result.checks if c.code == code)


# --- 1. kVA x PF ---------------------------------------------------------------------------------------


def test_source_usable_kw_kva_times_pf():
    # 500 kVA x 0.9 = 450 kW; x 0.8 derating = 360 kW; a 400 kW rating under 450 binds: 400 kW.
    assert source_usable_kw(None, 500.0, 0.9) == pytest.approx(450.0)
    assert source_usable_kw(None, 500.0, 0.9, 0.8) == pytest.approx(360.0)
    assert source_usable_kw(400.0, 500.0, 0.9) == pytest.approx(400.0)
    assert source_usable_kw(300.0) == pytest.approx(300.0)
    assert source_usable_kw(300.0, derating=0.8) == pytest.approx(240.0)


def test_spec_fills_usable_kw_from_the_one_formula():
    s = PowerSourceSpec(1, "UPS-1", "ups", None, capacity_kva=50.0, power_factor=0.8)
    assert s.usable_kw == pytest.approx(40.0)  # 50 kVA x 0.8


def _ups_ctx(kva: float, pf: float):
    src = PowerSourceSpec(1, "UPS-1", "ups", None, capacity_kva=kva, power_factor=pf)
    return ctx(sources=(src,), pdus=(pdu("A", source=1, i=1), pdu("A", source=1, i=2), pdu("B", source=1, i=3)))


def test_kva_source_with_pf_fails_where_the_kva_figure_alone_would_pass():
    # 4 x 10.2 = 40.8 kW. 50 kVA x PF 0.8 = 40 kW < 40.8 -> fail (50 read as kW would pass).
    r = rule(check_placement(_ups_ctx(50.0, 0.8), Placement(H100, quantity=4)), "POWER_UPSTREAM")
    assert r.status == "fail"
    assert r.limit == pytest.approx(40.0)
    assert "40.80 kW this rack" in r.message and "> 40.00 kW usable (50 kVA x PF 0.8)" in r.message
    # Clean case: PF 0.9 -> 45 kW >= 40.8 kW.
    ok = rule(check_placement(_ups_ctx(50.0, 0.9), Placement(H100, quantity=4)), "POWER_UPSTREAM")
    assert ok.status == "ok" and ok.limit == pytest.approx(45.0)


# --- 2. continuous-load derating -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "listed", "applies", "expected"),
    [
        ("panel", False, True, 0.8),
        ("busway", False, True, 0.8),
        ("panel", True, True, 1.0),  # listed for 100 % continuous operation (§4.5 exception)
        ("panel", False, False, 1.0),  # the site does not apply it
        ("ups", False, True, 1.0),  # only panels and busways
    ],
)
def test_source_derating(kind, listed, applies, expected):
    assert source_derating(kind, listed, applies, 0.8) == expected


def _panel_ctx(derating: float):
    src = PowerSourceSpec(7, "PNL-1", "panel", 50.0, derating=derating)
    return ctx(sources=(src,), pdus=(pdu("A", source=7, i=1), pdu("A", source=7, i=2), pdu("B", source=7, i=3)))


def test_derated_panel_fails_upstream_where_the_undervalued_one_passes():
    # 4 x 10.2 = 40.8 kW. Panel 50 kW rated: 40.8 <= 50 passes; derated 50 x 0.8 = 40 kW < 40.8 fails.
    plain = rule(check_placement(_panel_ctx(1.0), Placement(H100, quantity=4)), "POWER_UPSTREAM")
    assert plain.status == "ok" and plain.limit == pytest.approx(50.0)
    derated = rule(check_placement(_panel_ctx(0.8), Placement(H100, quantity=4)), "POWER_UPSTREAM")
    assert derated.status == "fail" and derated.limit == pytest.approx(40.0)
    assert "50 kW rated x 0.8 continuous (§4.5 NEC 210.20(A) P* [S32])" in derated.message
    assert "40.80 kW" in derated.message and "> 40.00 kW" in derated.message


def test_rack_headroom_reads_the_usable_figure():
    from planner.engine import rack_headroom

    # Side B has one 415 V 63 A PDU: 415 x 63 x 1.7320508 x 0.8 / 1000 = 36.228 kW. Panel 50 x 0.8 = 40 kW
    # does not bind; panel 40 x 0.8 = 32 kW does (32 < 36.228), and 40 kW read undervalued would not (40 > 36.228).
    assert rack_headroom(_panel_ctx(0.8)).power.headroom_kw == pytest.approx(36.228, rel=1e-4)
    src = PowerSourceSpec(7, "PNL-1", "panel", 40.0, derating=0.8)
    head = rack_headroom(replace(_panel_ctx(0.8), sources=(src,)))
    assert head.power.headroom_kw == pytest.approx(32.0)
    assert head.power.limited_by == "panel PNL-1"


# --- 3. published heat output ---------------------------------------------------------------------------


def test_node_heat_is_the_larger_of_published_heat_and_power():
    assert node_heat_kw(H100_PUB) == pytest.approx(11.29995, rel=1e-6)
    assert node_heat_kw(H100) == pytest.approx(10.2)  # not published: max power
    assert node_heat_kw(replace(H100, heat_output_kw=9.0)) == pytest.approx(10.2)  # never below power


def test_four_h100_air_heat_at_published_heat_output_power_at_max():
    # Power: 4 x 10.2 = 40.8 kW. Air heat: 4 x 11.29995 = 45.1998 kW (liquid fraction 0).
    # Room CRAH 45 kW usable: 45.2 > 45 fails (power alone, 40.8 kW, would have passed).
    c = ctx(room=room(air_loops=(loop("crah", 45.0, name="CRAH-1"),)), row=row(air_kw_per_rack_limit=50.0))
    res = check_placement(c, Placement(H100_PUB, quantity=4))
    assert rule(res, "POWER_RACK").value == pytest.approx(40.8)
    air_rack = rule(res, "COOLING_AIR_RACK")
    assert air_rack.value == pytest.approx(4 * 11.29995, rel=1e-5)
    assert "air heat 45.20 kW" in air_rack.message and "40.80 kW max power" in air_rack.message
    air_room = rule(res, "COOLING_AIR_ROOM")
    assert air_room.status == "fail" and air_room.value == pytest.approx(45.1998, rel=1e-5)
    # Clean case: without the published figure the same room carries 40.8 kW.
    assert rule(check_placement(c, Placement(H100, quantity=4)), "COOLING_AIR_ROOM").status == "ok"


# --- 4. CDU approach --------------------------------------------------------------------------------------


def _liquid_ctx(approach):
    cdu = loop("direct_liquid", 100.0, name="CDU-1", supply_temp_c=35.0, approach_c=approach)
    return ctx(loops=(cdu,))


def test_approach_pushes_the_node_supply_over_its_limit():
    # DLC1U max liquid supply 40 C. 35 C facility + 6 K approach = 41 C > 40 C -> fail.
    r = rule(check_placement(_liquid_ctx(6.0), Placement(DLC1U)), "COOLING_TEMPERATURE")
    assert r.status == "fail" and r.value == pytest.approx(41.0) and r.limit == pytest.approx(40.0)
    assert "facility supply 35.0 C + 6 K CDU approach = 41.0 C at the node (§2.2 S [S22][S63])" in r.message
    # Clean case: 35 + 4 = 39 C <= 40 C.
    ok = rule(check_placement(_liquid_ctx(4.0), Placement(DLC1U)), "COOLING_TEMPERATURE")
    assert ok.status == "ok" and ok.value == pytest.approx(39.0)


def test_approach_not_given_is_said_and_not_invented():
    # 35 C facility supply <= 40 C, checked at the facility side only (no default approach).
    r = rule(check_placement(_liquid_ctx(None), Placement(DLC1U)), "COOLING_TEMPERATURE")
    assert r.status == "ok" and r.value == pytest.approx(35.0)
    assert "CDU approach not given: checked at the facility supply only" in r.message
