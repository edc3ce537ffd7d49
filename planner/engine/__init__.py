"""The pure-Python constraint engine: frozen inputs in, result dataclasses out. No Django import.

Public API: ``check_placement``, ``check_rack``, ``rack_headroom`` and the shared formulas ``pdu_usable_kw``,
``loop_usable_kw``, ``coolant_flow_lpm``.
"""

from planner.engine.check import check_placement, check_rack
from planner.engine.headroom import (
    FloorHeadroom,
    KgHeadroom,
    KwHeadroom,
    RackHeadroom,
    SpaceHeadroom,
    Stranded,
    rack_headroom,
)
from planner.engine.inputs import (
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
)
from planner.engine.results import FAIL, OK, RULE_CODES, WARN, CheckResult, RuleResult
from planner.engine.rules.circuits import phase_currents
from planner.engine.units import FLUIDS, coolant_flow_lpm, flow_heat_kw, loop_usable_kw, pdu_usable_kw

__all__ = [
    "FAIL",
    "FLUIDS",
    "OK",
    "RULE_CODES",
    "WARN",
    "CheckResult",
    "CoolingLoopSpec",
    "FloorHeadroom",
    "KgHeadroom",
    "KwHeadroom",
    "NodeModelSpec",
    "PduSpec",
    "PlacedNode",
    "Placement",
    "PowerSourceSpec",
    "RackContext",
    "RackHeadroom",
    "RackSpec",
    "RoomSpec",
    "RowSpec",
    "RuleResult",
    "SiteSpec",
    "SpaceHeadroom",
    "Stranded",
    "check_placement",
    "check_rack",
    "coolant_flow_lpm",
    "flow_heat_kw",
    "loop_usable_kw",
    "pdu_usable_kw",
    "phase_currents",
    "rack_headroom",
]
