"""Engine test inputs: the reference catalogue as specs and a context builder with plain defaults.

Figures are from /work/shared/reference/engineering.md §1.1 (source tags as there); GB200 NVL72 split is
115 kW liquid / 17 kW air of 132 kW (P* [S10], liquid fraction 0.871).
"""

from __future__ import annotations

from dataclasses import replace

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

# §1.1 P* [S3]: 6.5 kW, 6U, 123.16 kg, 6 x 3.0 kW PSU 3+3, inlet 5-30 C.
A100 = NodeModelSpec("dgx-a100", 6, 6.5, 6.5, 123.16, "air", 0.0, 840.0, 6, 3.0, 3, 30.0, None)
# §1.1 P [S1]: 10.2 kW, 8U, 130.45 kg, 6 x 3.3 kW PSU 4+2, inlet 5-30 C.
H100 = NodeModelSpec("dgx-h100", 8, 10.2, 10.2, 130.45, "air", 0.0, 1105.0, 6, 3.3, 4, 30.0, None)
# §1.1 P [S2] / P* [S2b]: 14.3 kW, 10U, 142.4 kg, 6 x 3.3 kW PSU 5+1, inlet 10-35 C.
B200 = NodeModelSpec("dgx-b200", 10, 14.3, 14.3, 142.4, "air", 0.0, 1550.0, 6, 3.3, 5, 35.0, None)
# §1.1 P* [S4] / S [S4b]: 14.5 kW, 10 RU, 168 kg (AC-PSU), 12 x 3.2 kW N+N, inlet unsourced.
B300 = NodeModelSpec("dgx-b300", 10, 14.5, 14.5, 168.0, "air", 0.0, 1500.0, 12, 3.2, 6, None, None)
# §1.1 P* [S10] 132 kW = 115 liquid + 17 air (0.871), T [S9] 1.36 t; rack-scale, its weight includes the frame.
GB200 = NodeModelSpec(
    "gb200-nvl72", 35, 132.0, 120.0, 1360.0, "hybrid", 0.871, None, 48, 5.5, 24, None, None, rack_scale=True
)
# §1.1 P* [S11] Lenovo: 155 kW peak, supply 25-45 C.
GB300 = NodeModelSpec(
    "gb300-nvl72", 35, 155.0, 135.0, 1360.0, "hybrid", 0.871, None, 48, 5.5, 24, None, 45.0, rack_scale=True
)
# §1.1 T [S14], S [S15]: 6U, 107.75 kg, 6 x 2.8 kW 5+1 (max power bounded by PSUs: 14.0 kW).
HGX = NodeModelSpec("hgx-h100-8gpu", 6, 14.0, 14.0, 107.75, "air", 0.0, None, 6, 2.8, 5, None, None)
# §1.1 P [S16] SR650 V2 contrast (1.5 kW, 32 kg: upper ends of T bands), inlet A2 35 C.
CPU2U = NodeModelSpec("cpu-2u", 2, 1.5, 1.5, 32.0, "air", 0.0, None, 2, 1.5, 1, 35.0, None)
# A direct-liquid 1U tray for liquid tests (not a catalogue model): 80 % liquid, supply limit 40 C.
DLC1U = NodeModelSpec("dlc-1u", 1, 2.0, 2.0, 20.0, "hybrid", 0.8, None, 2, 2.0, 1, 35.0, 40.0)
H200 = replace(H100, slug="dgx-h200")

CATALOGUE = (A100, H100, H200, B200, B300, GB200, GB300, HGX, CPU2U)


def site(**kw) -> SiteSpec:
    return SiteSpec(**{"site_id": 1, "name": "site", "utility_capacity_kw": None, **kw})


def room(**kw) -> RoomSpec:
    # 1,220 kg/m2 ~ 12 kPa slab (TIA-569, §5.2 P [S36]); raised floors set their own figures.
    return RoomSpec(**{"room_id": 1, "name": "room", "floor_type": "slab", "floor_rated_load_kg_m2": 1220.0, **kw})


def row(**kw) -> RowSpec:
    return RowSpec(**{"row_id": 1, "name": "row", **kw})


def rack(**kw) -> RackSpec:
    return RackSpec(**{"rack_id": 1, "name": "R1", "max_load_kg": 1500.0, "empty_weight_kg": 150.0, **kw})


def pdu(side: str = "A", *, v: float = 415.0, a: float = 63.0, phases: int = 3, pf: float = 1.0, source=None, i=1):
    return PduSpec(i, f"PDU-{side}{i}", side, phases, v, a, pf, source)


def loop(kind: str = "crah", cap: float = 100.0, units: int = 1, redundant: int = 0, **kw) -> CoolingLoopSpec:
    fluid = kw.pop("fluid", "air" if kind == "crah" else "water")
    return CoolingLoopSpec(
        **{
            "loop_id": kw.pop("loop_id", None),
            "name": kw.pop("name", kind),
            "kind": kind,
            "unit_capacity_kw": cap,
            "units": units,
            "redundant_units": redundant,
            "supply_temp_c": kw.pop("supply_temp_c", 18.0),
            "delta_t_c": kw.pop("delta_t_c", 10.0),
            "fluid": fluid,
            **kw,
        }
    )


def placed(model: NodeModelSpec, u: int, node_id: int | None = None, name: str = "") -> PlacedNode:
    return PlacedNode(model, u, node_id, name)


def stack(model: NodeModelSpec, count: int, start: int = 1, first_id: int = 100) -> tuple[PlacedNode, ...]:
    """``count`` units of ``model`` bottom-up from ``start``."""
    return tuple(placed(model, start + i * model.u_height, first_id + i) for i in range(count))


def ctx(**kw) -> RackContext:
    """A rack with generous budgets: 2 x 415 V 63 A PDUs per side, a 1 MW room CRAH, unlimited utility.

    Override any part: site=, room=, row=, rack=, nodes=, pdus=, sources=, loops=.
    """
    base = {
        "site": site(),
        "room": room(air_loops=(loop("crah", 1000.0, name="crah-room"),)),
        "row": row(air_kw_per_rack_limit=1000.0),
        "rack": rack(),
        "nodes": (),
        "pdus": (pdu("A", i=1), pdu("A", i=2), pdu("B", i=3), pdu("B", i=4)),
        "sources": (),
        "loops": (),
    }
    base.update(kw)
    return RackContext(**base)


def source(sid: int, capacity_kw: float, other_load_kw: float = 0.0, parent_id=None, kind="ups") -> PowerSourceSpec:
    return PowerSourceSpec(sid, f"{kind}-{sid}", kind, capacity_kw, other_load_kw, parent_id)
