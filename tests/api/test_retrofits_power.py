"""Power retrofits re-checked by the engine on engine contexts (planner.retrofits.retrofit_options)."""

import pytest

from planner.engine.costs import RetrofitConfig
from planner.retrofits import retrofit_options as _retrofit_options
from tests.engine import builders as b

CFG = RetrofitConfig()


def retrofit_options(ctx, **kw):
    """Engine contexts only (no database): the site's busways given, none unless the test says."""
    return _retrofit_options(ctx, **{"busways": (), **kw})


def _kinds(options):
    return {o["kind"]: o for o in options}


def test_upstream_shortfall_resolved_by_engine_recheck():
    # UPS 50 kW feeds both sides; 4 x DGX B200 = 57.2 kW > 50: POWER_UPSTREAM fails, shortfall 7.2 kW.
    # PDUs 2 x 36.228 = 72.46 kW per side: POWER_RACK passes, so the PDU replacement does not apply.
    pdus = tuple(b.pdu(side, source=1, i=i) for i, side in enumerate("AABB", start=1))
    ctx = b.ctx(pdus=pdus, sources=(b.source(1, 50.0),))
    options = retrofit_options(ctx, extra=((b.B200, 4),), config=CFG)
    first = options[0]
    assert first["kind"] == "upstream_capacity"
    assert first["resolves"] == ["POWER_UPSTREAM"] and first["still_failing"] == []
    assert first["added_kw"] == pytest.approx(7.2)
    assert first["capex_usd"] is None and "ups_usd_per_kw" in first["notes"]
    assert "re-checked by the engine" in first["notes"]
    assert not _kinds(options)["replace_pdus"]["applicable"]


def test_utility_binding_needs_a_utility_upgrade_with_transformer_lead_time():
    # utility 100 kW, other racks 50 kW: 50 + 57.2 = 107.2 > 100, POWER_SITE fails, 7.2 kW short
    ctx = b.ctx(site=b.site(utility_capacity_kw=100.0, other_load_kw=50.0))
    options = retrofit_options(ctx, extra=((b.B200, 4),), config=CFG)
    first = options[0]
    assert first["kind"] == "utility_upgrade" and first["resolves"] == ["POWER_SITE"]
    assert first["added_kw"] == pytest.approx(7.2)
    assert first["lead_time_weeks"] == 128.0 and first["capex_usd"] is None


def test_legacy_pdus_replaced_and_rechecked():
    # one 208 V 30 A three-phase PDU per side: 208 x 30 x sqrt(3) x 0.8 / 1000 = 8.646 kW < 57.2 kW
    ctx = b.ctx(pdus=(b.pdu("A", v=208.0, a=30.0, i=1), b.pdu("B", v=208.0, a=30.0, i=2)))
    options = retrofit_options(ctx, extra=((b.B200, 4),), config=CFG)
    first = options[0]
    assert first["kind"] == "replace_pdus" and first["resolves"] == ["POWER_RACK"]
    assert first["pdus_per_side"] == 2  # ceil(57.2 / 36.228) = ceil(1.579)
    assert not any(o["recommended"] for o in options if not o["resolves"])
    # too small a target PDU (230 V 16 A single-phase = 2.944 kW): still sized, and the re-check confirms it
    small = RetrofitConfig.from_overrides(
        {"pdu_target_voltage_v": 230, "pdu_target_current_a": 16, "pdu_target_phases": 1}
    )
    option = _kinds(retrofit_options(ctx, extra=((b.B200, 4),), config=small))["replace_pdus"]
    assert option["pdus_per_side"] == 20  # ceil(57.2 / 2.944) = ceil(19.43)
    assert option["resolves"] == ["POWER_RACK"]


def test_pdu_replacement_leaves_an_undersized_ups_failing():
    # legacy PDUs on a 50 kW UPS: POWER_RACK (8.646 < 57.2) and POWER_UPSTREAM (57.2 > 50) both fail;
    # the engine's re-check of each option resolves its own rule only
    pdus = (b.pdu("A", v=208.0, a=30.0, source=1, i=1), b.pdu("B", v=208.0, a=30.0, source=1, i=2))
    ctx = b.ctx(pdus=pdus, sources=(b.source(1, 50.0),))
    kinds = _kinds(retrofit_options(ctx, extra=((b.B200, 4),), config=CFG))
    assert kinds["replace_pdus"]["resolves"] == ["POWER_RACK"]
    assert kinds["replace_pdus"]["still_failing"] == ["POWER_UPSTREAM"]
    assert kinds["upstream_capacity"]["resolves"] == ["POWER_UPSTREAM"]
    assert kinds["upstream_capacity"]["still_failing"] == ["POWER_RACK"]


# --- add PDUs on existing sources, busway tap-offs, combined plans (issue 14 item 2) -------------------

# one 208 V 30 A three-phase PDU at the 0.8 continuous derating (reference §4.4 / §4.6, S [S33]):
# usable_kw = V x A x sqrt(3) x derating x PF / 1000 = 208 x 30 x 1.7321 x 0.8 x 1.0 / 1000 = 8.646 kW
LEGACY_PDU_KW = 208 * 30 * 3**0.5 * 0.8 * 1.0 / 1000
# 415 V 63 A three-phase: 415 x 63 x 1.7321 x 0.8 / 1000 = 36.228 kW (§4.6)
TARGET_PDU_KW = 415 * 63 * 3**0.5 * 0.8 / 1000
B200_X4_KW = 4 * 14.3  # 57.2 kW (DGX B200 max power, §1.1 P [S2])


def _legacy(source=None, **kw):
    pdus = (b.pdu("A", v=208.0, a=30.0, source=source, i=1), b.pdu("B", v=208.0, a=30.0, source=source, i=2))
    return b.ctx(pdus=pdus, **kw)


def test_worked_pdu_figures():
    # the §4.6 table: 208 V 3-phase 30 A at 80 % = 8.646 kW, 415 V 3-phase 63 A at 80 % = 36.228 kW
    assert abs(LEGACY_PDU_KW - 8.646) < 1e-3
    assert abs(TARGET_PDU_KW - 36.228) < 1e-3


def test_add_pdus_on_a_source_with_headroom():
    # UPS 200 kW, 20 kW of other racks: headroom 180 kW >= 57.2 kW. Per side: 8.646 kW now, add
    # n = ceil((57.2 - 8.646) / 8.646) = ceil(5.616) = 6 -> 7 x 8.646 = 60.52 kW >= 57.2 kW
    ctx = _legacy(source=1, sources=(b.source(1, 200.0, 20.0),))
    option = _kinds(retrofit_options(ctx, extra=((b.B200, 4),), config=CFG))["add_pdus"]
    assert option["applicable"] and option["resolves"] == ["POWER_RACK"] and option["still_failing"] == []
    assert option["pdus_added_per_side"] == {"A": 6, "B": 6}
    assert option["pdu_usable_kw"] == pytest.approx(LEGACY_PDU_KW)
    assert "180.00 kW headroom" in option["notes"] and "re-checked by the engine" in option["notes"]
    assert option["capex_usd"] is None and "pdu_addition_usd_per_pdu" in option["notes"]
    priced = RetrofitConfig.from_overrides({"pdu_addition_usd_per_pdu": 800})
    option = _kinds(retrofit_options(ctx, extra=((b.B200, 4),), config=priced))["add_pdus"]
    assert option["capex_usd"] == pytest.approx(12 * 800.0)  # 6 per side x 2 sides x $800 (configured)
    # one B200 (14.3 kW): ceil((14.3 - 8.646) / 8.646) = ceil(0.654) = 1 more per side
    option = _kinds(retrofit_options(ctx, extra=((b.B200, 1),), config=CFG))["add_pdus"]
    assert option["pdus_added_per_side"] == {"A": 1, "B": 1} and option["resolves"] == ["POWER_RACK"]


def test_add_pdus_not_offered_without_source_headroom():
    # UPS 60 kW with 10 kW other: headroom 50 kW < 57.2 kW (POWER_UPSTREAM fails too: 67.2 > 60)
    ctx = _legacy(source=1, sources=(b.source(1, 60.0, 10.0),))
    kinds = _kinds(retrofit_options(ctx, extra=((b.B200, 4),), config=CFG))
    assert not kinds["add_pdus"]["applicable"] and "50.00 kW headroom" in kinds["add_pdus"]["why_not"]
    assert not kinds["busway_tap_off"]["applicable"] and "no busway" in kinds["busway_tap_off"]["why_not"]


def _busway(sid, capacity_kw, other_kw, parent=None):
    return b.source(sid, capacity_kw, other_kw, parent_id=parent, kind="busway")


def test_busway_tap_off_refeeds_the_rack_from_a_busway_with_headroom():
    # legacy PDUs on a full 50 kW UPS: POWER_RACK (8.646 < 57.2) and POWER_UPSTREAM (57.2 > 50) fail.
    # Busway 10 (300 kW, 100 kW other) under UPS 11 (1,000 kW, 400 kW other): headroom
    # min(300 - 100, 1000 - 400) = 200 kW >= 57.2. Re-fed from tap-offs with ceil(57.2 / 36.228) = 2 x 415 V
    # 63 A per side, the rack leaves UPS 1: both rules resolved by the engine's re-check.
    ctx = _legacy(source=1, sources=(b.source(1, 50.0),))
    chain = (_busway(10, 300.0, 100.0, parent=11), b.source(11, 1000.0, 400.0))
    options = retrofit_options(ctx, extra=((b.B200, 4),), config=CFG, busways=(chain,))
    tap = _kinds(options)["busway_tap_off"]
    assert tap["applicable"] and tap["resolves"] == ["POWER_RACK", "POWER_UPSTREAM"] and tap["still_failing"] == []
    assert tap["pdus_per_side"] == 2 and tap["busways"] == ["busway-10", "busway-10"]
    assert "200.00 kW headroom" in tap["notes"] and "S141c" in tap["notes"]
    assert any("single point of failure" in p for p in tap["prerequisites"])
    assert tap["capex_usd"] is None and "busway_tap_off_usd_each" in tap["notes"] and tap["lead_time_weeks"] is None
    assert options[0]["kind"] == "busway_tap_off"  # the only option resolving both
    # priced: 4 tap-offs x $2,000 + 4 PDUs x $1,500 = $14,000 (configured)
    priced = RetrofitConfig.from_overrides({"busway_tap_off_usd_each": 2000, "pdu_replacement_usd_per_pdu": 1500})
    tap = _kinds(retrofit_options(ctx, extra=((b.B200, 4),), config=priced, busways=(chain,)))["busway_tap_off"]
    assert tap["capex_usd"] == pytest.approx(4 * 2000.0 + 4 * 1500.0)
    # two busways: side A on the one with more headroom, B on the other
    other = (_busway(12, 100.0, 0.0),)
    tap = _kinds(retrofit_options(ctx, extra=((b.B200, 4),), config=CFG, busways=(chain, other)))["busway_tap_off"]
    assert tap["busways"] == ["busway-10", "busway-12"]  # 200 kW then 100 kW headroom
    # a busway with 40 kW headroom (100 - 60) is too small for 57.2 kW
    small = (_busway(13, 100.0, 60.0),)
    tap = _kinds(retrofit_options(ctx, extra=((b.B200, 4),), config=CFG, busways=(small,)))["busway_tap_off"]
    assert not tap["applicable"] and "busway-13 40.00 kW" in tap["why_not"]


def test_combined_plan_resolves_power_and_cooling_together():
    # legacy PDUs and open aisles (row limit 10 kW, DESIGN default): 4 x B200 fail POWER_RACK (57.2 > 8.646)
    # and COOLING_AIR_RACK (57.2 kW air > 10 kW). No single option resolves both; the combination of the
    # PDU replacement (2 x 36.228 kW per side) and an active rear door (57.2 kW <= 75 kW, §3 [S46]) does.
    ctx = _legacy(row=b.row())
    options = retrofit_options(ctx, extra=((b.B200, 4),), config=CFG)
    failing = {"POWER_RACK", "COOLING_AIR_RACK"}
    first = options[0]
    assert first["kind"] == "combined" and first["combines"][0] in ("replace_pdus", "add_pdus")
    assert set(first["resolves"]) == failing and first["still_failing"] == [] and first["resolves_all_failing"]
    assert "re-checked by the engine with both retrofits" in first["notes"]
    combined = [o for o in options if o["kind"] == "combined"]
    singles = [o for o in options if o["kind"] != "combined" and o["applicable"]]
    assert combined and all(not o["resolves_all_failing"] for o in singles)
    # every complete combination before every partial option; nothing resolving nothing is recommended
    last_full = max(i for i, o in enumerate(options) if o["resolves_all_failing"])
    first_partial = min(i for i, o in enumerate(options) if not o["resolves_all_failing"])
    assert last_full < first_partial
    assert not any(o["recommended"] and not o["resolves"] for o in options)
    for o in combined:
        assert o["combines"][0] in POWER and o["combines"][1] not in POWER


POWER = ("replace_pdus", "add_pdus", "busway_tap_off", "upstream_capacity", "utility_upgrade")


def test_target_load_is_checked_like_an_order():
    # ?target_kw=57.2 on the same legacy rack: one air-cooled 57.2 kW load, failing the same two rules
    ctx = _legacy(row=b.row())
    options = retrofit_options(ctx, target_kw=B200_X4_KW, config=CFG)
    first = options[0]
    assert first["kind"] == "combined" and set(first["resolves"]) == {"POWER_RACK", "COOLING_AIR_RACK"}
    pdus = _kinds(options)["replace_pdus"]
    assert pdus["resolves"] == ["POWER_RACK"] and pdus["pdus_per_side"] == 2
    # a target the rack carries: nothing fails, nothing is offered as resolving
    clean = retrofit_options(b.ctx(), target_kw=5.0, config=CFG)
    assert all(o["resolves"] == [] and not o["recommended"] for o in clean)
    assert not any(o["kind"] == "combined" for o in clean)
