"""Retrofit advice (planner/engine/retrofit.py) and its defaults (planner/engine/costs.py).

Figures come from /work/shared/reference/engineering.md: §6 planner bands, §3 technology capacities,
§4.3 fluid properties at 30 C (water rho 0.9956 kg/L, cp 4.180 kJ/(kg K); PG25 1.0149, 3.945),
§7.1 PUE (air 1.54 [S26], DLC 1.13 [S22], immersion 1.10 [S47]), §7.3 retrofit $2,000/kW [S54].
Expected values are recomputed by hand in the comments.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.engine.costs import DEFAULT, FLUIDS_30C, RetrofitConfig
from planner.engine.retrofit import (
    KINDS,
    POWER_KINDS,
    RetrofitInput,
    RetrofitOption,
    advise_retrofits,
    applicable_options,
    flow_lpm,
    recommended_band,
    required_w_class_c,
    size_cdu,
)

AIR_RACK = "COOLING_AIR_RACK"
LIQUID = "COOLING_LIQUID"


def by_kind(options: tuple[RetrofitOption, ...]) -> dict[str, RetrofitOption]:
    return {o.kind: o for o in options}


def air_rack(kw: float, **kw_args) -> RetrofitInput:
    """An air-cooled rack (air heat = IT load) failing the rack air check."""
    return RetrofitInput(**{"target_kw": kw, "failing_codes": (AIR_RACK,), "hardware_liquid_capable": False, **kw_args})


# --- §6 planner bands: at, just under and just over each edge ----------------------------------------

EPS = 1e-6


@pytest.mark.parametrize(
    ("rack_kw", "kinds"),
    [
        (0.0, ()),
        (10.0 - EPS, ()),
        (10.0, ()),  # <= 10: open-aisle air
        (10.0 + EPS, ("containment",)),
        (20.0 - EPS, ("containment",)),
        (20.0, ("containment",)),  # > 10 to <= 20
        (20.0 + EPS, ("containment", "in_row", "rear_door_passive")),
        (35.0 - EPS, ("containment", "in_row", "rear_door_passive")),
        (35.0, ("containment", "in_row", "rear_door_passive")),  # > 20 to <= 35
        (35.0 + EPS, ("rear_door_active", "direct_liquid")),
        (60.0 - EPS, ("rear_door_active", "direct_liquid")),
        (60.0, ("rear_door_active", "direct_liquid")),  # > 35 to <= 60
        (60.0 + EPS, ("direct_liquid",)),
        (150.0 - EPS, ("direct_liquid",)),
        (150.0, ("direct_liquid",)),  # > 60 to <= 150
        (150.0 + EPS, ("direct_liquid", "immersion")),  # > 150
        (400.0, ("direct_liquid", "immersion")),
    ],
)
def test_recommended_band_edges(rack_kw, kinds):
    assert recommended_band(rack_kw).kinds == kinds


def test_recommended_band_text_and_limits():
    band = recommended_band(100.0)
    # §6: "DLC with CDU (plan residual air 20-30 %, or ~13 % for NVL72)"
    assert band.lower_kw == 60.0 and band.upper_kw == 150.0
    assert "20 %-30 %" in band.text and "13 %" in band.text
    assert recommended_band(151.0).upper_kw is None


def test_recommended_band_follows_config():
    cfg = RetrofitConfig.from_overrides({"band_open_air_max_kw": 8.0})
    assert recommended_band(9.0, cfg).kinds == ("containment",)
    assert recommended_band(9.0).kinds == ()


@pytest.mark.parametrize(
    ("rack_kw", "recommended_kinds"),
    [
        # air-cooled hardware, so direct_liquid is not applicable and never flagged recommended
        (10.0, set()),
        (10.0 + EPS, {"containment"}),
        (20.0, {"containment"}),
        (20.0 + EPS, {"containment", "in_row", "rear_door_passive"}),  # containment still <= 25 kW ceiling
        (35.0, {"in_row", "rear_door_passive"}),  # 35 > 25 kW contained ceiling: containment not applicable
        (35.0 + EPS, {"rear_door_active"}),
        (60.0, {"rear_door_active"}),
        (60.0 + EPS, set()),  # DLC band, but the hardware is air-only
    ],
)
def test_recommended_flag_on_options_at_band_edges(rack_kw, recommended_kinds):
    options = advise_retrofits(air_rack(rack_kw))
    assert {o.kind for o in options if o.recommended} == recommended_kinds


# --- §3 capacities: each option at, just under and just over its ceiling ----------------------------


@pytest.mark.parametrize(
    ("kind", "edge_kw", "source"),
    [
        ("containment", 25.0, "§3 contained air ceiling ~25-30 kW [S65], lower end = DESIGN contained default"),
        ("rear_door_passive", 35.0, "§3 passive RDHx up to ~35 kW [S47]"),
        ("in_row", 50.0, "§3 in-row 10-50 kW per unit [S45]"),
        ("rear_door_active", 75.0, "§3 active RDHx 40-75 kW, HPE families to 75 kW [S48]"),
        ("immersion", 250.0, "§3 two-phase immersion 200-250 kW per tank [S47]"),
    ],
)
def test_option_ceiling(kind, edge_kw, source):
    for kw, expected in ((edge_kw - EPS, True), (edge_kw, True), (edge_kw + EPS, False)):
        option = by_kind(advise_retrofits(air_rack(kw)))[kind]
        assert option.applicable is expected, (kind, kw, source)
        if not expected:
            assert option.why_not and option.capex_usd is None and option.resolves == ()


@pytest.mark.parametrize(
    ("kw", "applicable", "phase"),
    [
        (100.0 - EPS, False, None),  # below the per-tank band 100-150 kW (§3 [S47])
        (100.0, True, "single-phase"),
        (150.0, True, "single-phase"),
        (150.0 + EPS, True, "two-phase"),  # two-phase 200-250 kW; PFAS note
        (250.0, True, "two-phase"),
    ],
)
def test_immersion_band(kw, applicable, phase):
    option = by_kind(advise_retrofits(air_rack(kw)))["immersion"]
    assert option.applicable is applicable
    if applicable:
        assert phase in option.notes
        # capex: $2,000/kW (liquid retrofit, S [S54]) x whole rack, e.g. 100 kW -> 200,000
        assert option.capex_usd == pytest.approx(2000.0 * kw)
        assert option.pue_after == pytest.approx(1.10)  # partial PUE 1.03-1.10, conservative end [S47]
        assert any("floor rated for a filled tank" in p for p in option.prerequisites)
    if phase == "two-phase":
        assert "PFAS" in option.notes


@pytest.mark.parametrize(
    ("air_kw", "family"),
    [
        (14.0, "14-35 kW"),
        (35.0, "14-35 kW"),
        (35.0 + EPS, "35-55 kW"),
        (55.0, "35-55 kW"),
        (55.0 + EPS, "55-75 kW"),
        (75.0, "55-75 kW"),
    ],
)
def test_active_door_family(air_kw, family):
    # HPE/Motivair active door families 14-35, 35-55, 55-75 kW (P* [S48])
    option = by_kind(advise_retrofits(air_rack(air_kw)))["rear_door_active"]
    assert f"door family rated {family}" in option.notes


# --- direct liquid: CDU sizing, capex, PUE, energy --------------------------------------------------


def test_dlc_60kw_worked_example():
    inp = RetrofitInput(
        target_kw=60.0,
        liquid_heat_kw=52.2,  # node liquid fraction 0.87 (the GB200 NVL72 share, P* [S10])
        air_heat_kw=7.8,
        failing_codes=(LIQUID, AIR_RACK),
        hardware_liquid_capable=True,
        energy_price_per_kwh=0.10,
        carbon_kg_per_kwh=0.4,
    )
    options = advise_retrofits(inp)
    dlc = options[0]
    assert dlc.kind == "direct_liquid"
    assert dlc.resolves == (LIQUID, AIR_RACK)  # residual 7.8 kW <= 10 kW open-aisle limit
    assert dlc.resolves_all_failing_cooling
    # capex 2000 $/kW x 52.2 kW liquid = 104,400 (S [S54])
    assert dlc.capex_usd == pytest.approx(104_400.0)
    # flow: 52.2 x 60 / (0.9956 x 4.180 x 10) = 3132 / 41.616 = 75.26 L/min (§4.3)
    assert dlc.cdu is not None
    assert dlc.cdu.flow_lpm == pytest.approx(75.26, rel=1e-3)
    assert dlc.cdu.liquid_kw == 52.2 and dlc.cdu.residual_air_kw == 7.8
    # PUE 1.54 (no design PUE, S [S26]) -> 1.13 (S [S22])
    assert dlc.pue_after == pytest.approx(1.13)
    # 60 x 8760 x (1.13 - 1.54) x 0.10 = -21,549.6 $/year; x 0.4 kg/kWh instead = -86,198.4 kg/year
    assert dlc.annual_energy_cost_delta == pytest.approx(-21_549.6)
    assert dlc.annual_co2_kg_delta == pytest.approx(-86_198.4)
    assert "facility water W32 or colder (supply <= 32 C)" in dlc.prerequisites[0]  # default class


@pytest.mark.parametrize(
    ("liquid_kw", "fluid", "dt_c", "expected_lpm"),
    [
        # water 30 C: rho*cp = 0.9956 x 4.180 = 4.1616 kJ/(L K)
        (52.2, "water", 10.0, 75.26),  # 3132 / 41.616
        (115.0, "water", 10.0, 165.80),  # 6900 / 41.616
        (1.0, "water", 10.0, 1.4418),  # 60 / 41.616
        # PG25 30 C: 1.0149 x 3.945 = 4.0038 kJ/(L K) -> 4.6 % more flow than the 4.186 form (§4.3)
        (52.2, "pg25", 10.0, 78.23),  # 3132 / 40.038
        (100.0, "pg25", 5.0, 299.72),  # 6000 / 20.019
    ],
)
def test_flow_lpm_table(liquid_kw, fluid, dt_c, expected_lpm):
    assert flow_lpm(liquid_kw, fluid, dt_c) == pytest.approx(expected_lpm, rel=1e-3)


def test_fluid_properties_match_reference():
    assert (FLUIDS_30C["water"].rho_kg_per_l, FLUIDS_30C["water"].cp_kj_per_kg_k) == (0.9956, 4.180)
    assert (FLUIDS_30C["pg25"].rho_kg_per_l, FLUIDS_30C["pg25"].cp_kj_per_kg_k) == (1.0149, 3.945)


@pytest.mark.parametrize(
    ("inp", "liquid_kw", "residual_kw", "capex_usd"),
    [
        # nodes' own split wins
        (RetrofitInput(target_kw=60, liquid_heat_kw=52.2, air_heat_kw=7.8), 52.2, 7.8, 104_400.0),
        # rack-scale, split unknown: 13 % residual (HPE 17/132 kW, P* [S10]): 120 x 0.87 = 104.4; 120 x 0.13 = 15.6
        (RetrofitInput(target_kw=120, rack_scale=True, hardware_liquid_capable=True), 104.4, 15.6, 208_800.0),
        # general, split unknown: 20-30 % residual [S50]: CDU at 80 % (100 -> 80 kW), air side at 30 % (30 kW)
        (RetrofitInput(target_kw=100, hardware_liquid_capable=True), 80.0, 30.0, 160_000.0),
    ],
)
def test_cdu_split(inp, liquid_kw, residual_kw, capex_usd):
    cdu = size_cdu(inp)
    assert cdu.liquid_kw == pytest.approx(liquid_kw)
    assert cdu.residual_air_kw == pytest.approx(residual_kw)
    dlc = by_kind(advise_retrofits(inp))["direct_liquid"]
    assert dlc.capex_usd == pytest.approx(capex_usd)  # 2000 $/kW x liquid kW


@pytest.mark.parametrize(
    ("inp", "air_prereq"),
    [
        # residual 15.6 kW > 10 open-aisle -> containment (ceiling 25) is a prerequisite
        (RetrofitInput(target_kw=120, rack_scale=True, hardware_liquid_capable=True), "containment for 15.6 kW"),
        # residual 30 kW > 25 contained ceiling -> passive rear door (<= 35)
        (RetrofitInput(target_kw=100, hardware_liquid_capable=True), "passive rear door for 30.0 kW"),
        # residual 0.3 x 150 = 45 kW > 35 -> active rear door (<= 75)
        (RetrofitInput(target_kw=150, hardware_liquid_capable=True), "active rear door for 45.0 kW"),
        # already contained row (limit 25): 15.6 kW residual needs nothing more
        (
            RetrofitInput(target_kw=120, rack_scale=True, hardware_liquid_capable=True, containment="hot_aisle"),
            None,
        ),
    ],
)
def test_dlc_residual_air_prerequisite(inp, air_prereq):
    inp = RetrofitInput(**{**_fields(inp), "failing_codes": (LIQUID, AIR_RACK)})
    dlc = by_kind(advise_retrofits(inp))["direct_liquid"]
    assert dlc.applicable and AIR_RACK in dlc.resolves
    has = [p for p in dlc.prerequisites if "residual air" in p]
    if air_prereq is None:
        assert has == []
    else:
        assert any(air_prereq in p for p in has), dlc.prerequisites
        assert "capex excludes" in dlc.notes  # the air-side measure has no sourced cost


def test_dlc_not_applicable_when_residual_exceeds_every_air_option():
    # 0.30 x 300 kW = 90 kW residual > 75 kW active door
    dlc = by_kind(advise_retrofits(RetrofitInput(target_kw=300, hardware_liquid_capable=True)))["direct_liquid"]
    assert not dlc.applicable and "residual air 90.0 kW" in dlc.why_not


@pytest.mark.parametrize(
    ("node_max_c", "w_class"),
    [
        (None, 32.0),  # planner default W32
        (45.0, 45.0),  # GB300 NVL72 supply 25-45 C (Lenovo, P* [S11]) -> W45
        (44.9, 40.0),
        (40.0, 40.0),
        (35.0, 32.0),
        (32.0, 32.0),
        (27.0, 27.0),
        (20.0, 17.0),
        (17.0, 17.0),
        (15.0, 15.0),  # colder than W17: the node limit itself
    ],
)
def test_required_w_class(node_max_c, w_class):
    assert required_w_class_c(node_max_c) == w_class


def test_w_class_prerequisite_text_and_warm_facility():
    inp = RetrofitInput(
        target_kw=132,
        liquid_heat_kw=115,
        air_heat_kw=17,
        liquid_required=True,
        node_max_supply_temp_c=35.0,
        facility_supply_temp_c=34.0,
    )
    dlc = advise_retrofits(inp)[0]
    assert dlc.prerequisites[0].startswith("facility water W32 or colder (supply <= 32 C)")
    assert "facility supply 34 C is warmer than 32 C" in dlc.notes


# --- liquid by design (GB200 NVL72: 132 kW = 115 liquid + 17 air, P* [S10]) ---------------------------


def nvl72(**extra) -> RetrofitInput:
    base = dict(
        target_kw=132.0,
        liquid_heat_kw=115.0,
        air_heat_kw=17.0,
        failing_codes=(LIQUID, AIR_RACK, "POWER_RACK"),
        hardware_liquid_capable=True,
        liquid_required=True,
        rack_scale=True,
        node_max_supply_temp_c=45.0,
        energy_price_per_kwh=0.10,
    )
    base.update(extra)
    return RetrofitInput(**base)


def test_liquid_by_design_needs_direct_liquid():
    options = advise_retrofits(nvl72())
    kinds = by_kind(options)
    assert options[0].kind == "direct_liquid"
    dlc = options[0]
    # 17 kW residual > 10 kW open aisle -> containment prerequisite; then AIR_RACK resolved too
    assert dlc.resolves == (LIQUID, AIR_RACK) and dlc.resolves_all_failing_cooling
    assert dlc.capex_usd == pytest.approx(230_000.0)  # 2000 x 115
    assert dlc.cdu.flow_lpm == pytest.approx(165.80, rel=1e-3)  # 115 x 60 / 41.616
    # 132 x 8760 x (1.13 - 1.54) x 0.10 = -47,409.12 $/year
    assert dlc.annual_energy_cost_delta == pytest.approx(-47_409.12)
    assert dlc.annual_co2_kg_delta is None and "carbon" in dlc.notes
    assert "W45" in dlc.prerequisites[0]
    # power is not fixed by cooling: a prerequisite, never resolved
    assert any("POWER_RACK" in p for p in dlc.prerequisites)
    for kind in ("containment", "in_row", "rear_door_passive", "rear_door_active"):
        option = kinds[kind]
        assert option.applicable  # they can carry the 17 kW residual air
        assert LIQUID not in option.resolves and not option.resolves_all_failing_cooling
        assert "direct_liquid is still required" in option.notes
    assert not kinds["immersion"].applicable and "direct_liquid" in kinds["immersion"].why_not
    # no cooling option claims POWER_RACK; only the PDU replacement does, ranked after direct liquid (which
    # resolves 2 of the 3 failing codes and every cooling one)
    assert all("POWER_RACK" not in o.resolves for o in options if o.kind not in POWER_KINDS)
    assert kinds["replace_pdus"].resolves == ("POWER_RACK",)
    assert kinds["replace_pdus"].still_failing == (LIQUID, AIR_RACK)


def test_liquid_by_design_small_node_still_gets_direct_liquid():
    # an 8 kW liquid node: below the §6 DLC band, but liquid by design always needs DLC
    inp = RetrofitInput(target_kw=8.0, liquid_heat_kw=7.0, failing_codes=(LIQUID,), liquid_required=True)
    dlc = advise_retrofits(inp)[0]
    assert dlc.kind == "direct_liquid" and dlc.applicable and dlc.recommended
    assert dlc.capex_usd == pytest.approx(14_000.0)  # 2000 x 7
    assert dlc.resolves == (LIQUID,)


def test_immersed_rack_liquid_heat_is_not_cold_plates():
    # a rack already in a tank reports all its heat as liquid; immersion stays applicable (120 kW in 100-150)
    inp = RetrofitInput(
        target_kw=120.0,
        liquid_heat_kw=120.0,
        air_heat_kw=0.0,
        failing_codes=(LIQUID,),
        hardware_liquid_capable=False,
        existing_loop_kinds=("immersion",),
    )
    immersion = by_kind(advise_retrofits(inp))["immersion"]
    assert immersion.applicable and "already served by an immersion loop" in immersion.notes
    assert immersion.resolves == (LIQUID,)  # more tank capacity for the whole 120 kW
    # the same liquid heat without a tank means cold plates: no tank
    cold = RetrofitInput(target_kw=120.0, liquid_heat_kw=120.0, air_heat_kw=0.0, hardware_liquid_capable=True)
    assert not by_kind(advise_retrofits(cold))["immersion"].applicable


@pytest.mark.parametrize(
    ("hardware", "kw", "applicable"),
    [
        (False, 100.0, False),  # air-only hardware: DLC impossible
        (None, 35.0, False),  # unknown hardware at/below the §6 DLC band edge
        (None, 35.0 + EPS, True),
        (True, 5.0, True),  # known liquid-capable: always
    ],
)
def test_dlc_applicability(hardware, kw, applicable):
    inp = RetrofitInput(target_kw=kw, hardware_liquid_capable=hardware)
    dlc = by_kind(advise_retrofits(inp))["direct_liquid"]
    assert dlc.applicable is applicable
    if hardware is None and applicable:
        assert dlc.prerequisites[0].startswith("liquid-capable (cold-plate) hardware")


# --- costs: None when unsourced, configurable --------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("containment", "containment_capex_usd_per_rack"),
        ("in_row", "in_row_capex_usd_per_kw"),
        ("rear_door_passive", "rear_door_passive_capex_usd_per_rack"),
        ("rear_door_active", "rear_door_active_capex_usd_per_rack"),
    ],
)
def test_unsourced_costs_are_none_with_note(kind, key):
    option = by_kind(advise_retrofits(air_rack(18.0)))[kind]
    assert option.applicable and option.capex_usd is None
    assert f"no sourced cost; set {key}" in option.notes
    assert RetrofitConfig.source_of(key).startswith("unsourced")


def test_configured_costs_are_used():
    cfg = RetrofitConfig.from_overrides(
        {
            "containment_capex_usd_per_rack": 5_000,
            "in_row_capex_usd_per_kw": 1_000,
            "rear_door_passive_capex_usd_per_rack": 15_000,
            "rear_door_active_capex_usd_per_rack": 30_000,
        }
    )
    kinds = by_kind(advise_retrofits(air_rack(18.0), cfg))
    assert kinds["containment"].capex_usd == 5_000
    # in-row: 1000 $/kW x 18 kW + containment prerequisite 5000 = 23,000
    assert kinds["in_row"].capex_usd == pytest.approx(23_000)
    assert kinds["rear_door_passive"].capex_usd == 15_000
    assert kinds["rear_door_active"].capex_usd == 30_000
    assert [o.kind for o in advise_retrofits(air_rack(18.0), cfg)][:4] == [
        "containment",
        "rear_door_passive",
        "in_row",
        "rear_door_active",
    ]


# --- ordering --------------------------------------------------------------------------------------


def test_ordering_resolves_all_beats_cheaper_partial():
    # containment priced at 1 $ resolves only AIR_RACK; DLC (230,000 $) resolves LIQUID and AIR_RACK
    cfg = RetrofitConfig.from_overrides({"containment_capex_usd_per_rack": 1.0})
    options = advise_retrofits(nvl72(), cfg)
    assert options[0].kind == "direct_liquid"
    # then the partial ones resolving one code each: power first (POWER_RACK fails too), then the cheapest
    assert options[1].kind == "replace_pdus"
    assert options[2].kind == "containment"  # partial, cheapest known capex


def test_ordering_capex_none_last_then_pue():
    # unknown hardware, 120 kW, failing AIR_RACK: DLC 2000 x 96 = 192,000; immersion 2000 x 120 = 240,000
    inp = RetrofitInput(target_kw=120.0, failing_codes=(AIR_RACK,))
    kinds = [o.kind for o in advise_retrofits(inp)]
    assert kinds[:2] == ["direct_liquid", "immersion"]
    # equal capex (DLC at 2500 $/kW x 96 = 240,000): immersion's PUE 1.10 < 1.13 wins
    cfg = RetrofitConfig.from_overrides({"dlc_capex_usd_per_kw": 2500})
    assert [o.kind for o in advise_retrofits(inp, cfg)][:2] == ["immersion", "direct_liquid"]
    # 120 kW air heat is above every air-side ceiling: those come last, not applicable
    tail = advise_retrofits(inp)[2:]
    assert all(not o.applicable for o in tail)


def test_ordering_among_unknown_costs_follows_section_6():
    # 30 kW air-cooled: every applicable option is air-side with unknown cost and PUE 1.54;
    # §6 recommends in-row or passive door (20-35 band), then §3 order; containment (ceiling 25) n/a
    # (power options do not apply: no power rule fails, so they are listed last, not applicable)
    kinds = [o.kind for o in advise_retrofits(air_rack(30.0)) if o.kind not in POWER_KINDS]
    assert kinds == ["in_row", "rear_door_passive", "rear_door_active", "containment", "direct_liquid", "immersion"]


def test_not_applicable_listed_last_and_filter():
    options = advise_retrofits(air_rack(60.0))
    flags = [o.applicable for o in options]
    assert flags == sorted(flags, reverse=True)
    assert {o.kind for o in applicable_options(options)} == {"rear_door_active"}
    assert sorted(o.kind for o in options) == sorted(KINDS)


# --- other rules -------------------------------------------------------------------------------------


def test_containment_already_present():
    kinds = by_kind(advise_retrofits(air_rack(18.0, containment="cold_aisle")))
    assert not kinds["containment"].applicable
    assert "already has cold_aisle containment" in kinds["containment"].why_not
    assert not any("containment" in p for p in kinds["in_row"].prerequisites)


@pytest.mark.parametrize(
    ("deficit_kw", "resolves_room"),
    [(None, False), (18.0, True), (18.0 + EPS, False), (5.0, True)],
)
def test_room_air_claimed_only_with_known_deficit(deficit_kw, resolves_room):
    inp = air_rack(18.0, failing_codes=(AIR_RACK, "COOLING_AIR_ROOM"), room_air_deficit_kw=deficit_kw)
    kinds = by_kind(advise_retrofits(inp))
    # the door takes the rack's 18 kW off the room air
    assert ("COOLING_AIR_ROOM" in kinds["rear_door_passive"].resolves) is resolves_room
    assert "COOLING_AIR_ROOM" not in kinds["containment"].resolves  # containment adds no capacity
    if deficit_kw is None:
        assert "room air deficit unknown" in kinds["rear_door_passive"].notes


@pytest.mark.parametrize(
    ("design_pue", "price", "dlc_pue_after", "delta"),
    [
        (None, 0.10, 1.13, 100 * 8760 * (1.13 - 1.54) * 0.10),  # -35,916.0
        (1.30, 0.10, 1.13, 100 * 8760 * (1.13 - 1.30) * 0.10),  # -14,892.0
        (1.10, 0.10, 1.10, 0.0),  # site already below the liquid median: not made worse
        (1.30, None, 1.13, None),  # no price -> None with a note
    ],
)
def test_pue_and_energy_delta(design_pue, price, dlc_pue_after, delta):
    inp = RetrofitInput(
        target_kw=100,
        liquid_heat_kw=80,
        air_heat_kw=20,
        hardware_liquid_capable=True,
        design_pue=design_pue,
        energy_price_per_kwh=price,
    )
    options = by_kind(advise_retrofits(inp))
    dlc = options["direct_liquid"]
    assert dlc.pue_after == pytest.approx(dlc_pue_after)
    if delta is None:
        assert dlc.annual_energy_cost_delta is None and "no energy price" in dlc.notes
    else:
        assert dlc.annual_energy_cost_delta == pytest.approx(delta, abs=1e-6)
    # air-side options keep the air PUE: delta 0 (or None without price)
    door = options["rear_door_active"]
    assert door.pue_after == pytest.approx(design_pue or 1.54)
    assert door.annual_energy_cost_delta == (None if price is None else 0.0)


def test_floor_and_power_codes_become_prerequisites():
    inp = air_rack(30.0, failing_codes=(AIR_RACK, "FLOOR_UNIFORM", "POWER_RACK", "SPACE"))
    options = advise_retrofits(inp)
    assert by_kind(options)["replace_pdus"].resolves == ("POWER_RACK",)
    for option in applicable_options(options):
        if option.kind in POWER_KINDS:
            continue
        assert option.resolves == (AIR_RACK,)
        for code in ("FLOOR_UNIFORM", "POWER_RACK", "SPACE"):
            assert any(code in p for p in option.prerequisites), (option.kind, code)


def test_immersion_floor_prerequisite_uses_rack_load():
    # 1360 kg on 0.6 x 1.068 = 0.6408 m2 -> 2122 kg/m2 (GB200 figures §5.2, used only as numbers)
    inp = air_rack(120.0, floor_rated_load_kg_m2=1220.0, rack_weight_kg=1360.0, rack_footprint_m2=0.6408)
    immersion = by_kind(advise_retrofits(inp))["immersion"]
    assert "room rating 1220 kg/m2, current rack 2122 kg/m2" in immersion.prerequisites[0]


# --- input and config validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"target_kw": -1.0},
        {"target_kw": math.nan},
        {"target_kw": 10.0, "loop_fluid": "glycol"},
        {"target_kw": 10.0, "containment": "both"},
        {"target_kw": 10.0, "loop_delta_t_c": 0.0},
        {"target_kw": 10.0, "design_pue": 0.9},
    ],
)
def test_input_validation(bad):
    with pytest.raises(ValueError):
        RetrofitInput(**bad)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"containment_cost": 1}, "unknown retrofit config key"),
        ({"dlc_capex_usd_per_kw": "2000"}, "expected a number"),
        ({"dlc_capex_usd_per_kw": True}, "expected a number"),
        ({"pue_direct_liquid": 0.9}, "PUE"),
        ({"band_containment_max_kw": 40.0}, "strictly increasing"),
        ({"pue_air_fleet": None}, "may not be None"),
        ({"dlc_residual_air_fraction_max": 1.0}, "fraction"),
        ({"dlc_residual_air_fraction_min": 0.5}, "<= dlc_residual_air_fraction_max"),
        ({"dlc_default_w_class_c": 30}, "one of"),
        ({"tco_sensitivity_steps": [-1.5]}, "> -1"),
        ({"rear_door_active_families_kw": [[35, 14]]}, "ascending"),
        ({"immersion_min_kw": 200.0}, "immersion_min_kw"),
    ],
)
def test_config_validation(overrides, message):
    with pytest.raises(ValueError, match=message):
        RetrofitConfig.from_overrides(overrides)


def test_config_from_overrides_and_sources():
    cfg = RetrofitConfig.from_overrides(
        {"containment_capex_usd_per_rack": 4000, "tco_sensitivity_steps": [-0.1, 0, 0.1], "dlc_capex_usd_per_kw": None}
    )
    assert cfg.containment_capex_usd_per_rack == 4000.0
    assert cfg.tco_sensitivity_steps == (-0.1, 0.0, 0.1)
    assert cfg.dlc_capex_usd_per_kw is None
    assert RetrofitConfig.from_overrides({}) == DEFAULT
    assert RetrofitConfig.from_overrides(None) == DEFAULT
    for key in RetrofitConfig.config_keys():
        assert RetrofitConfig.source_of(key), key  # every default names its source
    assert "S54" in RetrofitConfig.source_of("dlc_capex_usd_per_kw")
    assert "S56" in RetrofitConfig.source_of("colo_usd_per_kw_month")
    assert "S26" in RetrofitConfig.source_of("pue_air_fleet")
    with pytest.raises(ValueError):
        RetrofitConfig.source_of("nope")


def test_dlc_without_cost_reports_none():
    cfg = RetrofitConfig.from_overrides({"dlc_capex_usd_per_kw": None})
    dlc = advise_retrofits(nvl72(), cfg)[0]
    assert dlc.kind == "direct_liquid" and dlc.capex_usd is None
    assert "no sourced cost; set dlc_capex_usd_per_kw" in dlc.notes


# --- properties --------------------------------------------------------------------------------------

CODES = (
    "COOLING_AIR_RACK",
    "COOLING_AIR_ROOM",
    "COOLING_LIQUID",
    "COOLING_FLOW",
    "COOLING_TEMPERATURE",
    "FLOOR_UNIFORM",
    "FLOOR_POINT",
    "POWER_RACK",
    "SPACE",
)
opt_float = lambda lo, hi: st.none() | st.floats(lo, hi, allow_nan=False)  # noqa: E731


@st.composite
def retrofit_inputs(draw):
    target = draw(st.floats(0, 400, allow_nan=False))
    liquid = draw(st.floats(0, 1)) * target
    return RetrofitInput(
        target_kw=target,
        liquid_heat_kw=liquid,
        air_heat_kw=draw(st.none() | st.just(target - liquid)),
        failing_codes=tuple(draw(st.lists(st.sampled_from(CODES), max_size=5))),
        containment=draw(st.sampled_from(("none", "cold_aisle", "hot_aisle"))),
        air_kw_per_rack_limit_kw=draw(opt_float(0, 60)),
        hardware_liquid_capable=draw(st.none() | st.booleans()),
        liquid_required=draw(st.booleans()),
        existing_loop_kinds=tuple(draw(st.lists(st.sampled_from(("crah", "in_row", "rear_door", "direct_liquid")))))
        if draw(st.booleans())
        else (),
        rack_scale=draw(st.booleans()),
        floor_rated_load_kg_m2=draw(opt_float(0, 3000)),
        rack_weight_kg=draw(opt_float(0, 3000)),
        rack_footprint_m2=draw(opt_float(0, 2)),
        loop_fluid=draw(st.sampled_from(("water", "pg25"))),
        loop_delta_t_c=draw(st.floats(1, 20)),
        facility_supply_temp_c=draw(opt_float(2, 50)),
        node_max_supply_temp_c=draw(opt_float(10, 60)),
        room_air_deficit_kw=draw(opt_float(0, 500)),
        design_pue=draw(opt_float(1.0, 3.0)),
        energy_price_per_kwh=draw(opt_float(0, 0.5)),
        carbon_kg_per_kwh=draw(opt_float(0, 1)),
        existing_pdus=tuple(draw(st.lists(st.tuples(st.sampled_from("AB"), st.floats(0, 50)), max_size=4))),
        source_headroom_kw=draw(opt_float(-50, 500)),
        busways=tuple(
            (f"bw-{i}", h) for i, h in enumerate(draw(st.lists(st.floats(-50, 500, allow_nan=False), max_size=3)))
        ),
    )


def primary_key(o: RetrofitOption) -> tuple:
    return (
        not o.applicable,
        not o.resolves,
        not o.resolves_all_failing,
        -len(o.resolves),
        not any(c.startswith("POWER_") for c in o.resolves),
        not o.resolves_all_failing_cooling,
        o.capex_usd is None,
        o.capex_usd or 0.0,
        o.pue_after if o.pue_after is not None else math.inf,
    )


@settings(max_examples=300, deadline=None)
@given(retrofit_inputs())
def test_property_never_raises_and_sorted(inp):
    options = advise_retrofits(inp)
    assert sorted(o.kind for o in options) == sorted(KINDS)
    for a, b in itertools.pairwise(options):
        assert primary_key(a) <= primary_key(b)
    failing_cooling = {c for c in inp.failing_codes if c.startswith("COOLING_")}
    for o in options:
        assert set(o.resolves) <= set(inp.failing_codes)
        assert set(o.resolves) | set(o.still_failing) == set(inp.failing_codes)
        assert not (o.recommended and not o.resolves)  # resolving nothing is never recommended
        if o.kind in POWER_KINDS:
            assert all(c.startswith("POWER_") for c in o.resolves)
            continue
        assert all(c.startswith("COOLING_") for c in o.resolves)
        if o.applicable:
            assert o.pue_after is not None and o.pue_after >= 1.0
            assert o.resolves_all_failing_cooling == failing_cooling.issubset(o.resolves)
            assert (o.annual_energy_cost_delta is None) == (inp.energy_price_per_kwh is None)
            if o.annual_energy_cost_delta is not None:
                assert o.annual_energy_cost_delta <= 1e-9  # no option makes PUE worse
        else:
            assert o.why_not and o.resolves == ()
        if inp.has_cold_plates and o.kind != "direct_liquid":
            assert "COOLING_LIQUID" not in o.resolves
        if o.kind == "direct_liquid" and o.applicable:
            assert o.cdu is not None and o.cdu.flow_lpm >= 0


def _fields(inp: RetrofitInput) -> dict:
    return {name: getattr(inp, name) for name in RetrofitInput.__dataclass_fields__}


# --- power retrofits (issue 14 item 2; reference §4.6, §16, §16.1) ----------------------------------

B200_X4_KW = 4 * 14.3  # 57.2 kW, DGX B200 §1.1 P [S2]
PDU_415_63_KW = 415 * 63 * 3**0.5 * 0.8 / 1000  # 36.228 kW (§4.6)


def legacy_power_rack(**kw) -> RetrofitInput:
    """4 x DGX B200 on 208 V 30 A 3-ph PDUs (8.65 kW per side): POWER_RACK fails, cooling passes."""
    base = {"target_kw": B200_X4_KW, "failing_codes": ("POWER_RACK",), "hardware_liquid_capable": False}
    return RetrofitInput(**{**base, **kw})


def test_power_rack_failure_puts_pdu_replacement_first():
    options = advise_retrofits(legacy_power_rack())
    first = options[0]
    assert first.kind == "replace_pdus" and first.applicable
    assert first.resolves == ("POWER_RACK",) and first.still_failing == () and first.resolves_all_failing
    # n = ceil(57.2 / 36.228) = ceil(1.579) = 2 per side
    assert first.pdus_per_side == 2
    assert first.pdu_usable_kw == pytest.approx(PDU_415_63_KW)
    assert first.capex_usd is None
    assert "unsourced" in first.notes and "pdu_replacement_usd_per_pdu" in first.notes
    assert first.lead_time_weeks is None
    # the cooling options resolve nothing here: never recommended, all after the PDU replacement
    for option in options[1:]:
        assert option.resolves == () and not option.recommended
    assert not any(o.recommended for o in options)


def test_pdu_replacement_sizing_edges_and_configured_cost():
    # exactly one PDU's usable kW -> 1 per side; just above -> 2
    assert by_kind(advise_retrofits(legacy_power_rack(target_kw=PDU_415_63_KW)))["replace_pdus"].pdus_per_side == 1
    assert (
        by_kind(advise_retrofits(legacy_power_rack(target_kw=PDU_415_63_KW + 0.01)))["replace_pdus"].pdus_per_side == 2
    )
    cfg = RetrofitConfig.from_overrides({"pdu_replacement_usd_per_pdu": 1500})
    option = by_kind(advise_retrofits(legacy_power_rack(), cfg))["replace_pdus"]
    assert option.capex_usd == pytest.approx(2 * 2 * 1500.0)  # 2 PDUs x 2 sides x $1,500
    # 400 V 32 A three-phase at 0.8: 400 x 32 x sqrt(3) x 0.8 / 1000 = 17.736 kW -> ceil(57.2 / 17.736) = 4
    cfg = RetrofitConfig.from_overrides({"pdu_target_voltage_v": 400, "pdu_target_current_a": 32})
    option = by_kind(advise_retrofits(legacy_power_rack(), cfg))["replace_pdus"]
    assert option.pdus_per_side == 4 and option.pdu_usable_kw == pytest.approx(17.736, rel=1e-4)
    with pytest.raises(ValueError):
        RetrofitConfig.from_overrides({"pdu_target_phases": 2})
    assert "§4.6" in RetrofitConfig.source_of("pdu_target_voltage_v")
    assert "unsourced" in RetrofitConfig.source_of("ups_usd_per_kw")


def test_upstream_and_utility_options():
    inp = legacy_power_rack(
        failing_codes=("POWER_UPSTREAM", "POWER_SITE"),
        upstream_loads=(("ups-1", "ups", 50.0, 57.2), ("panel-2", "panel", 100.0, 57.2)),
        site_load_kw=1057.2,
        utility_capacity_kw=1000.0,
    )
    kinds = by_kind(advise_retrofits(inp))
    assert not kinds["replace_pdus"].applicable  # POWER_RACK passes
    up = kinds["upstream_capacity"]
    assert up.resolves == ("POWER_UPSTREAM",) and up.still_failing == ("POWER_SITE",)
    assert up.added_kw == pytest.approx(7.2)  # 57.2 - 50 (panel-2 within capacity)
    assert up.capex_usd is None and "ups_usd_per_kw" in up.notes and up.lead_time_weeks is None
    util = kinds["utility_upgrade"]
    assert util.resolves == ("POWER_SITE",) and util.added_kw == pytest.approx(57.2)  # 1057.2 - 1000
    assert util.lead_time_weeks == 128.0 and "S141" in util.notes and util.capex_usd is None
    cfg = RetrofitConfig.from_overrides({"ups_usd_per_kw": 500})
    assert by_kind(advise_retrofits(inp, cfg))["upstream_capacity"].capex_usd == pytest.approx(7.2 * 500)


def test_an_over_capacity_panel_needs_switchgear_with_its_lead_time():
    # panel-2 carries 57.2 kW of 50 usable: new switchgear, "over one year" (§16.1, S [S141d]) = 52 weeks at
    # least; the UPS-only case above has no figure in weeks (null).
    inp = legacy_power_rack(failing_codes=("POWER_UPSTREAM",), upstream_loads=(("panel-2", "panel", 50.0, 57.2),))
    up = by_kind(advise_retrofits(inp))["upstream_capacity"]
    assert up.lead_time_weeks == 52.0 and "S141d" in up.notes and "S141e" in up.notes
    assert up.added_kw == pytest.approx(57.2 - 50.0)


def test_cooling_only_failure_ranks_no_power_option_first():
    options = advise_retrofits(air_rack(30.0))
    assert options[0].kind not in POWER_KINDS and options[0].resolves == (AIR_RACK,)
    for option in options:
        if option.kind in POWER_KINDS:
            assert not option.applicable and option.resolves == ()


def test_rack_failing_nothing_has_no_recommended_option():
    options = advise_retrofits(RetrofitInput(target_kw=30.0, hardware_liquid_capable=False))
    assert not any(o.recommended for o in options)
    assert all(o.resolves == () for o in options)


def test_power_and_cooling_failing_power_option_first():
    # open aisles: 57.2 kW air > 10 kW also fails COOLING_AIR_RACK; the PDU replacement and the active door
    # each resolve one of the two: power first (cooling does not help an unpowered rack)
    options = advise_retrofits(legacy_power_rack(failing_codes=("POWER_RACK", AIR_RACK)))
    assert options[0].kind == "replace_pdus" and options[0].still_failing == (AIR_RACK,)
    assert options[1].kind == "rear_door_active" and options[1].resolves == (AIR_RACK,)


def test_add_pdus_and_busway_sizing_pure():
    # side A 8.646 kW now (208 V 30 A 3-ph, §4.6): n = ceil((57.2 - 8.646) / 8.646) = 6; side B two PDUs,
    # 17.29 kW: n = ceil((57.2 - 17.29) / 8.646) = ceil(4.616) = 5
    legacy = 208 * 30 * 3**0.5 * 0.8 / 1000
    inp = legacy_power_rack(existing_pdus=(("A", legacy), ("B", legacy), ("B", legacy)), source_headroom_kw=100.0)
    add = by_kind(advise_retrofits(inp))["add_pdus"]
    assert add.applicable and add.resolves == ("POWER_RACK",)
    assert dict(add.pdus_added_per_side) == {"A": 6, "B": 5} and add.pdus_per_side == 6
    assert "100.00 kW headroom >= 57.20 kW" in add.notes
    # headroom 40 kW < 57.2: not offered
    short = by_kind(advise_retrofits(legacy_power_rack(existing_pdus=(("A", legacy),), source_headroom_kw=40.0)))
    assert not short["add_pdus"].applicable and "40.00 kW headroom" in short["add_pdus"].why_not
    # busways: the one with 30 kW headroom is too small, the 90 kW one feeds both sides
    tap = by_kind(advise_retrofits(legacy_power_rack(busways=(("big", 90.0), ("small", 30.0)))))["busway_tap_off"]
    assert tap.applicable and tap.busways == ("big", "big") and tap.pdus_per_side == 2
    assert tap.resolves == ("POWER_RACK",) and tap.lead_time_weeks is None and tap.capex_usd is None


def test_combine_sums_capex_and_takes_the_longer_lead_time():
    from planner.engine.retrofit_power import combine

    cfg = RetrofitConfig.from_overrides(
        {"pdu_replacement_usd_per_pdu": 1500, "rear_door_active_capex_usd_per_rack": 20000}
    )
    options = by_kind(advise_retrofits(legacy_power_rack(failing_codes=("POWER_RACK", AIR_RACK)), cfg))
    plan = combine(options["replace_pdus"], options["rear_door_active"], ("POWER_RACK", AIR_RACK))
    assert plan.kind == "combined" and plan.combines == ("replace_pdus", "rear_door_active")
    assert plan.resolves == ("POWER_RACK", AIR_RACK) and plan.still_failing == () and plan.resolves_all_failing
    assert plan.capex_usd == pytest.approx(2 * 2 * 1500.0 + 20000.0)  # 4 PDUs x $1,500 + one door $20,000
    assert plan.lead_time_weeks is None  # neither part has a figure in §16.1
    assert not any("POWER_RACK fails now" in p for p in plan.prerequisites)  # the power part does it
    unpriced = combine(
        by_kind(advise_retrofits(legacy_power_rack(failing_codes=("POWER_RACK", AIR_RACK))))["replace_pdus"],
        options["rear_door_active"],
        ("POWER_RACK", AIR_RACK),
    )
    assert unpriced.capex_usd is None and "replace_pdus capex unknown" in unpriced.notes


def test_add_pdus_side_with_unrated_pdus_copies_the_largest():
    """Side B's only PDU has no usable kW (rating unknown): B is sized with the rack's largest PDU, never a
    division by zero. 20 kW target: A 1 x 8.65 now -> ceil((20 - 8.65) / 8.65) = 2 more; B 0 now ->
    ceil(20 / 8.65) = 3 of 8.65 kW."""
    from planner.engine.costs import RetrofitConfig
    from planner.engine.retrofit_power import power_options

    inp = RetrofitInput(
        target_kw=20.0,
        failing_codes=("POWER_RACK",),
        existing_pdus=(("A", 8.65), ("B", 0.0)),
        pdu_sides=("A", "B"),
    )
    add = next(o for o in power_options(inp, RetrofitConfig()) if o.kind == "add_pdus")
    text = " ".join(add.notes) if isinstance(add.notes, (list, tuple)) else add.notes
    assert "side A: 8.65 kW usable now + n = ceil((20.00 - 8.65) / 8.65) = 2" in text
    assert "side B: 0.00 kW usable now + n = ceil((20.00 - 0.00) / 8.65) = 3" in text
