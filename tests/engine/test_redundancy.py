"""POWER_REDUNDANCY with common-mode paths and COOLING_LIQUID_REDUNDANCY (DESIGN "The load flow and
redundancy"), each false OK of issue 13 beside its clean case.

GB200 NVL72: 132 kW, 115 kW to liquid (reference §1.1 P* [S10]); H100 10.2 kW (§1.1 P [S1]).
"""

import pytest

from planner.engine import Placement, check_placement
from tests.engine.builders import GB200, H100, ctx, loop, pdu, rack, source


def rule(result, code):
    return next(c for c in result.checks if c.code == code)


def _power_ctx(a_source: int, b_source: int, sources):
    return ctx(pdus=(pdu("A", i=1, source=a_source), pdu("B", i=2, source=b_source)), sources=sources)


UTILITY = source(1, 5000.0, kind="utility")


def test_a_and_b_on_one_ups_is_not_redundant():
    # Before: "A+B feeds: 1 PDU(s) on side A, 1 on side B" -> ok, although both PDUs hang off ups-2.
    c = _power_ctx(2, 2, (UTILITY, source(2, 500.0, parent_id=1)))
    r = rule(check_placement(c, Placement(H100)), "POWER_REDUNDANCY")
    assert r.status == "warn"
    assert "share ups ups-2" in r.message


def test_a_and_b_panels_under_one_ups_name_the_ups():
    sources = (
        UTILITY,
        source(2, 500.0, parent_id=1),
        source(3, 200.0, parent_id=2, kind="panel"),
        source(4, 200.0, parent_id=2, kind="panel"),
    )
    r = rule(check_placement(_power_ctx(3, 4, sources), Placement(H100)), "POWER_REDUNDANCY")
    assert r.status == "warn"
    assert "share ups ups-2:" in r.message and "panel" not in r.message.split("share ")[1].split(":")[0]


def test_2n_with_independent_upss_is_redundant():
    # The utility is common to both paths by design: it is not a finding.
    sources = (UTILITY, source(2, 500.0, parent_id=1), source(3, 500.0, parent_id=1))
    r = rule(check_placement(_power_ctx(2, 3, sources), Placement(H100)), "POWER_REDUNDANCY")
    assert r.status == "ok"
    assert "share no power source below the utility" in r.message


def test_unknown_sources_are_not_called_independent():
    r = rule(check_placement(ctx(), Placement(H100)), "POWER_REDUNDANCY")
    assert r.status == "ok" and "not checked" in r.message


def _liquid(*loops):
    return ctx(loops=loops, rack=rack(max_load_kg=2000.0, empty_weight_kg=0.0))


def test_two_cdus_that_need_each_other_warn():
    # 2 x 70 kW CDUs, no redundant unit: 115 kW shared 57.5 / 57.5, COOLING_LIQUID ok; losing either
    # leaves 70 kW < 115 kW. Before: no finding at all.
    c = _liquid(loop("direct_liquid", 70.0, name="cdu-a"), loop("direct_liquid", 70.0, name="cdu-b"))
    res = check_placement(c, Placement(GB200))
    assert rule(res, "COOLING_LIQUID").status == "ok"
    r = rule(res, "COOLING_LIQUID_REDUNDANCY")
    assert r.status == "warn"
    assert r.value == pytest.approx(132 * 0.871) and r.limit == pytest.approx(70.0)
    assert "without cdu-a" in r.message and "without cdu-b" in r.message


def test_two_cdus_each_able_to_carry_the_rack_are_redundant():
    c = _liquid(loop("direct_liquid", 120.0, name="cdu-a"), loop("direct_liquid", 120.0, name="cdu-b"))
    r = rule(check_placement(c, Placement(GB200)), "COOLING_LIQUID_REDUNDANCY")
    assert r.status == "ok" and r.limit == pytest.approx(120.0)


def test_a_single_cdu_without_a_spare_unit_warns():
    # One 150 kW unit, no redundant unit: losing it leaves 0 kW. Before: no finding.
    c = _liquid(loop("direct_liquid", 150.0, name="cdu"))
    r = rule(check_placement(c, Placement(GB200)), "COOLING_LIQUID_REDUNDANCY")
    assert r.status == "warn" and r.limit == 0.0


def test_a_single_cdu_with_a_redundant_unit_is_ok():
    c = _liquid(loop("direct_liquid", 150.0, units=2, redundant=1, name="cdu"))
    r = rule(check_placement(c, Placement(GB200)), "COOLING_LIQUID_REDUNDANCY")
    assert r.status == "ok"


def test_a_single_cdu_whose_remaining_units_suffice_is_ok():
    # 3 x 60 kW, none declared redundant: losing one leaves 120 kW >= 115 kW.
    c = _liquid(loop("direct_liquid", 60.0, units=3, name="cdu"))
    r = rule(check_placement(c, Placement(GB200)), "COOLING_LIQUID_REDUNDANCY")
    assert r.status == "ok" and r.limit == pytest.approx(120.0)


def test_air_only_rack_has_no_liquid_redundancy_finding():
    r = rule(check_placement(ctx(), Placement(H100)), "COOLING_LIQUID_REDUNDANCY")
    assert r.status == "ok" and r.message == "no liquid heat"


# --- PSU_FEED_LOSS: what the node does (reference §1.1 "1-feed OK?") -------------------------------------


def test_feed_loss_says_full_power_capped_or_off():
    from dataclasses import replace

    from planner.engine.rules.power import feed_loss_mode
    from tests.engine.builders import A100

    assert feed_loss_mode(A100) == "full"  # 3 x 3.0 = 9.0 >= 6.5 kW, P* [S3]
    assert feed_loss_mode(H100) == "capped"  # 3 x 3.3 = 9.9 < 10.2 kW, P [S1]
    assert feed_loss_mode(replace(H100, psu_count=1)) == "off"
    assert feed_loss_mode(replace(H100, psu_count=0, psu_rating_kw=0.0)) == "unknown"
    r = rule(check_placement(ctx(), Placement(H100)), "PSU_FEED_LOSS")
    assert r.status == "warn" and "capped at 9.9 kW (97% of max, reduced performance" in r.message
    r = rule(check_placement(ctx(), Placement(A100)), "PSU_FEED_LOSS")
    assert r.status == "ok" and "runs at full power" in r.message


def test_a_model_without_psu_data_is_not_checked_rather_than_warned():
    from dataclasses import replace

    r = rule(check_placement(ctx(), Placement(replace(H100, psu_count=0, psu_rating_kw=0.0))), "PSU_FEED_LOSS")
    assert r.status == "ok" and "not checked: no PSU data" in r.message
