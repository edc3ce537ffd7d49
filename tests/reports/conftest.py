"""A small site whose report figures are worked out by hand in the tests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pytest

from planner.models import CapacityReport
from racks.models import NodeModel, Rack, Site
from tests import factories as f

DAY = date(2026, 3, 10)
# 415 V three-phase 32 A PDU at the default 0.8 derating: 415 x 32 x sqrt(3) x 0.8 / 1000 kW.
PDU_KW = 415 * 32 * math.sqrt(3) * 0.8 / 1000  # 18.4013 kW


@dataclass
class SmallSite:
    site: Site
    r1: Rack  # A+B, DGX H100 installed + DGX A100 planned: 16.7 of 18.40 kW -> within 10 %
    r2: Rack  # side A only, two CPU servers
    r3: Rack  # A+B, empty


@pytest.fixture
def small_site(db) -> SmallSite:
    site = f.SiteFactory(name="Small", slug="small")
    room = f.RoomFactory(site=site, name="Hall 1")
    row = f.RowFactory(room=room, name="Row A", containment="hot_aisle")  # 25 kW of air per rack
    f.CoolingLoopFactory(
        site=site, room=room, name="CRAH", kind="crah", unit_capacity_kw=100, units=3, redundant_units=1
    )
    f.CoolingLoopFactory(
        site=site,
        room=room,
        name="CDU 1",
        kind="direct_liquid",
        unit_capacity_kw=50,
        units=1,
        redundant_units=0,
        supply_temp_c=30,
        fluid="water",
    )
    racks = []
    for i, sides in enumerate(("AB", "A", "AB"), start=1):
        rack = f.RackFactory(row=row, name=f"R{i}", position=i)
        for side in sides:
            f.PduFactory(rack=rack, name=f"R{i}-{side}", side=side, voltage_v=415, current_a=32)
        racks.append(rack)
    r1, r2, _ = racks
    models = {m.slug: m for m in NodeModel.objects.all()}
    f.NodeFactory(rack=r1, model=models["dgx-h100"], u_position=1, name="h100-1", status="installed")
    f.NodeFactory(rack=r1, model=models["dgx-a100"], u_position=9, name="a100-1", status="planned")
    f.NodeFactory(rack=r2, model=models["cpu-2u"], u_position=1, name="cpu-1", status="installed")
    f.NodeFactory(rack=r2, model=models["cpu-2u"], u_position=3, name="cpu-2", status="installed")
    return SmallSite(site, *racks)


def previous_report(site: Site, day: date, *, installed: dict, load: dict | None = None, nodes: int = 0,
                    racks: int = 0, near_limit: list | None = None) -> CapacityReport:  # fmt: skip
    """A stored report with just what the next report reads: the summary totals and the near-limit list."""
    totals = {dim: {"installed": v, "load": (load or {}).get(dim, v)} for dim, v in installed.items()}
    return CapacityReport.objects.create(
        site=site,
        day=day,
        node_count=nodes,
        rack_count=racks,
        summary={"totals": totals},
        data={"near_limit": near_limit or []},
    )
