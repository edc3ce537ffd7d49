"""Engine inputs: frozen snapshots of a rack in its context.

Selectors build these from database rows; the engine never sees the ORM. Every quantity carries its unit
in its name. Loads "other_*" are the loads of everything *except* the rack being checked, so the engine
can add the rack's own (proposed) load without double counting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.engine.units import source_usable_kw


@dataclass(frozen=True, slots=True)
class NodeModelSpec:
    """A catalogue entry (one server or one rack-scale system)."""

    slug: str
    u_height: int
    max_power_kw: float
    typical_power_kw: float
    weight_kg: float
    cooling: str  # "air" | "liquid" | "hybrid"
    liquid_fraction: float  # share of heat to the liquid loop, 0..1
    airflow_cfm: float | None
    psu_count: int
    psu_rating_kw: float
    psus_required: int
    max_inlet_temp_c: float | None  # None: vendor limit unsourced
    max_supply_temp_c: float | None  # liquid supply limit; None: unsourced / not liquid
    rack_scale: bool = False
    name: str = ""
    heat_output_kw: float | None = None  # vendor's published heat output; None: not published (units.node_heat_kw)
    # Power cords (reference §1.2): how many, and the PDU receptacle each plugs into ("C13" | "C19" |
    # "IEC60309"); None: not sourced (POWER_OUTLETS says "not checked", POWER_PHASE spreads the load evenly).
    cord_count: int | None = None
    cord_receptacle: str | None = None
    # Network ports by purpose (reference §11.1): ((purpose, count, Gb/s), ...); a purpose absent or a count None:
    # not stated. purpose: "compute" | "storage" | "inband" | "oob" (planner.engine.fabric.model_ports).
    ports: tuple[tuple[str, int | None, float | None], ...] = ()
    kind: str = "system"  # "system" | "switch"


@dataclass(frozen=True, slots=True)
class PlacedNode:
    """A node already in the rack. u_position is the lowest U it occupies (1-based)."""

    model: NodeModelSpec
    u_position: int
    node_id: int | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class PduSpec:
    pdu_id: int | None
    name: str
    side: str  # "A" | "B"
    phases: int  # 1 | 3
    voltage_v: float  # line-to-line when 3-phase
    current_a: float  # breaker rating
    power_factor: float = 1.0
    source_id: int | None = None
    # Receptacles by type (None: unknown, POWER_OUTLETS "not checked") and branch breakers (rating, how many;
    # None: unknown, branches not checked). planner.engine.rules.circuits.
    receptacles_c13: int | None = None
    receptacles_c19: int | None = None
    receptacles_iec60309: int | None = None
    branch_breaker_a: float | None = None
    branch_count: int | None = None


@dataclass(frozen=True, slots=True)
class PowerSourceSpec:
    """One power source on the chain above any of the rack's PDUs.

    other_load_kw: budgeted load of every *other* rack fed through this source (directly or via its
    descendants).
    """

    source_id: int
    name: str
    kind: str
    capacity_kw: float | None  # the kW rating (None: rated in kVA only)
    other_load_kw: float = 0.0
    parent_id: int | None = None
    capacity_kva: float | None = None
    power_factor: float = 1.0
    derating: float = 1.0  # continuous-load factor applied (units.source_derating); 1.0: none
    usable_kw: float | None = None  # units.source_usable_kw of the above (the selector passes it; filled if None)

    def __post_init__(self) -> None:
        if self.usable_kw is None:
            object.__setattr__(
                self,
                "usable_kw",
                source_usable_kw(self.capacity_kw, self.capacity_kva, self.power_factor, self.derating),
            )


@dataclass(frozen=True, slots=True)
class CoolingLoopSpec:
    """A cooling loop that serves the rack (or its whole room / site).

    other_heat_kw: heat already put on this loop by every *other* rack it serves (for liquid loops:
    liquid heat; for close-coupled units: air heat offered to them; see ``planner.engine.flow``).
    other_room_heat_kw: of that, what the other racks of the checked rack's room offer (close-coupled
    units only; the part that reaches this room's CRAH pool when the unit is short).
    racks_served: how many racks list this loop; 0 means room- or site-wide.
    """

    loop_id: int | None
    name: str
    kind: str  # "crah" | "in_row" | "rear_door" | "direct_liquid" | "immersion"
    unit_capacity_kw: float
    units: int
    redundant_units: int
    supply_temp_c: float
    delta_t_c: float
    fluid: str  # "air" | "water" | "pg25"
    max_flow_lpm: float | None = None
    other_heat_kw: float = 0.0
    racks_served: int = 0
    other_room_heat_kw: float = 0.0
    unit_airflow_cfm: float | None = None  # air one unit delivers (air-side units); None: unknown
    # Close-coupled units: node air (CFM) every other rack offers this unit (each rack's node air split over
    # its close-coupled units in proportion to their usable kW, as its air heat is), and how many of those
    # racks' node air is unknown. COOLING_AIRFLOW checks the unit's whole demand against its airflow.
    other_airflow_cfm: float = 0.0
    other_airflow_unknown: int = 0
    approach_c: float | None = None  # liquid loops: CDU approach, K (node supply = supply + approach); None: not given


@dataclass(frozen=True, slots=True)
class SiteSpec:
    site_id: int | None
    name: str
    utility_capacity_kw: float | None  # None: unlimited
    power_derating: float = 0.8
    other_load_kw: float = 0.0  # every other rack on the site
    energy_price_per_kwh: float | None = None
    carbon_kg_per_kwh: float | None = None
    design_pue: float | None = None
    # POWER_PHASE warns when a 3-phase PDU's phase currents deviate from their mean by more than this share of
    # it (settings.PLANNER_PHASE_IMBALANCE_SHARE; the reference gives no figure: configuration, unsourced).
    phase_imbalance_share: float = 0.2


@dataclass(frozen=True, slots=True)
class RoomSpec:
    room_id: int | None
    name: str
    floor_type: str  # "raised" | "slab"
    floor_rated_load_kg_m2: float
    tile_rated_load_kg: float | None = None
    floor_load_method: str = "footprint"  # "footprint" | "half_aisle"
    # Air heat the room's CRAH pool carries from everything except this rack and the close-coupled units
    # serving it (planner.engine.flow.room_air_left_kw adds those back).
    other_air_heat_kw: float = 0.0
    air_loops: tuple[CoolingLoopSpec, ...] = ()  # the room's CRAH/CRAC pool (close-coupled units never)
    tile_rolling_load_kg: float | None = None  # rolling load per caster the panels take; None: not checked
    # Node air (CFM) the room's CRAH pool must deliver for everything but this rack and the close-coupled
    # units serving it: the node air of racks no close-coupled unit serves, and of every other unit what it
    # cannot move (planner.engine.flow.close_unit_excess_cfm); and how many of the room's other racks' node
    # airflow is unknown (no catalogue CFM and no air-side delta T).
    other_airflow_cfm: float = 0.0
    other_airflow_unknown: int = 0


@dataclass(frozen=True, slots=True)
class RowSpec:
    row_id: int | None
    name: str
    aisle_width_mm: float = 1200.0
    containment: str = "none"  # "none" | "cold_aisle" | "hot_aisle"
    air_kw_per_rack_limit: float | None = None  # None: default by containment


@dataclass(frozen=True, slots=True)
class RackSpec:
    rack_id: int | None
    name: str
    u_height: int = 42
    width_mm: float = 600.0
    depth_mm: float = 1200.0
    max_load_kg: float = 0.0
    empty_weight_kg: float = 0.0


@dataclass(frozen=True, slots=True)
class RackContext:
    """Everything the rules need about one rack, its neighbours' loads and its budgets."""

    site: SiteSpec
    room: RoomSpec
    row: RowSpec
    rack: RackSpec
    nodes: tuple[PlacedNode, ...] = ()
    pdus: tuple[PduSpec, ...] = ()
    sources: tuple[PowerSourceSpec, ...] = ()  # union of the chains above the rack's PDUs
    loops: tuple[CoolingLoopSpec, ...] = ()  # loops serving this rack (any kind)
    fabrics: tuple = ()  # planner.engine.fabric.FabricSpec of every fabric serving this rack


@dataclass(frozen=True, slots=True)
class Placement:
    """A proposed placement: quantity units of model, from u_position (one unit) or auto (lowest free)."""

    model: NodeModelSpec
    quantity: int = 1
    u_position: int | None = None
    exclude_node_ids: tuple[int, ...] = field(default=())  # nodes moved away (a move re-checks without them)
