"""Engine benchmark: 10,000 check_placement calls on 10,000 realistic rack contexts.

Run from the project root: ``.venv/bin/python bench/bench_engine.py [count]``. Prints e.g.
"10000 checks in 0.42 s (42 us/check)" (best of three timed passes after a warm-up pass), then the time of
rack_headroom with the nine catalogue models.
Contexts are a seeded mix: legacy CPU racks on open aisles with single-phase PDUs, contained DGX racks with
3-phase PDUs and rear doors, direct-liquid racks with CDU loops, and immersion tanks; each with existing
nodes, A/B PDUs on a UPS/panel chain and room air loops.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planner.engine import (
    CoolingLoopSpec,
    NodeModelSpec,
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

# The shipped catalogue (reference §1.1).
A100 = NodeModelSpec("dgx-a100", 6, 6.5, 6.5, 123.16, "air", 0.0, 840.0, 6, 3.0, 3, 30.0, None)
# DGX H100/H200: 6 x C19/C20 cords (reference §1.2, P [S1]); the others' cords are unsourced.
H100 = NodeModelSpec(
    "dgx-h100", 8, 10.2, 10.2, 130.45, "air", 0.0, 1105.0, 6, 3.3, 4, 30.0, None, cord_count=6, cord_receptacle="C19"
)
H200 = NodeModelSpec(
    "dgx-h200", 8, 10.2, 10.2, 130.45, "air", 0.0, 1105.0, 6, 3.3, 4, 30.0, None, cord_count=6, cord_receptacle="C19"
)
B200 = NodeModelSpec("dgx-b200", 10, 14.3, 14.3, 142.4, "air", 0.0, 1550.0, 6, 3.3, 5, 35.0, None)
B300 = NodeModelSpec("dgx-b300", 10, 14.5, 14.5, 168.0, "air", 0.0, 1500.0, 12, 3.2, 6, None, None)
GB200 = NodeModelSpec("gb200-nvl72", 35, 132.0, 120.0, 1360.0, "hybrid", 0.8712, None, 48, 5.5, 24, None, None, True)
GB300 = NodeModelSpec("gb300-nvl72", 35, 155.0, 135.0, 1360.0, "hybrid", 0.8712, None, 48, 5.5, 24, None, 45.0, True)
HGX = NodeModelSpec("hgx-h100-8gpu", 6, 14.0, 14.0, 107.75, "air", 0.0, None, 6, 2.8, 5, None, None)
CPU = NodeModelSpec("cpu-2u", 2, 1.5, 1.5, 32.0, "air", 0.0, None, 2, 1.5, 1, 35.0, None)
CATALOGUE = (A100, H100, H200, B200, B300, GB200, GB300, HGX, CPU)
DGX = (A100, H100, H200, B200, B300, HGX)


def _sources(rnd: random.Random) -> tuple[PowerSourceSpec, ...]:
    util = PowerSourceSpec(1, "utility", "utility", 4000.0, rnd.uniform(1000, 3500))
    ups_a = PowerSourceSpec(2, "ups-a", "ups", 1000.0, rnd.uniform(200, 900), 1)
    ups_b = PowerSourceSpec(3, "ups-b", "ups", 1000.0, rnd.uniform(200, 900), 1)
    pan_a = PowerSourceSpec(4, "panel-a", "panel", 250.0, rnd.uniform(20, 200), 2)
    pan_b = PowerSourceSpec(5, "panel-b", "panel", 250.0, rnd.uniform(20, 200), 3)
    return (util, ups_a, ups_b, pan_a, pan_b)


def _fill(rnd: random.Random, model: NodeModelSpec, count: int, u_height: int) -> tuple[PlacedNode, ...]:
    nodes, u = [], 1 + rnd.randrange(0, 3)
    for i in range(count):
        if u + model.u_height - 1 > u_height:
            break
        nodes.append(PlacedNode(model, u, 1000 + i, f"{model.slug}-{i}"))
        u += model.u_height + rnd.randrange(0, 2)
    return tuple(nodes)


def make_context(rnd: random.Random) -> tuple[RackContext, Placement]:
    kind = rnd.choices(("legacy", "air_ai", "dlc", "immersion"), weights=(4, 4, 2, 1))[0]
    raised = rnd.random() < 0.5
    crah = CoolingLoopSpec(10, "crah", "crah", 100.0, rnd.randint(6, 12), 1, rnd.uniform(16, 24), 10.0, "air")
    site = SiteSpec(1, "site", rnd.choice((None, 5000.0, 3000.0)), 0.8, rnd.uniform(500, 2500))
    room = RoomSpec(
        1,
        "hall",
        "raised" if raised else "slab",
        rnd.choice((1220.0, 1500.0, 2000.0)) if kind != "legacy" else 732.0,
        rnd.choice((454.0, 680.0, None)) if raised else None,
        rnd.choice(("footprint", "half_aisle")),
        rnd.uniform(50, 400),
        (crah,),
    )
    rack = RackSpec(1, "R", 42, 600.0, 1200.0, rnd.choice((900.0, 1360.0, 1800.0)), 150.0)
    sources = _sources(rnd)
    loops: tuple[CoolingLoopSpec, ...] = ()
    if kind == "legacy":
        row = RowSpec(1, "row", 1200.0, "none", None)
        pdus = (PduSpec(1, "A", "A", 3, 208.0, 30.0, 1.0, 4), PduSpec(2, "B", "B", 3, 208.0, 30.0, 1.0, 5))
        nodes = _fill(rnd, CPU, rnd.randint(0, 4), 42)
        model, qty = CPU, rnd.randint(1, 2)
    elif kind == "air_ai":
        row = RowSpec(1, "row", 1200.0, rnd.choice(("cold_aisle", "hot_aisle")), None)
        pdus = tuple(
            PduSpec(i, f"P{i}", "AB"[i % 2], 3, 415.0, 63.0, 1.0, 4 + i % 2) for i in range(rnd.choice((2, 4)))
        )
        loops = (CoolingLoopSpec(20, "rdhx", "rear_door", 40.0, 1, 0, 18.0, 10.0, "water", None, 0.0, 1),)
        existing = rnd.choice(DGX)
        nodes = _fill(rnd, existing, rnd.randint(0, 2), 42)
        model, qty = rnd.choice(DGX), rnd.randint(1, 2)
    elif kind == "dlc":
        row = RowSpec(1, "row", 1200.0, "hot_aisle", None)
        pdus = tuple(PduSpec(i, f"P{i}", "AB"[i % 2], 3, 415.0, 125.0, 1.0, 4 + i % 2) for i in range(4))
        cdu = CoolingLoopSpec(
            30,
            "cdu",
            "direct_liquid",
            250.0,
            3,
            1,
            32.0,
            10.0,
            rnd.choice(("water", "pg25")),
            900.0,
            rnd.uniform(0, 300),
            4,
        )
        loops = (cdu,)
        nodes = ()
        model, qty = rnd.choice((GB200, GB300)), 1
    else:
        row = RowSpec(1, "row", 1200.0, "none", None)
        pdus = tuple(PduSpec(i, f"P{i}", "AB"[i % 2], 3, 415.0, 63.0, 1.0, 4 + i % 2) for i in range(4))
        loops = (CoolingLoopSpec(40, "tank", "immersion", 150.0, 1, 0, 35.0, 8.0, "water", 300.0, 0.0, 1),)
        nodes = _fill(rnd, H100, rnd.randint(0, 4), 42)
        model, qty = rnd.choice(DGX), rnd.randint(1, 2)
    ctx = RackContext(site, room, row, rack, nodes, pdus, sources, loops)
    roll = rnd.random()
    if roll < 0.1 and not model.rack_scale:
        placement = Placement(model, 1, rnd.randint(1, 40))
    elif roll < 0.2 and nodes:
        placement = Placement(model, 1, None, (nodes[0].node_id,))
    else:
        placement = Placement(model, qty)
    return ctx, placement


def main(count: int = 10_000, repeat: int = 3) -> float:
    """Time ``count`` checks ``repeat`` times (the machine is shared: the best pass is the figure)."""
    rnd = random.Random(20261123)
    cases = [make_context(rnd) for _ in range(count)]
    fails = sum(not check_placement(ctx, placement).ok for ctx, placement in cases)  # warm-up pass
    runs, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        for ctx, placement in cases:
            check_placement(ctx, placement)
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    dt = min(runs)
    print(
        f"{count} checks in {dt:.2f} s ({dt / count * 1e6:.0f} us/check); best of {repeat} passes "
        f"(wall {', '.join(f'{r:.2f}' for r in runs)} s; cpu {', '.join(f'{c:.2f}' for c in cpu)} s); "
        f"{fails} placements fail a rule"
    )

    n = min(count, 1000)
    t0 = time.perf_counter()
    for ctx, _ in cases[:n]:
        rack_headroom(ctx, CATALOGUE)
    dh = time.perf_counter() - t0
    print(f"{n} rack headrooms with {len(CATALOGUE)} models in {dh:.2f} s ({dh / n * 1e3:.2f} ms/rack)")
    return dt


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
