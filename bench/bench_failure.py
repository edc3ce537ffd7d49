"""Failure benchmark: the N-1 sweep (planner.engine.failure.n1_sweep) of a 5,000-rack synthetic site.

Run from the project root: ``.venv/bin/python bench/bench_failure.py [racks]``. Prints the index build time
and the sweep's (best of two passes, wall and CPU): target < 5 s for 5,000 racks. Pure engine, no database.
``--verify [racks]`` (default 500) compares the sweep's summary of every element with a full what-if of it.

The site: rooms of 500 racks (25 rows of 20), a utility -> UPS A / UPS B per room -> a panel per row and
side chain (one room in four feeds both sides from UPS A: a common-mode UPS), four N+1 CRAH groups per room,
rows of DGX H100 racks (half with a rear door each), rows of GB200 NVL72 racks on two CDUs per row, and rows
of CPU racks on single-phase PDUs. Every "other" load in the contexts is the site's total minus the rack's
own share, from ``planner.engine.flow.site_heat_flow`` as the selector computes it.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planner.engine.failure import build_index, n1_sweep
from planner.engine.flow import RackHeat, site_heat_flow
from planner.engine.inputs import (
    CoolingLoopSpec,
    NodeModelSpec,
    PduSpec,
    PlacedNode,
    PowerSourceSpec,
    RackContext,
    RackSpec,
    RoomSpec,
    RowSpec,
    SiteSpec,
)
from planner.engine.units import loop_usable_kw

H100 = NodeModelSpec("dgx-h100", 8, 10.2, 10.2, 130.45, "air", 0.0, 1105.0, 6, 3.3, 4, 30.0, None)
GB200 = NodeModelSpec("gb200-nvl72", 35, 132.0, 120.0, 1360.0, "hybrid", 0.8712, None, 48, 5.5, 24, None, None, True)
CPU = NodeModelSpec("cpu-2u", 2, 1.5, 1.5, 32.0, "air", 0.0, None, 2, 1.5, 1, 35.0, None)
GPUS = {"dgx-h100": 8, "gb200-nvl72": 72, "cpu-2u": 0}
ROOM_RACKS, ROW_RACKS = 500, 20


def _usable(lp: CoolingLoopSpec) -> float:
    return loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units)


def build_site(n_racks: int) -> dict[int, RackContext]:
    site = SiteSpec(1, "bench", None)
    sources = {1: PowerSourceSpec(1, "utility", "utility", 1e6)}
    raw = []  # (rack spec, room spec, row spec, nodes, pdus, loops)
    next_id = iter(range(10, 10**9))
    rooms: dict[int, tuple[RoomSpec, tuple]] = {}
    for r in range(n_racks):
        room_no, in_room = divmod(r, ROOM_RACKS)
        row_no = in_room // ROW_RACKS
        if room_no not in rooms:
            ups_a = next(next_id)
            ups_b = next(next_id)
            sources[ups_a] = PowerSourceSpec(ups_a, f"ups-{room_no}a", "ups", 30000.0, parent_id=1)
            sources[ups_b] = PowerSourceSpec(ups_b, f"ups-{room_no}b", "ups", 30000.0, parent_id=1)
            crahs = tuple(
                CoolingLoopSpec(next(next_id), f"crah-{room_no}-{i}", "crah", 600.0, 7, 1, 18.0, 10.0, "air")
                for i in (1, 2, 3, 4)
            )
            room = RoomSpec(room_no + 1, f"hall-{room_no}", "slab", 2500.0, air_loops=crahs)
            rooms[room_no] = (room, (ups_a, ups_b), {})
        room, (ups_a, ups_b), rows = rooms[room_no]
        if row_no not in rows:
            kind = ("h100", "gb200", "cpu", "h100")[row_no % 4]
            pan_a, pan_b = next(next_id), next(next_id)
            feed_b = ups_a if room_no % 4 == 3 else ups_b  # one room in four: common-mode UPS
            sources[pan_a] = PowerSourceSpec(pan_a, f"pan-{room_no}-{row_no}a", "panel", 3000.0, parent_id=ups_a)
            sources[pan_b] = PowerSourceSpec(pan_b, f"pan-{room_no}-{row_no}b", "panel", 3000.0, parent_id=feed_b)
            cdus = ()
            if kind == "gb200":
                cdus = tuple(
                    CoolingLoopSpec(
                        next(next_id),
                        f"cdu-{room_no}-{row_no}-{i}",
                        "direct_liquid",
                        700.0,
                        3,
                        1,
                        30.0,
                        10.0,
                        "water",
                        None,
                        0.0,
                        ROW_RACKS,
                    )
                    for i in (1, 2)
                )
            row = RowSpec(room_no * 100 + row_no, f"row-{row_no}", 1200.0, "hot_aisle", 200.0)
            rows[row_no] = (kind, row, pan_a, pan_b, cdus)
        kind, row, pan_a, pan_b, cdus = rows[row_no]
        rid = r + 1
        loops = (*room.air_loops,)
        if kind == "h100":
            nodes = tuple(PlacedNode(H100, 1 + 8 * i, rid * 100 + i) for i in range(4))
            pdus = tuple(
                PduSpec(next(next_id), f"P{side}{i}", side, 3, 415.0, 63.0, 1.0, pan_a if side == "A" else pan_b)
                for side in "AB"
                for i in (1, 2)
            )
            if r % 2:
                loops += (
                    CoolingLoopSpec(
                        next(next_id), f"rd-{rid}", "rear_door", 35.0, 1, 0, 18.0, 10.0, "water", None, 0.0, 1
                    ),
                )
        elif kind == "gb200":
            nodes = (PlacedNode(GB200, 1, rid * 100),)
            pdus = tuple(
                PduSpec(next(next_id), f"P{side}", side, 3, 415.0, 250.0, 1.0, pan_a if side == "A" else pan_b)
                for side in "AB"
            )
            loops += cdus
        else:
            nodes = tuple(PlacedNode(CPU, 1 + 2 * i, rid * 100 + i) for i in range(3))
            pdus = tuple(
                PduSpec(next(next_id), f"P{side}", side, 1, 230.0, 32.0, 1.0, pan_a if side == "A" else pan_b)
                for side in "AB"
            )
        rack = RackSpec(rid, f"R{room_no:02d}-{row_no:02d}-{in_room % ROW_RACKS:02d}", 42, 600.0, 1200.0, 1500.0, 150.0)
        raw.append((rack, room, row, nodes, pdus, loops))

    # The shared totals, as the selector sums them.
    heats, power_of = [], {}
    source_kw: dict[int, float] = defaultdict(float)
    for rack, room, _row, nodes, pdus, loops in raw:
        power = sum(n.model.max_power_kw for n in nodes)
        liquid = sum(n.model.max_power_kw * n.model.liquid_fraction for n in nodes)
        power_of[rack.rack_id] = power
        heats.append(
            RackHeat(
                rack.rack_id,
                room.room_id,
                power,
                liquid,
                liquid=tuple((lp.loop_id, _usable(lp)) for lp in loops if lp.kind == "direct_liquid"),
                close=tuple((lp.loop_id, _usable(lp)) for lp in loops if lp.kind == "rear_door"),
            )
        )
        fed = set()
        for p in pdus:
            sid = p.source_id
            while sid is not None and sid not in fed:
                fed.add(sid)
                sid = sources[sid].parent_id
        for sid in fed:
            source_kw[sid] += power
        rack_chain = fed
        raw[len(power_of) - 1] += (rack_chain,)
    flow = site_heat_flow(heats)
    site_kw = sum(power_of.values())
    contexts = {}
    for rack, room, row, nodes, pdus, loops, chain in raw:
        own = power_of[rack.rack_id]
        share = flow.shares[rack.rack_id]
        specs, room_other, has_close = [], flow.room_air_left_kw[room.room_id], False
        for lp in loops:
            if lp.kind == "direct_liquid":
                lp = replace(
                    lp, other_heat_kw=max(flow.loop_liquid_kw[lp.loop_id] - share.liquid_by_loop[lp.loop_id], 0)
                )
            elif lp.kind == "rear_door":
                has_close = True
                mine = share.offer_by_loop.get(lp.loop_id, 0.0)
                offered = flow.close_offered_kw.get(lp.loop_id, 0.0)
                room_other -= flow.close_offered_room_kw.get((lp.loop_id, room.room_id), 0.0) * flow.close_pass.get(
                    lp.loop_id, 0.0
                )
                lp = replace(lp, other_heat_kw=max(offered - mine, 0.0), other_room_heat_kw=max(offered - mine, 0.0))
            specs.append(lp)
        if not has_close:
            room_other -= share.air_left_kw
        contexts[rack.rack_id] = RackContext(
            replace(site, other_load_kw=site_kw - own),
            replace(room, other_air_heat_kw=max(room_other, 0.0)),
            row,
            rack,
            nodes,
            pdus,
            tuple(replace(sources[sid], other_load_kw=source_kw[sid] - own) for sid in sorted(chain)),
            tuple(specs),
        )
    return contexts


def main(n_racks: int = 5000, repeat: int = 2) -> float:
    contexts = build_site(n_racks)
    t0 = time.perf_counter()
    ix = build_index(contexts, GPUS)
    build = time.perf_counter() - t0
    runs, cpu = [], []
    entries = ()
    load = os.getloadavg()[0]
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        entries = n1_sweep(ix)
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    dt = min(runs)
    spofs = [e for e in entries if e.spof]
    print(
        f"{n_racks} racks: index built in {build:.2f} s; N-1 sweep of {len(entries)} elements in {dt:.2f} s "
        f"(best of {repeat}: wall {', '.join(f'{r:.2f}' for r in runs)} s, cpu {', '.join(f'{c:.2f}' for c in cpu)} s; "
        f"load average {load:.1f} before); target < 5 s; {len(spofs)} SPOF(s); "
        f"worst: {entries[0].element.kind} {entries[0].element.name} ({entries[0].summary.racks_failing} racks fail)"
    )
    return dt


def verify(n_racks: int) -> int:
    """Every element of an ``n_racks`` site: the sweep's summary against a full what-if of it (every rule on
    every rack touched). Prints and returns the number that differ (0 expected)."""
    from planner.engine.failure import what_if

    ix = build_index(build_site(n_racks), GPUS)
    entries = n1_sweep(ix)
    bad = [e for e in entries if what_if(ix, [e.element.failure]).summary != e.summary]
    for e in bad[:5]:
        print("differs:", e.element.kind, e.element.id, e.element.name, e.summary)
    print(f"verify {n_racks} racks: {len(entries)} elements, {len(bad)} sweep summaries differ from what-if")
    return len(bad)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--verify" in sys.argv:
        sys.exit(1 if verify(int(args[0]) if args else 500) else 0)
    main(int(args[0]) if args else 5000)
