"""Where each rack stands in its room, and how long a cable between two racks runs. Pure; no Django import.

Layout (plan view, mm): rows are laid out one behind the other in their order, each row's depth being its
deepest rack, with the row's ``aisle_width_mm`` between it and the next row. Along a row, racks stand side
by side in ``position`` order, each ``width_mm`` wide. A rack's point is its centre. A rack given explicit
coordinates (``x_mm``, ``y_mm``) stands there instead.

Cable route (m): along the row (|dx|) and across the aisles (|dy|), a Manhattan route in the overhead or
underfloor tray, plus a fixed slack for the runs up and down the racks, dressing and service loops. The slack
is configuration (``PLANNER_FABRIC_CABLE_SLACK_M``): the reference gives no figure (unsourced, §18).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RackFootprint:
    rack_id: int
    position: int
    width_mm: float = 600.0
    depth_mm: float = 1200.0
    x_mm: float | None = None  # explicit coordinates (both or neither)
    y_mm: float | None = None


@dataclass(frozen=True, slots=True)
class RowLayout:
    row_id: int
    aisle_width_mm: float
    racks: tuple[RackFootprint, ...]


@dataclass(frozen=True, slots=True)
class RackPoint:
    rack_id: int
    row_id: int
    x_mm: float
    y_mm: float


def room_layout(rows: Sequence[RowLayout]) -> dict[int, RackPoint]:
    """Each rack's centre (mm) in its room from the row order, rack widths and aisle widths."""
    out: dict[int, RackPoint] = {}
    y0 = 0.0
    for row in rows:
        racks = sorted(row.racks, key=lambda r: (r.position, r.rack_id))
        depth = max((r.depth_mm for r in racks), default=0.0)
        x = 0.0
        for r in racks:
            if r.x_mm is not None and r.y_mm is not None:
                out[r.rack_id] = RackPoint(r.rack_id, row.row_id, r.x_mm, r.y_mm)
            else:
                out[r.rack_id] = RackPoint(r.rack_id, row.row_id, x + r.width_mm / 2, y0 + depth / 2)
            x += r.width_mm
        y0 += depth + row.aisle_width_mm
    return out


def route_m(a: RackPoint, b: RackPoint) -> float:
    """Tray route between two racks' centres, m: along the row plus across the aisles (no slack)."""
    return (abs(a.x_mm - b.x_mm) + abs(a.y_mm - b.y_mm)) / 1000.0


def cable_length_m(a: RackPoint, b: RackPoint, slack_m: float) -> float:
    """Cable needed between two racks, m: the tray route plus the slack."""
    return route_m(a, b) + slack_m


def layouts_by_room(rows: Iterable[tuple[int, RowLayout]]) -> dict[int, dict[int, RackPoint]]:
    """(room id, RowLayout) pairs, rows in their order -> room id -> rack id -> point."""
    grouped: dict[int, list[RowLayout]] = {}
    for room_id, row in rows:
        grouped.setdefault(room_id, []).append(row)
    return {room_id: room_layout(rs) for room_id, rs in grouped.items()}
