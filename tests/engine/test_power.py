"""POWER_RACK, POWER_REDUNDANCY, POWER_UPSTREAM, POWER_SITE, PSU_FEED_LOSS.

Reference: §4.6 PDU table (415 V 3-ph 63 A at 0.8 = 36.228 kW; 208 V 3-ph 30 A at 0.8 = 8.646 kW, S [S33]);
§4.7 2N (each feed carries the whole load); DGX H100 4 per rack = 40.8 kW (S [S58]); §1.1 "1-feed OK?" column.
"""

from __future__ import annotations

import pytest

from planner.engine import Placement, check_placement, check_rack
from tests.engine.builders import A100, B200, B300, CPU2U, GB200, GB300, H100, H200, HGX, ctx, pdu, site, source, stack


def rule(result, code):
    return result.get(code)


# --- POWER_RACK ------------------------------------------------------------------------------------------


def test_four_h100_exceed_one_415v_63a_pdu_per_side_ref_4_6_S58():
    # 4 x 10.2 kW = 40.8 kW (S [S58]) > 36.228 kW usable per side (§4.6).
    c = ctx(pdus=(pdu("A", i=1), pdu("B", i=2)))
    r = rule(check_placement(c, Placement(H100, quantity=4)), "POWER_RACK")
    assert r.status == "fail"
    assert r.value == pytest.approx(40.8) and r.limit == pytest.approx(36.228, rel=1e-4) and r.unit == "kW"
    assert "side B: 40.80 kW load > 36.23 kW usable (415 V x 63 A x sqrt(3) x 0.8 x PF 1)" in r.message
    assert "each side must carry the whole load alone" in r.message


def test_two_pdus_per_side_carry_four_h100():
    c = ctx(pdus=(pdu("A", i=1), pdu("A", i=2), pdu("B", i=3), pdu("B", i=4)))
    r = rule(check_placement(c, Placement(H100, quantity=4)), "POWER_RACK")
    assert r.status == "ok"
    assert r.limit == pytest.approx(2 * 36.228, rel=1e-4)
    assert "36.23 kW) + (" in r.message  # per-PDU arithmetic summed


@pytest.mark.parametrize(
    ("amps", "status"),
    [(212.5, "ok"), (212.6, "ok"), (212.4, "fail")],
    ids=["at-limit-40.8kW", "under-limit", "over-limit"],
)
def test_power_rack_at_under_over(amps, status):
    # 240 V 1-ph x 212.5 A x 0.8 = 40.8 kW = 4 x DGX H100 (S [S58]).
    c = ctx(pdus=(pdu("A", v=240, a=amps, phases=1, i=1), pdu("B", v=240, a=amps, phases=1, i=2)))
    r = rule(check_placement(c, Placement(H100, quantity=4)), "POWER_RACK")
    assert r.status == status


def test_smaller_side_sets_capacity_2n_ref_4_7():
    # A: 415 V 63 A (36.228 kW); B: 208 V 3-ph 30 A (8.646 kW, S [S33]). Capacity = 8.646 kW.
    c = ctx(pdus=(pdu("A", i=1), pdu("B", v=208, a=30, i=2)))
    r = rule(check_placement(c, Placement(A100)), "POWER_RACK")
    assert r.limit == pytest.approx(8.646, rel=1e-3)
    assert r.status == "ok"  # 6.5 kW
    r2 = rule(check_placement(c, Placement(H100)), "POWER_RACK")
    assert r2.status == "fail"  # 10.2 kW > 8.646 kW on side B
    assert "side A: 10.20 kW load <= 36.23 kW" in r2.message and "side B: 10.20 kW load > 8.65 kW" in r2.message


def test_one_side_only_uses_that_side():
    c = ctx(pdus=(pdu("A", i=1), pdu("A", i=2)))
    r = rule(check_placement(c, Placement(H100, quantity=4)), "POWER_RACK")
    assert r.status == "ok" and r.limit == pytest.approx(72.455, rel=1e-4)
    assert "side A only" in r.message


def test_no_pdus_capacity_zero():
    assert rule(check_rack(ctx(pdus=())), "POWER_RACK").status == "ok"
    r = rule(check_placement(ctx(pdus=()), Placement(CPU2U)), "POWER_RACK")
    assert r.status == "fail" and r.limit == 0.0 and "no PDUs recorded" in r.message


def test_power_factor_and_site_derating_apply():
    # §4.6 "For PF < 1 multiply by PF"; a site at 100 % (IEC practice, §4.5) uses the full rating.
    c = ctx(site=site(power_derating=1.0), pdus=(pdu("A", pf=0.9, i=1), pdu("B", pf=0.9, i=2)))
    r = rule(check_rack(c), "POWER_RACK")
    assert r.limit == pytest.approx(45.285 * 0.9, rel=1e-4)
    assert "x 1 x PF 0.9" in r.message


# --- POWER_REDUNDANCY ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pdus", "status", "fragment"),
    [
        ((pdu("A", i=1), pdu("B", i=2)), "ok", "A+B"),
        ((pdu("A", i=1), pdu("A", i=2)), "warn", "side A only"),
        ((pdu("B", i=1),), "warn", "side B only"),
        ((), "warn", "no PDUs recorded"),
    ],
    ids=["2N-ref4.7", "A-only", "B-only", "none"],
)
def test_redundancy(pdus, status, fragment):
    r = rule(check_rack(ctx(pdus=pdus)), "POWER_REDUNDANCY")
    assert r.status == status and fragment in r.message


# --- POWER_UPSTREAM --------------------------------------------------------------------------------------

CHAIN = (
    source(1, 2000.0, 1500.0, kind="utility"),
    source(2, 500.0, 400.0, parent_id=1),  # ups A
    source(3, 500.0, 300.0, parent_id=1),  # ups B
    source(4, 150.0, 100.0, parent_id=2, kind="panel"),  # panel A
    source(9, 100.0, 99.0, kind="panel"),  # not on this rack's chain
)


def chain_ctx(**kw):
    return ctx(pdus=(pdu("A", source=4, i=1), pdu("A", source=4, i=2), pdu("B", source=3, i=3)), sources=CHAIN, **kw)


def test_upstream_adds_the_rack_only_to_sources_feeding_it():
    # 4 x H100 = 40.8 kW. Panel A 100 + 40.8 = 140.8/150; UPS A 440.8/500; UPS B 340.8/500; utility
    # 1540.8/2000; panel 9 is not fed: 99/100 (the tightest, 0.99).
    r = rule(check_placement(chain_ctx(), Placement(H100, quantity=4)), "POWER_UPSTREAM")
    assert r.status == "ok"
    assert (r.value, r.limit) == (99.0, 100.0)
    assert "does not feed this rack" in r.message and "tightest of 5 source(s)" in r.message


@pytest.mark.parametrize(
    ("capacity", "status"),
    [(140.8, "ok"), (140.81, "ok"), (140.79, "fail")],
    ids=["at-limit-panel-100+40.8kW", "under-limit", "over-limit"],
)
def test_upstream_at_under_over(capacity, status):
    sources = (source(4, capacity, 100.0, kind="panel"),)
    c = ctx(pdus=(pdu("A", source=4, i=1), pdu("A", source=4, i=2), pdu("B", i=3)), sources=sources)
    r = rule(check_placement(c, Placement(H100, quantity=4)), "POWER_UPSTREAM")
    assert r.status == status
    assert r.value == pytest.approx(140.8)


def test_upstream_names_every_failing_source():
    # 3 x B200 = 42.9 kW: panel A 142.9 <= 150, but UPS A 400 + 42.9 with a 420 kW source fails, and
    # utility 1500 + 42.9 > 1520.
    sources = (
        source(1, 1520.0, 1500.0, kind="utility"),
        source(2, 420.0, 400.0, parent_id=1),
        source(4, 150.0, 100.0, parent_id=2, kind="panel"),
    )
    c = ctx(pdus=(pdu("A", source=4, i=1), pdu("A", i=2), pdu("B", i=3)), sources=sources)
    r = rule(check_placement(c, Placement(B200, quantity=3)), "POWER_UPSTREAM")
    assert r.status == "fail"
    assert "utility-1" in r.message and "ups-2" in r.message and "panel-4" not in r.message
    # Tightest = highest load/capacity: UPS 442.9/420 = 1.055 > utility 1542.9/1520 = 1.015.
    assert (r.value, r.limit) == (pytest.approx(442.9), 420.0)


def test_upstream_parent_cycle_does_not_hang():
    sources = (source(1, 100.0, 0.0, parent_id=2), source(2, 100.0, 0.0, parent_id=1))
    c = ctx(pdus=(pdu("A", source=1, i=1), pdu("B", source=1, i=2)), sources=sources)
    r = rule(check_placement(c, Placement(H100)), "POWER_UPSTREAM")
    assert r.status == "ok" and r.value == pytest.approx(10.2)


def test_no_sources():
    r = rule(check_rack(ctx()), "POWER_UPSTREAM")
    assert (r.status, r.message) == ("ok", "no upstream sources recorded")


# --- POWER_SITE ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utility", "status"),
    [(1040.8, "ok"), (1040.81, "ok"), (1040.79, "fail"), (None, "ok")],
    ids=["at-limit-1000+40.8kW", "under-limit", "over-limit", "unlimited"],
)
def test_site_at_under_over(utility, status):
    c = ctx(site=site(utility_capacity_kw=utility, other_load_kw=1000.0))
    r = rule(check_placement(c, Placement(H100, quantity=4)), "POWER_SITE")
    assert r.status == status
    assert r.value == pytest.approx(1040.8) and r.limit == utility
    if utility is None:
        assert "unlimited" in r.message


# --- PSU_FEED_LOSS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "status", "demand", "powered"),
    [
        (A100, "ok", 6.5, 9.0),  # 3 x 3.0 = 9.0 >= 6.5, P* [S3]
        (H100, "warn", 10.2, 9.9),  # 3 x 3.3 = 9.9 < 10.2, P [S1]
        (H200, "warn", 10.2, 9.9),  # as H100, P [S1]
        (B200, "warn", 14.3, 9.9),  # 3 x 3.3 = 9.9 < 14.3, P [S2]
        (B300, "ok", 14.5, 19.2),  # 6 x 3.2 = 19.2 >= 14.5, P* [S4]
        (GB200, "ok", 132.0, 132.0),  # 24 x 5.5 = 132 (N+N shelves), S [S12][S22]
        (HGX, "warn", 14.0, 8.4),  # 3 x 2.8 = 8.4 < 14.0 (3+3 FTR degrades), T [S14]
        (CPU2U, "ok", 1.5, 1.5),  # 1 x 1.5 (1+1)
    ],
    ids=[
        "A100-ref1.1-yes",
        "H100-ref1.1-no",
        "H200-ref1.1-no",
        "B200-ref1.1-no",
        "B300-ref1.1-yes",
        "GB200-NN",
        "HGX-FTR",
        "CPU-1+1",
    ],
)
def test_psu_feed_loss_ref_1_1_column(model, status, demand, powered):
    r = rule(check_placement(ctx(), Placement(model)), "PSU_FEED_LOSS")
    assert r.status == status
    assert r.value == pytest.approx(demand) and r.limit == pytest.approx(powered)


def test_psu_feed_loss_gb300_peak_exceeds_shelves():
    # GB300 155 kW peak (P* [S11]) > 132 kW of N+N shelves: runs degraded, warn (never fail).
    r = rule(check_placement(ctx(), Placement(GB300)), "PSU_FEED_LOSS")
    assert r.status == "warn"


@pytest.mark.parametrize(
    ("rating_kw", "status"),
    [(10.2 / 3, "ok"), (10.2 / 3 + 0.01, "ok"), (10.2 / 3 - 0.01, "warn")],
    ids=["at-limit-3xPSU=10.2kW", "under-limit", "over-limit"],
)
def test_psu_feed_loss_at_under_over(rating_kw, status):
    from dataclasses import replace

    r = rule(check_placement(ctx(), Placement(replace(H100, psu_rating_kw=rating_kw))), "PSU_FEED_LOSS")
    assert r.status == status


def test_psu_feed_loss_lists_each_model_and_never_fails():
    c = ctx(nodes=stack(A100, 2))
    result = check_placement(c, Placement(B200, quantity=2))
    r = rule(result, "PSU_FEED_LOSS")
    assert r.status == "warn" and "dgx-b200" in r.message and "dgx-a100" in r.message
    assert r.value == 14.3  # the worst model
    assert "PSU_FEED_LOSS" not in result.failing


def test_psu_feed_loss_empty_rack_ok():
    assert rule(check_rack(ctx()), "PSU_FEED_LOSS").status == "ok"
