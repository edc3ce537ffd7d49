"""The rack after a placement, computed once and shared by every rule (the rules live in floor, power,
cooling and space; check.py runs them in DESIGN order).

``build_state`` removes excluded nodes, adds the proposed units (to the loads even when SPACE fails, so the
other rules still say what the placement would do) and sums load, weight and heat in one pass.
"""

from __future__ import annotations

from planner.engine.flow import heat_split_kw, immersed
from planner.engine.inputs import NodeModelSpec, PlacedNode, Placement, RackContext
from planner.engine.units import node_heat_kw

# Comparisons tolerate float noise (4 x 10.2 = 40.800000000000004): a value passes at its limit. Hot rules
# inline the same test: value <= limit * REL + EPS.
EPS = 1e-9
REL = 1.0 + 1e-9


def within(value: float, limit: float) -> bool:
    """value <= limit, allowing float rounding noise at the limit."""
    return value <= limit * REL + EPS


class RackState:
    """Everything the rules need, computed once per check."""

    __slots__ = (
        "added",
        "air_kw",
        "circuits",
        "ctx",
        "equipment_kg",
        "heat_kw",
        "immersion",
        "liquid_kw",
        "load_kw",
        "model",
        "models",
        "nodes",
        "nodes_kg",
        "placement",
        "rack_scale",
        "weight_kg",
        "wtext",
    )

    def __init__(self) -> None:
        self.added = 0
        self.model: NodeModelSpec | None = None
        self.rack_scale: NodeModelSpec | None = None
        self.wtext: str | None = None  # the weight arithmetic, shared by the FLOOR_* rules
        self.circuits = None  # the sides' cords and loads, shared by POWER_OUTLETS and POWER_PHASE


def build_state(ctx: RackContext, placement: Placement | None) -> RackState:
    st = RackState()
    st.ctx = ctx
    st.placement = placement
    nodes: tuple[PlacedNode, ...] = ctx.nodes
    if placement is not None and placement.exclude_node_ids:
        gone = set(placement.exclude_node_ids)
        nodes = tuple(n for n in nodes if n.node_id is None or n.node_id not in gone)
    st.nodes = nodes

    st.immersion = immersion = immersed(ctx.loops)

    load = 0.0
    heat = 0.0
    liquid = 0.0
    frame = 0.0
    total = 0.0
    models: dict[str, list] = {}
    rack_scale = None
    for n in nodes:
        m = n.model
        load += m.max_power_kw
        h = node_heat_kw(m)
        heat += h
        liquid += h * m.liquid_fraction
        total += m.weight_kg
        if m.rack_scale:
            rack_scale = m
        else:
            frame += m.weight_kg
        entry = models.get(m.slug)
        if entry is None:
            models[m.slug] = [m, 1]
        else:
            entry[1] += 1
    if placement is not None:
        m = placement.model
        q = placement.quantity if placement.quantity > 0 else 0
        st.model = m
        st.added = q
        if q:
            load += q * m.max_power_kw
            h = node_heat_kw(m)
            heat += q * h
            liquid += q * h * m.liquid_fraction
            total += q * m.weight_kg
            if m.rack_scale:
                rack_scale = m
            else:
                frame += q * m.weight_kg
            entry = models.get(m.slug)
            if entry is None:
                models[m.slug] = [m, q]
            else:
                entry[1] += q
    # Power is budgeted at max_power_kw; heat at units.node_heat_kw (the published heat output when larger).
    st.load_kw = load
    st.heat_kw = heat
    st.air_kw, st.liquid_kw = heat_split_kw(heat, liquid, immersion=immersion)
    st.equipment_kg = frame
    st.nodes_kg = total
    st.rack_scale = rack_scale
    st.weight_kg = total if rack_scale is not None else total + ctx.rack.empty_weight_kg
    st.models = models
    return st


class IdentityMemo:
    """Memoise ``fn(obj)`` by object identity (specs are frozen; a selector builds each once per request).

    Keeps a reference to every key so an id is never reused while cached; bounded, cleared when full.
    """

    __slots__ = ("_cache", "_fn", "_size")

    def __init__(self, fn, size: int = 4096) -> None:
        self._fn = fn
        self._cache: dict[int, tuple] = {}
        self._size = size

    def __call__(self, obj):
        hit = self._cache.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = self._fn(obj)
        if len(self._cache) >= self._size:
            self._cache.clear()
        self._cache[id(obj)] = (obj, value)
        return value
