"""Power retrofits re-checked by the engine on engine contexts (planner.retrofits.retrofit_options)."""

import pytest

from planner.engine.costs import RetrofitConfig
from planner.retrofits import retrofit_options
from tests.engine import builders as b

CFG = RetrofitConfig()


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
