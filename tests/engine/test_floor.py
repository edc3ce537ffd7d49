"""RACK_LOAD, FLOOR_UNIFORM, FLOOR_POINT (DESIGN rules; reference §5).

Weights: DGX H100 130.45 kg (§1.1 P [S1]); 4 x H100 = 521.8 kg (§5.2, C); GB200 NVL72 ~1,360 kg incl. its frame
(T [S9]) on a 600 x 1,068 mm footprint (S [S59]). Ratings: 12 kPa = 1,223.6 kg/m2 slab (TIA-569 P [S36]);
Tate All Steel 1000 = 1,000 lbf concentrated (P [S40]); ConCore 3000 = 3,000 lbf design load (P [S39]).
"""

from __future__ import annotations

import pytest

from planner.engine import Placement, check_placement
from tests.engine.builders import GB200, H100, ctx, placed, rack, room, row, stack

LB = 0.45359237  # kg per lb (1 kg = 2.20462 lb, §0.2)
KPA_12_KG_M2 = 12000 / 9.80665  # 12 kPa (§5.2) = 1,223.6 kg/m2


def rule(result, code):
    return result.get(code)


# --- RACK_LOAD -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_load_kg", "status"),
    [(521.8, "ok"), (521.81, "ok"), (521.79, "fail")],
    ids=["at-limit-4xH100-521.8kg-ref5.2", "under-limit", "over-limit"],
)
def test_rack_load_at_under_over(max_load_kg, status):
    r = rule(check_placement(ctx(rack=rack(max_load_kg=max_load_kg)), Placement(H100, quantity=4)), "RACK_LOAD")
    assert r.status == status
    assert (r.value, r.limit, r.unit) == (pytest.approx(521.8), max_load_kg, "kg")
    assert "521.80 kg" in r.message


def test_rack_load_counts_existing_nodes_and_excludes_moved_ones():
    c = ctx(rack=rack(max_load_kg=300.0), nodes=stack(H100, 2, first_id=1))
    assert rule(check_placement(c, Placement(H100)), "RACK_LOAD").status == "fail"  # 391.35 kg
    moved = check_placement(c, Placement(H100, u_position=30, exclude_node_ids=(1,)))
    assert rule(moved, "RACK_LOAD").value == pytest.approx(260.9)


def test_rack_scale_weight_does_not_count_against_frame_ref_1_2_S7():
    r = rule(check_placement(ctx(rack=rack(max_load_kg=0.0)), Placement(GB200)), "RACK_LOAD")
    assert r.status == "ok" and r.value == 0.0
    assert "carries its own frame" in r.message and "1360.00 kg" in r.message


# --- FLOOR_UNIFORM ---------------------------------------------------------------------------------------


def test_floor_uniform_footprint_4x_h100_method1():
    # §5.3 method 1: (150 kg frame + 521.8 kg) / (0.6 m x 1.2 m) = 933.06 kg/m2 <= 1,223.6 (12 kPa).
    c = ctx(room=room(floor_rated_load_kg_m2=KPA_12_KG_M2))
    r = rule(check_placement(c, Placement(H100, quantity=4)), "FLOOR_UNIFORM")
    assert r.status == "ok"
    assert r.value == pytest.approx(671.8 / 0.72)
    assert r.unit == "kg/m2"
    assert "0.72 m2" in r.message and "933.06 kg/m2" in r.message


@pytest.mark.parametrize(
    ("delta", "status"),
    [(0.0, "ok"), (0.01, "ok"), (-0.01, "fail")],
    ids=["at-limit-method1", "under-limit", "over-limit"],
)
def test_floor_uniform_at_under_over(delta, status):
    rated = 671.8 / 0.72 + delta
    r = rule(
        check_placement(ctx(room=room(floor_rated_load_kg_m2=rated)), Placement(H100, quantity=4)), "FLOOR_UNIFORM"
    )
    assert r.status == status


def test_floor_uniform_legacy_ibm_floor_fails_ref_5_2_S38():
    # IBM legacy assumption 340 kg/m2 total (P [S38]): 4 x H100 at 933 kg/m2 is far over.
    r = rule(
        check_placement(ctx(room=room(floor_rated_load_kg_m2=340.0)), Placement(H100, quantity=4)), "FLOOR_UNIFORM"
    )
    assert r.status == "fail"


def test_gb200_footprint_vs_half_aisle_ref_5_3_methods_1_and_2():
    # GB200 NVL72 1,360 kg (T [S9], frame included: no empty weight added) on 600 x 1,068 mm (S [S59]).
    nvl_rack = rack(width_mm=600.0, depth_mm=1068.0, empty_weight_kg=200.0)
    # Method 1: 1,360 / 0.6408 = 2,122.3 kg/m2 > 1,223.6 kg/m2 (12 kPa).
    c1 = ctx(rack=nvl_rack, room=room(floor_rated_load_kg_m2=KPA_12_KG_M2))
    r1 = rule(check_placement(c1, Placement(GB200)), "FLOOR_UNIFORM")
    assert r1.status == "fail"
    assert r1.value == pytest.approx(1360 / (0.6 * 1.068))
    # Method 2: 0.6 x (1.068 + 0.6 + 0.6) = 1.3608 m2 -> 999.4 kg/m2 <= 1,223.6.
    c2 = ctx(
        rack=nvl_rack,
        row=row(aisle_width_mm=1200.0, air_kw_per_rack_limit=1000.0),
        room=room(floor_rated_load_kg_m2=KPA_12_KG_M2, floor_load_method="half_aisle"),
    )
    r2 = rule(check_placement(c2, Placement(GB200)), "FLOOR_UNIFORM")
    assert r2.status == "ok"
    assert r2.value == pytest.approx(1360 / (0.6 * (1.068 + 1.2)))
    assert "half aisles" in r2.message


def test_floor_uniform_zero_area_fails_without_raising():
    r = rule(check_placement(ctx(rack=rack(width_mm=0.0)), Placement(H100)), "FLOOR_UNIFORM")
    assert r.status == "fail" and "no floor area" in r.message


# --- FLOOR_POINT -----------------------------------------------------------------------------------------


def test_floor_point_slab_not_applicable():
    r = rule(check_placement(ctx(), Placement(H100)), "FLOOR_POINT")
    assert (r.status, r.message, r.value, r.limit) == ("ok", "not applicable: slab floor", None, None)


def test_floor_point_raised_without_tile_rating_warns():
    r = rule(check_placement(ctx(room=room(floor_type="raised")), Placement(H100)), "FLOOR_POINT")
    assert r.status == "warn" and "no tile rating recorded" in r.message
    assert r.value == pytest.approx((150 + 130.45) / 4) and r.limit is None


def _rack_of_weight(kg: float):
    """An empty frame of ``kg`` with no nodes: the rack as it stands weighs kg."""
    return rack(empty_weight_kg=kg)


@pytest.mark.parametrize(
    ("tile_lbf", "status"),
    [(3000, "ok"), (1000, "fail")],
    ids=["ConCore3000-ref5.2-P[S39]", "AllSteel1000-ref5.2-P[S40]"],
)
def test_floor_point_tate_worked_case(tile_lbf, status):
    # §5.2 Tate worked case: 4,500 lb rack on 4 feet = 1,125 lbf per point; ConCore 3000 carries it,
    # an All Steel 1000 panel (1,000 lbf) does not.
    c = ctx(rack=_rack_of_weight(4500 * LB), room=room(floor_type="raised", tile_rated_load_kg=tile_lbf * LB))
    r = rule(check_placement(c, None), "FLOOR_POINT")
    assert r.status == status
    assert r.value == pytest.approx(1125 * LB)


@pytest.mark.parametrize(
    ("delta", "status"),
    [(0.0, "ok"), (0.01, "ok"), (-0.01, "fail")],
    ids=["at-limit", "under-limit", "over-limit"],
)
def test_floor_point_at_under_over(delta, status):
    per_foot = (150 + 4 * 130.45) / 4  # 167.95 kg per foot, 4 x H100 [S1]
    c = ctx(room=room(floor_type="raised", tile_rated_load_kg=per_foot + delta))
    r = rule(check_placement(c, Placement(H100, quantity=4)), "FLOOR_POINT")
    assert r.status == status
    assert r.unit == "kg"


def test_floor_point_rack_scale_has_no_extra_frame():
    c = ctx(room=room(floor_type="raised", tile_rated_load_kg=1000.0), rack=rack(empty_weight_kg=300.0))
    r = rule(check_placement(c, Placement(GB200)), "FLOOR_POINT")
    assert r.value == pytest.approx(1360 / 4)


def test_floor_uses_existing_nodes():
    c = ctx(nodes=(placed(H100, 1, 1),), room=room(floor_type="raised", tile_rated_load_kg=10_000.0))
    r = rule(check_placement(c, Placement(H100)), "FLOOR_POINT")
    assert r.value == pytest.approx((150 + 2 * 130.45) / 4)


# --- FLOOR_ROLLING ---------------------------------------------------------------------------------------
# One caster carries up to half the rack while it is rolled in (§5.2, IBM tile guidance P [S38]). The reference
# gives no rolling rating for a named panel, so the ratings below are hand-set for the test (not catalogue facts).

ROLLING_KG = 400.0  # hand-set panel rolling rating per caster


def test_floor_rolling_gb200_nvl72_fails_with_half_its_weight():
    # GB200 NVL72 ~1,360 kg incl. its frame (§1.1 T [S9]): 1,360 x 0.5 = 680 kg on one caster > 400 kg.
    c = ctx(room=room(floor_type="raised", tile_rolling_load_kg=ROLLING_KG), rack=rack(empty_weight_kg=300.0))
    r = rule(check_placement(c, Placement(GB200)), "FLOOR_ROLLING")
    assert r.status == "fail"
    assert (r.value, r.limit, r.unit) == (pytest.approx(680.0), ROLLING_KG, "kg")
    assert "1360.00 kg" in r.message and "x 0.5" in r.message and "680.00 kg" in r.message
    assert "[S38]" in r.message and "> 400.00 kg" in r.message


def test_floor_rolling_4x_dgx_h100_under_the_rating_ok():
    # (150 kg frame + 4 x 130.45 kg [S1]) = 671.8 kg; x 0.5 = 335.9 kg <= 400 kg.
    c = ctx(room=room(floor_type="raised", tile_rolling_load_kg=ROLLING_KG))
    r = rule(check_placement(c, Placement(H100, quantity=4)), "FLOOR_ROLLING")
    assert r.status == "ok"
    assert (r.value, r.limit) == (pytest.approx(335.9), ROLLING_KG)
    assert "671.80 kg" in r.message and "335.90 kg <= 400.00 kg" in r.message


@pytest.mark.parametrize(
    ("delta", "status"),
    [(0.0, "ok"), (0.01, "ok"), (-0.01, "fail")],
    ids=["at-limit", "under-limit", "over-limit"],
)
def test_floor_rolling_at_under_over(delta, status):
    c = ctx(room=room(floor_type="raised", tile_rolling_load_kg=335.9 + delta))
    assert rule(check_placement(c, Placement(H100, quantity=4)), "FLOOR_ROLLING").status == status


def test_floor_rolling_without_rating_not_checked():
    r = rule(check_placement(ctx(room=room(floor_type="raised")), Placement(GB200)), "FLOOR_ROLLING")
    assert r.status == "ok" and r.message.startswith("not checked: no rolling rating")
    assert (r.value, r.limit) == (pytest.approx(680.0), None)


def test_floor_rolling_slab_not_applicable():
    r = rule(check_placement(ctx(room=room(tile_rolling_load_kg=1.0)), Placement(GB200)), "FLOOR_ROLLING")
    assert (r.status, r.message, r.value, r.limit) == ("ok", "not applicable: slab", None, None)
