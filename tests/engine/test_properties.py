"""Property tests (Hypothesis): the engine never raises, always answers every rule in order, and more
load never turns a failing rule into a passing one. Models are the reference catalogue (§1.1)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.engine import (
    RULE_CODES,
    CoolingLoopSpec,
    PduSpec,
    PlacedNode,
    Placement,
    PowerSourceSpec,
    RackContext,
    RackSpec,
    RoomSpec,
    RowSpec,
    SiteSpec,
    check_placement,
    rack_headroom,
)
from tests.engine.builders import CATALOGUE, DLC1U

MODELS = (*CATALOGUE, DLC1U)
UNIT_MODELS = tuple(m for m in MODELS if not m.rack_scale)
FIELDS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

pos = st.floats(min_value=0.0, max_value=5000.0, allow_nan=False)
small = st.floats(min_value=0.0, max_value=500.0, allow_nan=False)


@st.composite
def loops(draw, kinds=("crah", "in_row", "rear_door", "direct_liquid", "immersion")):
    kind = draw(st.sampled_from(kinds))
    units = draw(st.integers(1, 6))
    return CoolingLoopSpec(
        loop_id=draw(st.one_of(st.none(), st.integers(1, 50))),
        name=f"{kind}-loop",
        kind=kind,
        unit_capacity_kw=draw(small),
        units=units,
        redundant_units=draw(st.integers(0, units - 1)),
        supply_temp_c=draw(st.floats(5.0, 50.0)),
        delta_t_c=draw(st.floats(1.0, 20.0)),
        fluid="air" if kind == "crah" else draw(st.sampled_from(("water", "pg25"))),
        max_flow_lpm=draw(st.one_of(st.none(), st.floats(0.0, 3000.0))),
        other_heat_kw=draw(small),
        racks_served=draw(st.integers(0, 8)),
    )


@st.composite
def contexts(draw):
    u_height = draw(st.integers(20, 52))
    nodes = []
    for i in range(draw(st.integers(0, 6))):
        model = draw(st.sampled_from(MODELS))
        nodes.append(PlacedNode(model, draw(st.integers(-2, u_height + 2)), i + 1, f"n{i}"))
    source_ids = list(range(1, draw(st.integers(0, 4)) + 1))
    sources = tuple(
        PowerSourceSpec(
            sid,
            f"s{sid}",
            draw(st.sampled_from(("utility", "ups", "panel"))),
            draw(pos),
            draw(pos),
            draw(st.one_of(st.none(), st.sampled_from(source_ids))),
        )
        for sid in source_ids
    )
    pdus = tuple(
        PduSpec(
            i,
            f"p{i}",
            draw(st.sampled_from(("A", "B"))),
            draw(st.sampled_from((1, 3))),
            draw(st.sampled_from((208.0, 230.0, 400.0, 415.0, 480.0))),
            draw(st.sampled_from((16.0, 30.0, 32.0, 60.0, 63.0, 125.0))),
            draw(st.floats(0.5, 1.0)),
            draw(st.one_of(st.none(), st.sampled_from(source_ids))) if source_ids else None,
        )
        for i in range(draw(st.integers(0, 4)))
    )
    return RackContext(
        site=SiteSpec(1, "site", draw(st.one_of(st.none(), pos)), draw(st.floats(0.5, 1.0)), draw(pos)),
        room=RoomSpec(
            1,
            "room",
            draw(st.sampled_from(("raised", "slab"))),
            draw(st.floats(100.0, 3000.0)),
            draw(st.one_of(st.none(), st.floats(50.0, 2000.0))),
            draw(st.sampled_from(("footprint", "half_aisle"))),
            draw(small),
            tuple(draw(st.lists(loops(("crah", "in_row", "rear_door")), max_size=3))),
        ),
        row=RowSpec(
            1,
            "row",
            draw(st.floats(0.0, 2400.0)),
            draw(st.sampled_from(("none", "cold_aisle", "hot_aisle"))),
            draw(st.one_of(st.none(), st.floats(0.0, 80.0))),
        ),
        rack=RackSpec(
            1,
            "rack",
            u_height,
            draw(st.sampled_from((600.0, 800.0))),
            draw(st.sampled_from((1000.0, 1068.0, 1200.0))),
            draw(st.floats(0.0, 2500.0)),
            draw(st.floats(0.0, 300.0)),
        ),
        nodes=tuple(nodes),
        pdus=pdus,
        sources=sources,
        loops=tuple(draw(st.lists(loops(), max_size=3))),
    )


def _assert_shape(result):
    assert tuple(c.code for c in result.checks) == RULE_CODES
    assert all(c.status in ("ok", "warn", "fail") for c in result.checks)
    assert result.ok == all(c.status != "fail" for c in result.checks)
    json.dumps(result.to_dict(), allow_nan=False)


@FIELDS
@given(contexts(), st.sampled_from(MODELS), st.integers(-1, 8), st.one_of(st.none(), st.integers(-2, 60)))
def test_never_raises_and_always_every_rule(ctx, model, quantity, u_position):
    for placement in (None, Placement(model, quantity, u_position), Placement(model, quantity, None, (1, 2))):
        result = check_placement(ctx, placement)
        _assert_shape(result)
        assert not any("could not be evaluated" in c.message for c in result.checks)


wild_float = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=150, deadline=None)
@given(
    contexts(),
    st.sampled_from(MODELS),
    wild_float,
    wild_float,
    wild_float,
    st.integers(-5, 5),
    st.text(max_size=3),
)
def test_never_raises_on_wild_numbers(ctx, model, f1, f2, f3, n, text):
    wild = RackContext(
        site=replace(ctx.site, other_load_kw=f1, power_derating=f2),
        room=replace(ctx.room, floor_rated_load_kg_m2=f3, floor_type=text, tile_rated_load_kg=f1),
        row=replace(ctx.row, containment=text, aisle_width_mm=f2),
        rack=replace(ctx.rack, u_height=n, width_mm=f1, depth_mm=f3, empty_weight_kg=f2),
        nodes=ctx.nodes,
        pdus=tuple(replace(p, side=text, voltage_v=f1, phases=n) for p in ctx.pdus),
        sources=tuple(replace(s, capacity_kw=f2) for s in ctx.sources),
        loops=tuple(replace(lp, delta_t_c=f3, fluid=text, units=n, max_flow_lpm=f1) for lp in ctx.loops),
    )
    bad_model = replace(model, slug="bad", max_power_kw=f1, weight_kg=f2, liquid_fraction=f3, u_height=n, psu_count=n)
    for placement in (None, Placement(model, n), Placement(bad_model, 1), Placement(bad_model, n, n)):
        _assert_shape(check_placement(wild, placement))
    # Headroom on the same numbers: no exception, plain JSON (None for non-finite figures).
    json.dumps(rack_headroom(wild, (model, bad_model)).to_dict(), allow_nan=False)


def _failing(ctx, placement) -> set[str]:
    return set(check_placement(ctx, placement).failing)


@FIELDS
@given(contexts(), st.sampled_from(MODELS), st.integers(1, 5))
def test_one_more_unit_never_turns_a_fail_into_ok(ctx, model, quantity):
    before = check_placement(ctx, Placement(model, quantity))
    after = check_placement(ctx, Placement(model, quantity + 1))
    assert set(before.failing) <= set(after.failing)
    assert after.ok <= before.ok


@FIELDS
@given(contexts(), st.sampled_from(MODELS), st.integers(1, 3), st.floats(0.0, 500.0))
def test_more_load_elsewhere_never_turns_a_fail_into_ok(ctx, model, quantity, extra):
    placement = Placement(model, quantity)
    busier = replace(
        ctx,
        site=replace(ctx.site, other_load_kw=ctx.site.other_load_kw + extra),
        room=replace(ctx.room, other_air_heat_kw=ctx.room.other_air_heat_kw + extra),
        sources=tuple(replace(s, other_load_kw=s.other_load_kw + extra) for s in ctx.sources),
        loops=tuple(replace(lp, other_heat_kw=lp.other_heat_kw + extra) for lp in ctx.loops),
    )
    assert _failing(ctx, placement) <= _failing(busier, placement)


@FIELDS
@given(contexts(), st.sampled_from(UNIT_MODELS), st.sampled_from(UNIT_MODELS), st.integers(1, 3))
def test_an_extra_node_in_the_rack_never_turns_a_fail_into_ok(ctx, existing, model, quantity):
    placement = Placement(model, quantity)
    fuller = replace(ctx, nodes=(*ctx.nodes, PlacedNode(existing, 1, 999, "extra")))
    assert _failing(ctx, placement) <= _failing(fuller, placement)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contexts(), st.lists(st.sampled_from(MODELS), min_size=1, max_size=4, unique_by=lambda m: m.slug))
def test_headroom_fits_agree_with_check_placement(ctx, models):
    h = rack_headroom(ctx, models)
    json.dumps(h.to_dict(), allow_nan=False)
    for model in models:
        n = h.fits_by_slug[model.slug]
        if n:
            assert check_placement(ctx, Placement(model, n)).ok
        assert not check_placement(ctx, Placement(model, n + 1)).ok
    assert h.stranded_kw.power_kw >= 0 and h.stranded_kw.cooling_kw >= 0
    assert not (h.stranded_kw.power_kw > 0 and h.stranded_kw.cooling_kw > 0)
    assert math.isfinite(h.power.headroom_kw) or h.power.headroom_kw == math.inf
