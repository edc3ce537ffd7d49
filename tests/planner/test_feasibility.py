"""Feasibility planner on randomly generated sites: safe (never a unit the check rejects, never a limit
exceeded in total) and, on small instances, as good as an exact solver."""

import random

import pytest

from planner import engine, planning, selectors, services
from planner.engine.inputs import Placement
from racks.models import Node, NodeModel
from tests import factories as f

pytestmark = pytest.mark.django_db

# Rack PDU feeds of reference §4.6 (voltage V, phases, breaker A).
FEEDS = [(208, 3, 30), (208, 3, 60), (415, 3, 32), (415, 3, 63), (230, 1, 32), (480, 3, 60)]
MODELS = ["dgx-a100", "dgx-h100", "dgx-b200", "dgx-b300", "gb200-nvl72", "hgx-h100-8gpu", "cpu-2u"]


def random_site(seed: int, max_racks: int = 12):
    """A small random site: one room, 1-3 rows, A/B UPS chain, CRAH, rear doors and CDU loops here and there."""
    rnd = random.Random(seed)
    site = f.SiteFactory(utility_capacity_kw=rnd.choice([None, 60.0, 150.0, 400.0]))
    room = f.RoomFactory(
        site=site,
        floor_type=rnd.choice(["slab", "raised"]),
        floor_rated_load_kg_m2=rnd.choice([732.0, 1224.0, 2000.0]),
        tile_rated_load_kg=rnd.choice([None, 453.6, 1360.8]),
        floor_load_method=rnd.choice(["footprint", "half_aisle"]),
    )
    ups_a = f.PowerSourceFactory(site=site, name="UPS-A", capacity_kw=rnd.choice([50.0, 120.0, 500.0]))
    ups_b = f.PowerSourceFactory(site=site, name="UPS-B", capacity_kw=rnd.choice([50.0, 120.0, 500.0]))
    f.CoolingLoopFactory(site=site, room=room, name="CRAH", unit_capacity_kw=rnd.choice([30.0, 80.0]), units=3)
    n_racks = 0
    for r in range(rnd.randint(1, 3)):
        row = f.RowFactory(room=room, name=f"row{r}", containment=rnd.choice(["none", "hot_aisle", "cold_aisle"]))
        racks = []
        for _ in range(rnd.randint(1, 4)):
            if n_racks >= max_racks:
                break
            rack = f.RackFactory(row=row, max_load_kg=rnd.choice([600.0, 1000.0, 1500.0]))
            volts, phases, amps = rnd.choice(FEEDS)
            for side, ups in (("A", ups_a), ("B", ups_b)):
                for i in range(rnd.choice([1, 1, 2, 4])):
                    f.PduFactory(
                        rack=rack,
                        name=f"P{side}{i}",
                        side=side,
                        voltage_v=volts,
                        phases=phases,
                        current_a=amps,
                        source=ups,
                    )
            racks.append(rack)
            n_racks += 1
        if racks and rnd.random() < 0.4:
            door = f.CoolingLoopFactory(
                site=site,
                room=room,
                name=f"door{r}",
                kind="rear_door",
                fluid="water",
                unit_capacity_kw=rnd.choice([20.0, 45.0]),
                units=len(racks),
                redundant_units=0,
                supply_temp_c=18.0,
            )
            door.racks.set(racks)
        if racks and rnd.random() < 0.5:
            cdu = f.CoolingLoopFactory(
                site=site,
                room=room,
                name=f"cdu{r}",
                kind="direct_liquid",
                fluid=rnd.choice(["water", "pg25"]),
                unit_capacity_kw=rnd.choice([100.0, 300.0]),
                units=2,
                redundant_units=1,
                supply_temp_c=30.0,
                max_flow_lpm=rnd.choice([None, 200.0, 600.0]),
            )
            cdu.racks.set(racks)
    return site, NodeModel.objects.get(slug=rnd.choice(MODELS)), rnd.randint(1, 30)


def exact_max_units(snapshot, model) -> int:
    """Largest number of units placeable, by depth-first search over per-rack counts with the same
    shared-budget ledger; every partial assignment is re-checked by the engine."""
    racks = snapshot.racks
    standalone = [planning.max_fit(snapshot.contexts[r.id], model, limit=60)[0] for r in racks]
    suffix = [sum(standalone[i:]) for i in range(len(racks))] + [0]
    best = 0

    def dfs(i: int, ledger: planning.Ledger, placed: int) -> None:
        nonlocal best
        best = max(best, placed)
        if i == len(racks) or placed + suffix[i] <= best:
            return
        ctx = planning.current_context(snapshot.contexts[racks[i].id], ledger)
        for count in range(standalone[i], -1, -1):
            if count == 0:
                dfs(i + 1, ledger, placed)
                continue
            result = engine.check_placement(ctx, Placement(model=model, quantity=count))
            if not result.ok:
                continue
            branch = planning.Ledger(
                site_kw=ledger.site_kw,
                room_air_kw=type(ledger.room_air_kw)(float, ledger.room_air_kw),
                source_kw=type(ledger.source_kw)(float, ledger.source_kw),
                loop_kw=type(ledger.loop_kw)(float, ledger.loop_kw),
                loop_room_kw=type(ledger.loop_room_kw)(float, ledger.loop_room_kw),
                loop_room_pass_kw=type(ledger.loop_room_pass_kw)(float, ledger.loop_room_pass_kw),
                nodes=type(ledger.nodes)(list, {k: list(v) for k, v in ledger.nodes.items()}),
                own={k: {**v, "loops": dict(v["loops"])} for k, v in ledger.own.items()},
            )
            planning._record(branch, ctx, model, result.positions)
            dfs(i + 1, branch, placed + count)

    dfs(0, planning.Ledger(), 0)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_feasibility_places_as_many_as_an_exact_solver(seed):
    site, model, _ = random_site(seed)
    snapshot = selectors.site_snapshot(site.id)
    spec = selectors.node_model_spec(model)
    optimum = exact_max_units(snapshot, spec)
    plan = planning.plan_feasibility(snapshot, spec, quantity=optimum + 5)
    assert plan.requested - plan.unplaced == optimum, (model.slug, optimum, plan.to_dict()["placements"])


@pytest.mark.parametrize("seed", range(100, 120))
def test_feasibility_never_places_what_the_check_rejects(seed):
    site, model, quantity = random_site(seed)
    plan = planning.plan_feasibility(selectors.site_snapshot(site.id), selectors.node_model_spec(model), quantity)
    assert len(plan.placements) + plan.unplaced == quantity
    # Reserve the plan unit by unit through the locked service: each unit is re-checked on the state left
    # by the ones before it, and any rejection raises.
    services.feasibility_commit(model_id=model.id, placements=plan.placements)
    assert Node.objects.count() == len(plan.placements)
    # No limit is exceeded in total: every rack of the site passes every rule as it now stands.
    for rack_id, ctx in selectors.site_snapshot(site.id).contexts.items():
        failing = [(c.code, c.message) for c in engine.check_rack(ctx).checks if c.status == "fail"]
        assert not failing, (rack_id, failing)
    if plan.unplaced:
        assert plan.binding


def test_feasibility_respects_receptacles_and_phases():
    # Two racks, one 415 V 3-phase 63 A PDU per side (36.23 kW usable each: power is no limit for 3 H100 = 30.6
    # kW). Rack 1 has 3 C19 per side: one DGX H100 (6 C19 cords, §1.2: 3 per side) fills it; rack 2 has 6: two.
    # Asked for 5, the plan places 1 + 2 = 3 and names POWER_OUTLETS as binding.
    site = f.SiteFactory(utility_capacity_kw=None)
    room = f.RoomFactory(site=site, floor_type="slab", floor_rated_load_kg_m2=5000.0)
    f.CoolingLoopFactory(site=site, room=room, name="CRAH", unit_capacity_kw=500.0, units=2)
    row = f.RowFactory(room=room, name="r", containment="hot_aisle", air_kw_per_rack_limit=100.0)
    racks = []
    for i, c19 in enumerate((3, 6)):
        rack = f.RackFactory(row=row, name=f"R{i}", position=i + 1, max_load_kg=2000.0)
        for side in ("A", "B"):
            f.PduFactory(rack=rack, name=f"P{side}", side=side, voltage_v=415.0, current_a=63.0, receptacles_c19=c19)
        racks.append(rack)
    model = NodeModel.objects.get(slug="dgx-h100")
    plan = planning.plan_feasibility(selectors.site_snapshot(site.id), selectors.node_model_spec(model), 5)
    per_rack = {}
    for p in plan.placements:
        per_rack[p["rack"]] = per_rack.get(p["rack"], 0) + 1
    assert per_rack == {racks[0].id: 1, racks[1].id: 2} and plan.unplaced == 2
    assert "POWER_OUTLETS" in plan.binding
