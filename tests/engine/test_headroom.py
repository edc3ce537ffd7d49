"""rack_headroom: dimensions, binding, stranded capacity and fits (which must agree with check_placement).

Figures: §4.6 415 V 3-ph 63 A at 0.8 = 36.228 kW per PDU; §1.1 model power/weight/U; §4.3 water at 30 C.
"""

from __future__ import annotations

import json
import time

import pytest

from planner.engine import Placement, check_placement, flow_heat_kw, rack_headroom
from tests.engine.builders import (
    A100,
    B200,
    CATALOGUE,
    CPU2U,
    GB200,
    H100,
    ctx,
    loop,
    pdu,
    placed,
    rack,
    room,
    row,
    site,
    source,
    stack,
)

CONTRACT_KEYS = {"power", "cooling_air", "cooling_liquid", "space", "rack_load", "floor", "binding", "fits"}


def test_contract_shape_and_json():
    data = json.loads(json.dumps(rack_headroom(ctx(), CATALOGUE).to_dict(), allow_nan=False))
    assert set(data) >= CONTRACT_KEYS
    for dim in ("power", "cooling_air", "cooling_liquid"):
        assert {"capacity_kw", "load_kw", "headroom_kw"} <= set(data[dim])
    assert {"free_u", "largest_free_block_u"} <= set(data["space"])
    assert {"capacity_kg", "load_kg", "headroom_kg"} <= set(data["rack_load"])
    assert {"capacity_kg_m2", "load_kg_m2", "headroom_kg_m2"} <= set(data["floor"])
    assert set(data["fits"]) == {m.slug for m in CATALOGUE}


def test_dimensions_of_a_contained_h100_rack():
    # 2 x H100 (20.4 kW, 260.9 kg) in a cold-aisle row (25 kW air default) with a 30 kW rear door,
    # 2 PDUs per side (72.46 kW), UPS 500 kW with 450 kW elsewhere, room CRAH 300 kW with 250 kW elsewhere.
    c = ctx(
        row=row(containment="cold_aisle"),
        rack=rack(max_load_kg=1000.0, empty_weight_kg=150.0),
        room=room(other_air_heat_kw=250.0, air_loops=(loop("crah", 100.0, units=4, redundant=1),)),
        nodes=stack(H100, 2),
        pdus=(pdu("A", source=2, i=1), pdu("A", source=2, i=2), pdu("B", source=2, i=3), pdu("B", source=2, i=4)),
        sources=(source(2, 500.0, 450.0),),
        loops=(loop("rear_door", 30.0, name="rdhx", racks_served=1),),
    )
    h = rack_headroom(c, [H100, A100])
    assert h.power.capacity_kw == pytest.approx(2 * 36.228, rel=1e-4)
    assert h.power.load_kw == pytest.approx(20.4)
    assert h.power.headroom_kw == pytest.approx(500 - 450 - 20.4)  # the UPS binds: 29.6 kW
    assert h.power.limited_by == "ups ups-2"
    assert h.cooling_air.capacity_kw == pytest.approx(55.0)  # 25 + 30 rear door
    # The rear door takes this rack's air off the room (DESIGN load flow): the rack's own limit binds,
    # 25 + 30 - 20.4 = 34.6 kW; the room could take 50 kW + the door's 9.6 kW spare.
    assert h.cooling_air.headroom_kw == pytest.approx(25 + 30 - 20.4)
    assert h.cooling_air.limited_by == "rack air limit + close-coupled"
    assert h.cooling_liquid.capacity_kw == 0.0 and h.cooling_liquid.headroom_kw == 0.0
    assert (h.space.free_u, h.space.largest_free_block_u) == (26, 26)
    assert h.rack_load.headroom_kg == pytest.approx(1000 - 260.9)
    assert h.floor.load_kg_m2 == pytest.approx((150 + 260.9) / 0.72)
    # 29.6 kW of power, 34.6 kW of air: two more H100 (20.4 kW) fit, a third does not; space holds 3.
    assert h.fits_by_slug["dgx-h100"] == 2
    # A100: power and air allow 4 (26 kW), but the floor binds first: (150 + 260.9 + 4 x 123.16) / 0.72
    # = 1,254.9 kg/m2 > 1,220 (3 units: 1,084.0).
    assert h.fits_by_slug["dgx-a100"] == 3
    assert dict(h.blocked_by)["dgx-a100"] == ("FLOOR_UNIFORM",)
    assert dict(h.blocked_by)["dgx-h100"] == ("POWER_UPSTREAM",)


def nvl_ctx(**kw):
    """A rack that can take a GB200 NVL72 but for cooling: 2 x 415 V 125 A per side (143.8 kW, §4.4),
    a slab rated 2,000 kg/m2."""
    big = tuple(pdu(side, a=125.0, i=i) for i, side in enumerate("AABB"))
    return ctx(pdus=big, room=room(floor_rated_load_kg_m2=2000.0, air_loops=(loop("crah", 1000.0),)), **kw)


def test_liquid_headroom_is_flow_limited():
    # CDU 500 kW usable, but 300 L/min at dT 10 K of water carries only 300 x 4.1616 x 10 / 60 = 208.08 kW.
    cdu = loop("direct_liquid", 500.0, name="cdu", max_flow_lpm=300.0, other_heat_kw=50.0)
    h = rack_headroom(nvl_ctx(loops=(cdu,)), [GB200])
    assert h.cooling_liquid.capacity_kw == 500.0
    assert h.cooling_liquid.headroom_kw == pytest.approx(flow_heat_kw(300.0, 10.0, "water") - 50.0)
    assert h.cooling_liquid.headroom_kw == pytest.approx(208.08 - 50.0, rel=1e-4)
    assert h.cooling_liquid.limited_by == "cdu flow"
    assert h.fits_by_slug["gb200-nvl72"] == 1  # 114.97 kW liquid <= 158.08 kW


def test_liquid_headroom_with_two_loops_scales_by_split():
    # Heat splits evenly: x more kW puts x/2 on each. Loop a: 100 - 80 = 20 left -> x <= 40.
    a = loop("direct_liquid", 100.0, name="a", other_heat_kw=80.0)
    b = loop("direct_liquid", 100.0, name="b", other_heat_kw=0.0)
    h = rack_headroom(ctx(loops=(a, b)))
    assert h.cooling_liquid.headroom_kw == pytest.approx(40.0)


def test_stranded_power_when_air_is_exhausted():
    # Open aisle (10 kW), 2 PDUs per side (72.46 kW): 9 kW of CPUs leaves 1 kW of air, 63.46 kW of power.
    c = ctx(row=row(containment="none"), nodes=stack(CPU2U, 6))
    h = rack_headroom(c, [CPU2U])
    assert h.cooling_air.headroom_kw == pytest.approx(1.0)
    assert h.stranded_kw.power_kw == pytest.approx(2 * 36.228 - 9.0 - 1.0, rel=1e-4)
    assert h.stranded_kw.cooling_kw == 0.0
    assert h.fits_by_slug["cpu-2u"] == 0  # 10.5 kW of air > 10 kW
    assert h.binding == "cooling_air"


def test_stranded_cooling_when_power_is_exhausted():
    c = ctx(pdus=(pdu("A", v=208, a=30, i=1), pdu("B", v=208, a=30, i=2)), nodes=stack(A100, 1))
    h = rack_headroom(c, [A100])  # 8.646 kW per side (S [S33]); 6.5 kW used
    assert h.power.headroom_kw == pytest.approx(8.646 - 6.5, rel=1e-3)
    assert h.stranded_kw.cooling_kw > 900  # a 1000 kW row limit in the default builder
    assert h.binding == "power"


def test_space_and_rack_scale():
    cdu = (loop("direct_liquid", 500.0),)
    h = rack_headroom(nvl_ctx(nodes=(placed(GB200, 1, 1),), loops=cdu), CATALOGUE)
    assert (h.space.free_u, h.space.largest_free_block_u) == (0, 0)
    assert all(n == 0 for _, n in h.fits)
    assert h.binding == "space"
    empty = rack_headroom(nvl_ctx(loops=cdu), [GB200])
    assert empty.fits_by_slug["gb200-nvl72"] == 1


def test_site_utility_bounds_power():
    h = rack_headroom(ctx(site=site(utility_capacity_kw=1000.0, other_load_kw=995.0)), [A100])
    assert h.power.headroom_kw == pytest.approx(5.0) and h.power.limited_by == "site utility"
    assert h.fits_by_slug["dgx-a100"] == 0


# --- fits agree with check_placement ---------------------------------------------------------------------

CONTEXTS = {
    "generous": ctx(),
    "open-aisle": ctx(row=row(containment="none")),
    "contained-rear-door": ctx(
        row=row(containment="hot_aisle"), loops=(loop("rear_door", 30.0, racks_served=1),), nodes=stack(H100, 1)
    ),
    "one-pdu-per-side": ctx(pdus=(pdu("A", i=1), pdu("B", i=2)), nodes=stack(B200, 1)),
    "heavy-frame": ctx(rack=rack(max_load_kg=400.0)),
    "weak-raised-floor": ctx(room=room(floor_type="raised", tile_rated_load_kg=200.0, floor_rated_load_kg_m2=900.0)),
    "tight-ups": ctx(pdus=(pdu("A", source=1, i=1), pdu("B", source=1, i=2)), sources=(source(1, 100.0, 70.0),)),
    "dlc-flow": ctx(loops=(loop("direct_liquid", 300.0, max_flow_lpm=150.0, other_heat_kw=10.0),)),
    "nvl72-ready": nvl_ctx(loops=(loop("direct_liquid", 250.0, units=3, redundant=1),)),
    "nvl72-flow-short": nvl_ctx(loops=(loop("direct_liquid", 250.0, units=3, max_flow_lpm=150.0),)),
    "immersion": ctx(loops=(loop("immersion", 150.0),)),
    "hot-room": ctx(room=room(air_loops=(loop("crah", 1000.0, supply_temp_c=31.0),))),
    "fragmented": ctx(nodes=(placed(CPU2U, 7, 1), placed(CPU2U, 19, 2), placed(CPU2U, 33, 3))),
    "full": ctx(nodes=stack(CPU2U, 21)),
}


@pytest.mark.parametrize("name", list(CONTEXTS))
def test_fits_agree_with_check_placement(name):
    c = CONTEXTS[name]
    h = rack_headroom(c, CATALOGUE)
    for model in CATALOGUE:
        n = h.fits_by_slug[model.slug]
        if n > 0:
            assert check_placement(c, Placement(model, quantity=n)).ok, (name, model.slug, n)
        after = check_placement(c, Placement(model, quantity=n + 1))
        assert not after.ok, (name, model.slug, n)
        assert dict(h.blocked_by)[model.slug] == after.failing


def test_headroom_is_fast():
    # 9 models on a realistic rack: well under 10 ms (best of 5, the machine is shared).
    c = CONTEXTS["contained-rear-door"]
    best = min(_timed(lambda: rack_headroom(c, CATALOGUE)) for _ in range(5))
    assert best < 0.010


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0
