"""Property test on random sites (issue 13): the check, rack and site headroom, the budgets cache, the
dashboard and the floor-plan figures agree on every number they share, and at every level headroom and
stranded capacity never exceed capacity."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import engine, reports, selectors
from planner import headroom as headroom_mod
from planner.web.headlines import site_headlines
from planner.web.metrics import figures_from_context
from racks.models import NodeModel
from tests.factories import (
    CoolingLoopFactory,
    NodeFactory,
    PduFactory,
    PowerSourceFactory,
    RackFactory,
    RoomFactory,
    RowFactory,
    SiteFactory,
)

pytestmark = pytest.mark.django_db
TOL = 1e-6
REPORT_DAY = datetime.date(2026, 12, 1)
SLUGS = ("dgx-h100", "dgx-b200", "cpu-2u", "gb200-nvl72")

rack_plan = st.tuples(
    st.sampled_from(SLUGS), st.integers(0, 3), st.booleans(), st.booleans(), st.integers(0, 2), st.integers(0, 1)
)
loop_plan = st.tuples(
    st.sampled_from(("crah", "rear_door", "in_row", "direct_liquid")),
    st.floats(5.0, 200.0),
    st.integers(1, 3),
    st.integers(0, 1),
    st.booleans(),  # lists racks (else serves its room)
)


def _build(racks, loops, two_rooms):
    site = SiteFactory()
    rooms = [RoomFactory(site=site)] + ([RoomFactory(site=site)] if two_rooms else [])
    rows = [RowFactory(room=r, air_kw_per_rack_limit=40.0) for r in rooms]
    ups = [PowerSourceFactory(site=site, capacity_kw=300.0) for _ in range(2)]
    made = []
    for i, (slug, count, side_b, shared_ups, _loop_pick, _row) in enumerate(racks):
        rack = RackFactory(row=rows[i % len(rows)], max_load_kg=3000.0)
        PduFactory(rack=rack, side="A", current_a=200.0, source=ups[0])
        if side_b:
            PduFactory(rack=rack, side="B", current_a=200.0, source=ups[0] if shared_ups else ups[1])
        model = NodeModel.objects.get(slug=slug)
        n = min(count, 1) if model.rack_scale else count
        for k in range(n):
            NodeFactory(rack=rack, model=model, u_position=1 + k * model.u_height)
        made.append(rack)
    for j, (kind, cap, units, redundant, listed) in enumerate(loops):
        room = rooms[j % len(rooms)]
        lp = CoolingLoopFactory(
            site=site,
            room=room,
            kind=kind,
            unit_capacity_kw=cap,
            units=units,
            redundant_units=min(redundant, units - 1),
            fluid="air" if kind == "crah" else "water",
        )
        if listed:
            lp.racks.set([r for r in made if r.row.room_id == room.id][: 1 + j % 3])
    return site, made


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    racks=st.lists(rack_plan, min_size=1, max_size=6),
    loops=st.lists(loop_plan, min_size=0, max_size=5),
    two_rooms=st.booleans(),
)
def test_every_figure_agrees_and_headroom_never_exceeds_capacity(racks, loops, two_rooms):
    site, made = _build(racks, loops, two_rooms)
    snapshot = selectors.site_snapshot(site.id)
    budgets = selectors.site_budgets(site.__class__.objects.get(pk=site.id))
    rack_heads = headroom_mod.rack_headrooms(snapshot)
    head = headroom_mod.site_headroom(snapshot)
    for rack in made:
        ctx = selectors.rack_context(rack.id)
        assert ctx == snapshot.contexts[rack.id]  # the check and the site snapshot see the same budgets
        res = engine.check_rack(ctx)
        by = {c.code: c for c in res.checks}
        room_air = by["COOLING_AIR_ROOM"].value
        assert room_air == pytest.approx(budgets.room_air_heat_kw.get(rack.row.room_id, 0.0), abs=1e-6)
        h = engine.rack_headroom(ctx)
        assert h.to_dict() == rack_heads[rack.id]
        for dim in (h.power, h.cooling_air, h.cooling_liquid):
            assert dim.headroom_kw <= dim.capacity_kw + TOL
        assert h.stranded_kw.power_kw <= h.power.capacity_kw + TOL
        assert h.stranded_kw.cooling_kw <= h.cooling_air.capacity_kw + h.cooling_liquid.capacity_kw + TOL
        fig = figures_from_context(ctx)
        assert fig.air_capacity_kw == pytest.approx(h.cooling_air.capacity_kw, abs=1e-6)
        assert fig.kw == pytest.approx(h.power.load_kw)
    # The site's sums are those of the per-rack figures the rack endpoint shows (no second rounding path).
    assert head["power"]["load_kw"] == round(sum(i["power"]["load_kw"] for i in rack_heads.values()), 3)
    assert head["rack_load"]["headroom_kg"] == round(
        sum(max(i["rack_load"]["headroom_kg"], 0.0) for i in rack_heads.values()), 3
    )
    groups = [head, *head["rooms"], *(row for room in head["rooms"] for row in room["rows"])]
    for g in groups:
        for dim in ("power", "cooling_air", "cooling_liquid"):
            assert g[dim]["headroom_kw"] <= g[dim]["capacity_kw"] + 1e-3
        cool_cap = g["cooling_air"].get("room_capacity_kw", g["cooling_air"]["capacity_kw"])
        assert g["stranded_kw"]["cooling"] <= cool_cap + g["cooling_liquid"]["capacity_kw"] + 1e-3
        assert g["stranded_kw"]["power"] <= g["power"]["capacity_kw"] + 1e-3
    liquid_total = sum(budgets.loop_liquid_heat_kw.values())
    if liquid_total > 0:
        assert head["cooling_liquid"]["load_kw"] == pytest.approx(liquid_total, abs=1e-2)
    headline = next(x for x in site_headlines() if x.site.id == site.id)
    assert headline.it_load_kw == pytest.approx(head["power"]["load_kw"], abs=1e-3)
    assert headline.air_heat_kw == pytest.approx(head["cooling_air"]["load_kw"], abs=1e-3)
    if "room_capacity_kw" in head["cooling_air"]:
        assert headline.air_capacity_kw == pytest.approx(head["cooling_air"]["room_capacity_kw"], abs=1e-3)
    assert headline.liquid_heat_kw == pytest.approx(sum(i["cooling_liquid"]["load_kw"] for i in rack_heads.values()))
    # The nightly report of the same snapshot shows the same totals.
    fields, data, _summary = reports.build_report(
        snapshot,
        day=REPORT_DAY,
        planned_ids=set(),
        liquid=reports.liquid_loops(site.id),
        history=reports.History(),
        n1=None,
    )
    assert fields["it_load_kw"] == pytest.approx(head["power"]["load_kw"], abs=1e-3)
    assert fields["air_heat_kw"] == pytest.approx(head["cooling_air"]["load_kw"], abs=1e-3)
    assert fields["liquid_heat_kw"] == pytest.approx(head["cooling_liquid"]["load_kw"], abs=1e-3)
    assert data["headroom"] == head
    # Racks near a limit are not compared here: the site list counts them from rack-level figures, the
    # report from rack headroom bounded by the room (an empty rack in a room with no CRAH differs; issue 13).
