"""POWER_OUTLETS and POWER_PHASE: worked examples, failing and clean (planner.engine.rules.circuits).

Arithmetic is written out beside each assertion: 415 V 3-phase -> 415 / sqrt(3) = 239.60 V per phase (§4.4);
a phase or branch may carry its breaker x the site's power_derating 0.8 (§4.5).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from planner.engine.check import check_placement
from planner.engine.inputs import Placement
from tests.engine.builders import CPU2U, H100, ctx, pdu, site, stack

# DGX H100: 6 x locking C19/C20 cords (reference §1.2, P [S1]); 10.2 kW max.
H100C = replace(H100, cord_count=6, cord_receptacle="C19")


def _rule(result, code):
    return next(c for c in result.checks if c.code == code)


def _pdus(**kw):
    """One 415 V 3-phase 32 A PDU per side (usable 415 x 32 x sqrt(3) x 0.8 = 18.40 kW each)."""
    return (replace(pdu("A", a=32.0, i=1), **kw), replace(pdu("B", a=32.0, i=2), **kw))


# --- POWER_OUTLETS ---------------------------------------------------------------------------------------------


def test_outlets_fail_when_a_side_has_too_few_c19():
    # One H100 already in the rack (3 cords per side) + one new (3 more) = 6 C19 cords on each side > 4.
    c = ctx(pdus=_pdus(receptacles_c19=4), nodes=stack(H100C, 1))
    r = _rule(check_placement(c, Placement(H100C)), "POWER_OUTLETS")
    assert r.status == "fail" and (r.value, r.limit) == (6, 4)
    assert "side A: 6 C19 cord(s) (3 existing + 3 new) > 4 C19 receptacle(s) (PDU-A1 4): 2 short" in r.message


def test_outlets_clean_with_enough_c19():
    # 3 + 3 = 6 <= 8 receptacles per side, 2 free after.
    c = ctx(pdus=_pdus(receptacles_c19=8), nodes=stack(H100C, 1))
    r = _rule(check_placement(c, Placement(H100C)), "POWER_OUTLETS")
    assert r.status == "ok" and (r.value, r.limit) == (6, 8)
    assert "side B: 6 C19 cord(s) (3 existing + 3 new) <= 8 C19 receptacle(s) (PDU-B2 8), 2 free after" in r.message


def test_outlets_of_the_wrong_type_do_not_count():
    # 24 C13 receptacles but no C19: the H100's 3 C19 cords per side find none (0 < 3).
    c = ctx(pdus=_pdus(receptacles_c13=24, receptacles_c19=0))
    r = _rule(check_placement(c, Placement(H100C)), "POWER_OUTLETS")
    assert r.status == "fail" and (r.value, r.limit) == (3, 0)


def test_outlets_not_checked_when_receptacles_unknown():
    r = _rule(check_placement(ctx(pdus=_pdus()), Placement(H100C)), "POWER_OUTLETS")
    assert r.status == "ok" and r.message.startswith("not checked")
    assert "C19 receptacles unknown on PDU-A1" in r.message and r.value is None


def test_outlets_not_checked_when_cords_unsourced():
    r = _rule(check_placement(ctx(pdus=_pdus(receptacles_c19=8)), Placement(CPU2U)), "POWER_OUTLETS")
    assert r.status == "ok" and "not checked for cpu-2u x 1: power cords unsourced" in r.message


def test_outlets_one_side_takes_every_cord():
    # Side A only: all 6 cords on it > 4 receptacles.
    c = ctx(pdus=(replace(pdu("A", a=32.0, i=1), receptacles_c19=4),))
    r = _rule(check_placement(c, Placement(H100C)), "POWER_OUTLETS")
    assert r.status == "fail" and (r.value, r.limit) == (6, 4)


# --- POWER_PHASE -----------------------------------------------------------------------------------------------


def test_phase_balanced_h100_passes():
    # 3 cords per side, 10.2 / 3 = 3.4 kW each, one per phase: 3400 / 239.60 = 14.19 A <= 32 x 0.8 = 25.6 A.
    r = _rule(check_placement(ctx(pdus=_pdus()), Placement(H100C)), "POWER_PHASE")
    assert r.status == "ok"
    assert r.value == pytest.approx(3400 / (415 / 3**0.5)) and r.value == pytest.approx(14.19, abs=0.01)
    assert r.limit == pytest.approx(25.6)
    assert "L1 3.40 kW = 14.19 A, L2 3.40 kW = 14.19 A, L3 3.40 kW = 14.19 A (each <= 25.60 A)" in r.message


def test_phase_over_its_breaker_although_the_pdu_carries_the_load():
    # A 2-cord 8 kW node: one cord per side, all 8 kW on L1: 8000 / 239.60 = 33.39 A > 25.6 A.
    # POWER_RACK passes: 8 kW <= 18.40 kW usable per side.
    two_cord = replace(CPU2U, slug="two-cord", max_power_kw=8.0, cord_count=2, cord_receptacle="C19")
    result = check_placement(ctx(pdus=_pdus()), Placement(two_cord))
    r = _rule(result, "POWER_PHASE")
    assert _rule(result, "POWER_RACK").status == "ok"
    assert r.status == "fail" and r.value == pytest.approx(33.39, abs=0.01) and r.limit == pytest.approx(25.6)
    assert "L1 8.00 kW = 33.39 A > 25.60 A" in r.message


def test_phase_imbalance_warns_then_balances():
    # 4 kW 2-cord node: L1 4000 / 239.60 = 16.69 A (<= 25.6 A), L2 = L3 = 0: mean 5.56 A,
    # max |I - mean| / mean = (16.69 - 5.56) / 5.56 = 200 % > 20 %: warn.
    small = replace(CPU2U, slug="small", max_power_kw=4.0, cord_count=2, cord_receptacle="C13")
    r = _rule(check_placement(ctx(pdus=_pdus()), Placement(small)), "POWER_PHASE")
    assert r.status == "warn" and "imbalance max |I - mean| / mean = 200% > 20%" in r.message
    # Three of them: round-robin L1, L2, L3, 16.69 A each: balanced, ok.
    r = _rule(check_placement(ctx(pdus=_pdus()), Placement(small, quantity=3)), "POWER_PHASE")
    assert r.status == "ok" and "imbalance" not in r.message
    # A looser configured share (3.0 = 300 %) lets the single node pass.
    loose = ctx(pdus=_pdus(), site=site(phase_imbalance_share=3.0))
    assert _rule(check_placement(loose, Placement(small)), "POWER_PHASE").status == "ok"


def test_branch_breaker_fails_before_the_phase():
    # 6 branches of 16 A: 16 x 0.8 = 12.8 A each; an H100 cord 3400 / 239.60 = 14.19 A > 12.8 A (phase 25.6 A ok).
    c = ctx(pdus=_pdus(branch_count=6, branch_breaker_a=16.0))
    r = _rule(check_placement(c, Placement(H100C)), "POWER_PHASE")
    assert r.status == "fail" and r.value == pytest.approx(14.19, abs=0.01) and r.limit == pytest.approx(12.8)
    assert "branch 1 (L1) 3.40 kW = 14.19 A" in r.message
    # 20 A branches: 16 A each >= 14.19 A: clean.
    c = ctx(pdus=_pdus(branch_count=6, branch_breaker_a=20.0))
    r = _rule(check_placement(c, Placement(H100C)), "POWER_PHASE")
    assert r.status == "ok" and "highest 14.19 A" in r.message


def test_208v_delta_branches_at_line_to_line():
    # 208 V 3-phase 30 A (usable 208 x 30 x sqrt(3) x 0.8 = 8.65 kW). A 5 kW 6-cord node: 3 cords per side,
    # 1.667 kW each. Phase: 1666.7 / (208 / sqrt(3) = 120.09 V) = 13.88 A <= 24 A. Branch (20 A x 0.8 = 16 A) at
    # the 208 V outlet (delta, §4.4): 1666.7 / 208 = 8.01 A.
    node = replace(CPU2U, slug="five-kw", max_power_kw=5.0, cord_count=6, cord_receptacle="C13")
    legacy = tuple(
        replace(pdu(side, v=208.0, a=30.0, i=i), branch_count=6, branch_breaker_a=20.0)
        for i, side in ((1, "A"), (2, "B"))
    )
    r = _rule(check_placement(ctx(pdus=legacy), Placement(node)), "POWER_PHASE")
    assert r.status == "ok" and r.value == pytest.approx(13.88, abs=0.01) and r.limit == pytest.approx(24.0)
    assert "highest 8.01 A" in r.message and "16.00 A at 208.00 V" in r.message


def test_phase_defers_to_power_rack_when_the_side_is_over():
    # 2 x 10.2 = 20.4 kW > 18.40 kW usable: POWER_RACK fails; POWER_PHASE does not repeat it.
    result = check_placement(ctx(pdus=_pdus()), Placement(H100C, quantity=2))
    assert _rule(result, "POWER_RACK").status == "fail"
    r = _rule(result, "POWER_PHASE")
    assert r.status == "ok" and "not checked: 20.40 kW > 18.40 kW usable (POWER_RACK fails)" in r.message


def test_unsourced_cords_spread_evenly():
    # cpu-2u has no cord data: 1.5 kW over the side's 3 phases, 0.5 kW each: 500 / 239.60 = 2.09 A.
    r = _rule(check_placement(ctx(pdus=_pdus()), Placement(CPU2U)), "POWER_PHASE")
    assert r.status == "ok" and r.value == pytest.approx(2.09, abs=0.01)
    assert "(power cords unsourced) spread evenly" in r.message


def test_cords_round_robin_over_two_pdus_deterministically():
    # Two PDUs on side A (the builder's default, 415 V 63 A): an H100's 3 cords on A go to A1, one per phase
    # (3.4 kW each); the next H100's to A2; the third's to A1 again.
    from planner.engine.rules.circuits import side_loads
    from planner.engine.rules.state import build_state

    def side_a(q):
        return [e.phase_kw for e in side_loads(build_state(ctx(), Placement(H100C, quantity=q)))[0].pdus]

    kw = 10.2 / 3
    assert side_a(1) == [[kw, kw, kw], [0.0, 0.0, 0.0]]
    assert side_a(2) == [[kw, kw, kw], [kw, kw, kw]]
    assert side_a(3) == [[2 * kw, 2 * kw, 2 * kw], [kw, kw, kw]]
    r = _rule(check_placement(ctx(), Placement(H100C, quantity=3)), "POWER_PHASE")
    assert r.status == "ok"  # balanced on every PDU: no imbalance warning


def test_a_full_pdu_is_skipped():
    # A1 has 2 C19 left, A2 4: an H100's 3 cords on side A go to A2 (room for all 3).
    from planner.engine.rules.circuits import side_loads
    from planner.engine.rules.state import build_state

    pdus = (
        replace(pdu("A", i=1), receptacles_c19=2),
        replace(pdu("A", i=2), receptacles_c19=4),
        replace(pdu("B", i=3), receptacles_c19=4),
    )
    sides = side_loads(build_state(ctx(pdus=pdus), Placement(H100C)))
    assert [e.used.get("C19", 0) for e in sides[0].pdus] == [0, 3]
