"""RACK_LOAD, FLOOR_UNIFORM, FLOOR_POINT, FLOOR_ROLLING (reference §5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.engine.results import FAIL, OK, WARN, rule_result
from planner.engine.rules.state import within
from planner.engine.units import CASTER_SHARE_ROLLING, FEET_PER_RACK, fmt

if TYPE_CHECKING:
    from planner.engine.inputs import RackContext
    from planner.engine.results import RuleResult
    from planner.engine.rules.state import RackState


def rule_rack_load(st: RackState) -> RuleResult:
    """Equipment on the frame <= max_load_kg. A rack-scale system brings its own frame and does not count."""
    cap = st.ctx.rack.max_load_kg
    kg = st.equipment_kg
    ok = within(kg, cap)
    text = f"equipment on the frame {kg:.2f} kg {'<=' if ok else '>'} {cap:.2f} kg max load"
    if st.rack_scale is not None:
        text = (
            f"{st.rack_scale.slug} is rack-scale and carries its own frame: its {st.rack_scale.weight_kg:.2f} kg "
            f"does not count against the frame's max load; {text}"
        )
    return rule_result("RACK_LOAD", OK if ok else FAIL, text, kg, cap, "kg")


_AREAS: dict[tuple, tuple[float, str]] = {}


def floor_area_m2(ctx: RackContext) -> tuple[float, str]:
    """Area the rack's weight spreads over, and its arithmetic (§5.3 method 1 footprint, method 2 half aisles)."""
    half = ctx.room.floor_load_method == "half_aisle"
    key = (ctx.rack.width_mm, ctx.rack.depth_mm, ctx.row.aisle_width_mm if half else None)
    hit = _AREAS.get(key)
    if hit is not None:
        return hit
    w = ctx.rack.width_mm / 1000.0
    d = ctx.rack.depth_mm / 1000.0
    if half:
        a = ctx.row.aisle_width_mm / 1000.0
        # Half the aisle in front and half behind: W x (D + a/2 + a/2), §5.3 method 2.
        area = w * (d + a / 2.0 + a / 2.0)
        text = f"{fmt(w)} m x ({fmt(d)} m + {fmt(a / 2)} m + {fmt(a / 2)} m half aisles) = {fmt(area)} m2"
    else:
        area = w * d
        text = f"{fmt(w)} m x {fmt(d)} m footprint = {fmt(area)} m2"
    if len(_AREAS) > 1024:
        _AREAS.clear()
    _AREAS[key] = hit = (area, text)
    return hit


def weight_text(st: RackState) -> str:
    text = st.wtext
    if text is None:
        if st.rack_scale is not None:
            text = f"{st.weight_kg:.2f} kg (nodes; {st.rack_scale.slug} includes its own frame)"
        else:
            text = f"({st.ctx.rack.empty_weight_kg:.2f} kg frame + {st.nodes_kg:.2f} kg nodes = {st.weight_kg:.2f} kg)"
        st.wtext = text
    return text


def rule_floor_uniform(st: RackState) -> RuleResult:
    rated = st.ctx.room.floor_rated_load_kg_m2
    area, area_text = floor_area_m2(st.ctx)
    if not area > 0:
        return rule_result("FLOOR_UNIFORM", FAIL, f"the rack has no floor area ({area_text})", None, rated, "kg/m2")
    load = st.weight_kg / area
    ok = within(load, rated)
    return rule_result(
        "FLOOR_UNIFORM",
        OK if ok else FAIL,
        f"{weight_text(st)} / {area_text} = {load:.2f} kg/m2 {'<=' if ok else '>'} {rated:.2f} kg/m2 rated",
        load,
        rated,
        "kg/m2",
    )


def rule_floor_point(st: RackState) -> RuleResult:
    room = st.ctx.room
    if room.floor_type != "raised":
        return rule_result("FLOOR_POINT", OK, f"not applicable: {room.floor_type} floor", None, None, "kg")
    per_foot = st.weight_kg / FEET_PER_RACK
    text = f"{weight_text(st)} / {FEET_PER_RACK} feet = {per_foot:.2f} kg per foot"
    tile = room.tile_rated_load_kg
    if tile is None:
        return rule_result("FLOOR_POINT", WARN, f"no tile rating recorded; {text}", per_foot, None, "kg")
    ok = within(per_foot, tile)
    msg = f"{text} {'<=' if ok else '>'} {tile:.2f} kg tile rating"
    return rule_result("FLOOR_POINT", OK if ok else FAIL, msg, per_foot, tile, "kg")


_SLAB_ROLLING = rule_result("FLOOR_ROLLING", OK, "not applicable: slab", None, None, "kg")


def rule_floor_rolling(st: RackState) -> RuleResult:
    """Raised floor only: the load on one caster while the rack is rolled in <= the panels' rolling rating.

    One caster carries up to half the rack while it is moved (§5.2, IBM tile guidance P [S38]: "during
    relocation up to 1/2 of a rack per caster"): value = rack total weight (frame + equipment, as FLOOR_POINT)
    x 0.5. No rolling rating recorded: not checked (ok).
    """
    room = st.ctx.room
    if room.floor_type != "raised":
        if room.floor_type == "slab":
            return _SLAB_ROLLING
        return rule_result("FLOOR_ROLLING", OK, f"not applicable: {room.floor_type} floor", None, None, "kg")
    per_caster = st.weight_kg * CASTER_SHARE_ROLLING
    text = (
        f"{weight_text(st)} x {fmt(CASTER_SHARE_ROLLING)} on one caster while rolled in "
        f"(up to 1/2 of a rack per caster, [S38]) = {per_caster:.2f} kg"
    )
    rating = room.tile_rolling_load_kg
    if rating is None:
        msg = f"not checked: no rolling rating recorded; {text}"
        return rule_result("FLOOR_ROLLING", OK, msg, per_caster, None, "kg")
    ok = within(per_caster, rating)
    msg = f"{text} {'<=' if ok else '>'} {rating:.2f} kg panel rolling rating"
    return rule_result("FLOOR_ROLLING", OK if ok else FAIL, msg, per_caster, rating, "kg")
