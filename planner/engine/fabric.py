"""The network fabric: leaf ports, link media and their reach and power (reference §11). Pure; no Django import.

A fabric serves racks; its leaves (switches of role leaf) offer node-facing ports: ``ports - uplink_ports``
(uplinks default to half the radix, the non-blocking leaf of the SuperPOD RA: a 64-port QM9700 leaf has 32
down-ports and 32 up-ports, reference §11.2 C). In a rail-optimized fabric port k of every node goes to a leaf
of rail k ("traffic per rail ... always one hop away", §11.2 [S104]); otherwise any leaf takes any port. A
leaf port of a higher speed takes a slower link (a QM9700 cage "can be connected ... for 40/56/100/200/400
Gb/s", §11.3 [S114]), never the reverse.

Each link from a node to its leaf runs to the nearest leaf of its rail (of the right speed); its length is the
tray route between the two racks (planner.engine.geometry) plus the slack; the medium is the first the site
allows, in order of cost, whose catalogue reach covers it (§11.4): passive copper <= 3 m, active copper
<= 5 m, AOC (reach not found in the reference: offered only when configured), multimode SR4 <= 50 m,
single-mode DR4 <= 100 m.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from planner.engine.rules.state import IdentityMemo

PURPOSES = ("compute", "storage", "inband", "oob")


@dataclass(frozen=True, slots=True)
class Medium:
    name: str
    label: str
    reach_m: float | None  # None: not found in the reference (unsourced)
    switch_end_w: float  # per link (a twin-port module or cable end serves two 400G links)
    node_end_w: float  # per link
    lengths_m: tuple[float, ...]  # catalogue lengths; () = cut to the whole metre (fibre; unsourced)
    source: str


MEDIA: tuple[Medium, ...] = (
    Medium(
        "passive_copper",
        "passive copper (DAC)",
        3.0,
        0.0,
        0.0,
        (1.0, 1.5, 2.0, 2.5, 3.0),
        'MCP7Y00 800G -> 2 x 400G splitter, 1-3 m, "near zero" power (P [S117], §11.4)',
    ),
    Medium(
        "active_copper",
        "active copper (ACC)",
        5.0,
        0.75,
        0.3,
        (4.0, 5.0),
        "ACC 4 and 5 m; MCA7J70 1.5 W max at the 800G switch end (shared by its 2 x 400G tails), 0.3 W max per "
        "tail (P [S117], §11.4)",
    ),
    Medium(
        "aoc",
        "active optical cable (AOC)",
        None,
        0.0,
        0.0,
        (),
        "400G/800G AOC not found in the reference (§18): offered only with PLANNER_FABRIC_AOC_REACH_M (unsourced)",
    ),
    Medium(
        "multimode",
        "multimode SR4 optics",
        50.0,
        7.5,
        9.0,
        (),
        "MMA4Z00-NS twin-port 2 x SR4, 50 m, 15 W per module = 7.5 W per 400G link; node end MMA4Z00-NS400 / "
        "MMA1Z00-NS400 SR4, 9 W max (P [S118], §11.4)",
    ),
    Medium(
        "single_mode",
        "single-mode DR4 optics",
        100.0,
        8.5,
        9.0,
        (),
        "MMS4X00-NS twin-port 2 x DR4, 100 m, 17 W per module = 8.5 W per 400G link; node end MMS4X00-NS400, 9 W "
        "max (P [S118], §11.4)",
    ),
)
MEDIA_BY_NAME = {m.name: m for m in MEDIA}
MEDIA_NAMES = tuple(m.name for m in MEDIA)


@dataclass(frozen=True, slots=True)
class LeafSpec:
    switch_id: int | None
    name: str
    rack_id: int | None
    ports: int
    port_speed_gbps: float
    uplink_ports: int | None = None  # None: half the radix (non-blocking, §11.2 C)
    rail: int | None = None
    route_m: float | None = None  # tray route from the checked rack (no slack); None: in another room

    @property
    def down_ports(self) -> int:
        up = self.ports // 2 if self.uplink_ports is None else self.uplink_ports
        return max(self.ports - up, 0)


@dataclass(frozen=True, slots=True)
class FabricSpec:
    """One fabric as seen from one rack: its leaves (with their route from the rack) and the ports every
    *other* rack's nodes use on it, per rail (rail 0: not rail-optimized)."""

    fabric_id: int | None
    name: str
    kind: str = "infiniband"
    purpose: str = "compute"
    rail_optimized: bool = True
    media: tuple[str, ...] = ()  # allowed; () = all
    slack_m: float = 2.0
    aoc_reach_m: float | None = None
    leaves: tuple[LeafSpec, ...] = ()
    other_used: tuple[tuple[int, int], ...] = ()  # (rail, ports used by other racks' nodes)


def model_ports(model, purpose: str) -> tuple[int | None, float | None]:
    """(ports, Gb/s) of a node model for a purpose; (None, None) when not stated, (0, None) for a switch."""
    if getattr(model, "kind", "system") == "switch":
        return 0, None
    for p, count, gbps in getattr(model, "ports", ()):
        if p == purpose:
            return count, gbps
    return None, None


def rail_demand(model, purpose: str, quantity: int, rail_optimized: bool) -> dict[int, int]:
    """Ports per rail ``quantity`` units of ``model`` take: one per rail 1..n when rail-optimized, else n on rail 0."""
    n, _gbps = model_ports(model, purpose)
    if not n or quantity <= 0:
        return {}
    if rail_optimized:
        return dict.fromkeys(range(1, n + 1), quantity)
    return {0: n * quantity}


# Per leaves tuple (the same object in every copy of a rack's FabricSpec: dataclasses.replace keeps it): the
# pools by (rail-optimized, rail, speed), their capacity and nearest leaf. Checks run thousands of times.
_POOLS = IdentityMemo(lambda leaves: {})


def _pool_entry(fabric: FabricSpec, rail: int, gbps: float | None):
    memo = _POOLS(fabric.leaves)
    key = (fabric.rail_optimized, rail, gbps)
    hit = memo.get(key)
    if hit is None:
        leaves = _pool(fabric, rail, gbps)
        near = [lf for lf in leaves if lf.route_m is not None]
        nearest = min(near, key=lambda lf: (lf.route_m, lf.name)) if near else None
        hit = memo[key] = (leaves, sum(lf.down_ports for lf in leaves), nearest)
    return hit


def pool(fabric: FabricSpec, rail: int, gbps: float | None) -> list[LeafSpec]:
    """Leaves that take a link of rail ``rail`` at ``gbps`` (None: speed unknown, any leaf)."""
    return _pool_entry(fabric, rail, gbps)[0]


def pool_capacity(fabric: FabricSpec, rail: int, gbps: float | None) -> int:
    """Node-facing ports of ``pool``."""
    return _pool_entry(fabric, rail, gbps)[1]


def nearest_leaf(fabric: FabricSpec, rail: int, gbps: float | None) -> LeafSpec | None:
    """The pool's leaf with the shortest route from the rack (None: none in its room)."""
    return _pool_entry(fabric, rail, gbps)[2]


def _pool(fabric: FabricSpec, rail: int, gbps: float | None) -> list[LeafSpec]:
    out = []
    for leaf in fabric.leaves:
        if fabric.rail_optimized and leaf.rail != rail:
            continue
        if gbps is not None and leaf.port_speed_gbps < gbps:
            continue
        out.append(leaf)
    return out


def allowed_media(fabric: FabricSpec) -> list[tuple[Medium, float]]:
    """(medium, reach m) the fabric allows, in order of cost; AOC only with a configured reach."""
    names = set(fabric.media) if fabric.media else set(MEDIA_NAMES)
    out = []
    for m in MEDIA:
        if m.name not in names:
            continue
        reach = fabric.aoc_reach_m if m.name == "aoc" else m.reach_m
        if reach is None or reach <= 0:
            continue
        out.append((m, reach))
    return out


def choose_medium(length_m: float, media: list[tuple[Medium, float]]) -> Medium | None:
    for m, reach in media:
        if length_m <= reach + 1e-9:
            return m
    return None


def stock_length_m(medium: Medium, length_m: float) -> float:
    """The catalogue length to order: the shortest listed that covers it, else rounded up to the metre."""
    for cut in medium.lengths_m:
        if length_m <= cut + 1e-9:
            return cut
    return float(math.ceil(length_m - 1e-9))


@dataclass(frozen=True, slots=True)
class Link:
    rail: int
    leaf: LeafSpec | None
    length_m: float | None
    medium: Medium | None

    @property
    def power_w(self) -> float:
        return 0.0 if self.medium is None else self.medium.switch_end_w + self.medium.node_end_w


def rack_links(fabric: FabricSpec, model, quantity: int) -> list[tuple[Link, int]]:
    """The links ``quantity`` units of ``model`` in the checked rack need: (link of one rail, how many), each to
    the nearest leaf of its pool. A link whose leaf is in another room has no length (beyond reach)."""
    demand = rail_demand(model, fabric.purpose, quantity, fabric.rail_optimized)
    _n, gbps = model_ports(model, fabric.purpose)
    media = allowed_media(fabric)
    per_node = 1 if fabric.rail_optimized else (_n or 0)
    out = []
    for rail in sorted(demand):
        leaves, _cap, leaf = _pool_entry(fabric, rail, gbps)
        if leaf is None:
            out.append((Link(rail, leaves[0] if leaves else None, None, None), quantity * per_node))
            continue
        length = leaf.route_m + fabric.slack_m
        out.append((Link(rail, leaf, length, choose_medium(length, media)), quantity * per_node))
    return out


def bill_of_materials(links: Iterable[tuple[Link, int]]) -> dict:
    """Cables and optics by type and catalogue length, and the optics power (W and kW)."""
    counts: Counter = Counter()
    power_w = 0.0
    for link, n in links:
        if link.medium is None or link.length_m is None:
            continue
        counts[(link.medium.name, stock_length_m(link.medium, link.length_m))] += n
        power_w += n * link.power_w
    items = [
        {"medium": name, "label": MEDIA_BY_NAME[name].label, "length_m": length, "count": n}
        for (name, length), n in sorted(counts.items(), key=lambda kv: (MEDIA_NAMES.index(kv[0][0]), kv[0][1]))
    ]
    return {"items": items, "links": sum(counts.values()), "optics_w": round(power_w, 3), "optics_kw": power_w / 1000}


def fabric_headroom(fabrics, nodes) -> dict | None:
    """Leaf ports left per fabric serving a rack, at its tightest rail (other racks' use plus this rack's
    ``nodes``, PlacedNode); None when the rack is in no fabric (the headroom then has no fabric dimension)."""
    if not fabrics:
        return None
    out = []
    for f in fabrics:
        used = dict(f.other_used)
        for n in nodes:
            for rail, k in rail_demand(n.model, f.purpose, 1, f.rail_optimized).items():
                used[rail] = used.get(rail, 0) + k
        rails = {lf.rail or 0 for lf in f.leaves} if f.rail_optimized else {0}
        rails |= set(used)
        rows = []
        for rail in sorted(rails):
            cap = sum(lf.down_ports for lf in pool(f, rail, None))
            rows.append((cap - used.get(rail, 0), cap, used.get(rail, 0), rail))
        head, cap, use, rail = min(rows) if rows else (0, 0, 0, 0)
        out.append(
            {
                "fabric": f.fabric_id,
                "name": f.name,
                "rail": rail if f.rail_optimized else None,
                "capacity_ports": cap,
                "used_ports": use,
                "headroom_ports": head,
            }
        )
    return {"fabrics": out, "headroom_ports": min(x["headroom_ports"] for x in out)}
