"""Fixtures of the page tests: logged-in clients per role, and a site built at a chosen size."""

import datetime

import pytest
from django.test import Client

from cooling.models import CoolingLoop
from planner.models import CapacityReport
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site


@pytest.fixture
def fac_client(facilities_user) -> Client:
    client = Client()
    client.force_login(facilities_user)
    return client


@pytest.fixture
def proc_client(procurement_user) -> Client:
    client = Client()
    client.force_login(procurement_user)
    return client


def build_site(n_racks: int, *, name: str = "Hall site", reports: int = 2) -> dict:
    """A site with one slab room of two rows, ``n_racks`` racks fed A+B from a UPS chain, a room CRAH, a rear
    door on the first rack, a direct-liquid loop on the last, a DGX H100 in every rack, and nightly reports."""
    site = Site.objects.create(
        name=name,
        slug=name.lower().replace(" ", "-"),
        utility_capacity_kw=5000,
        energy_price_per_kwh=0.09,
        design_pue=1.5,
    )
    utility = PowerSource.objects.create(site=site, name="Utility", kind="utility", capacity_kw=5000)
    ups = PowerSource.objects.create(site=site, name="UPS", kind="ups", capacity_kw=4000, parent=utility)
    room = Room.objects.create(site=site, name="Hall 1", floor_type="slab", floor_rated_load_kg_m2=1224)
    rows = [Row.objects.create(room=room, name=f"R{i}", containment="hot_aisle") for i in (1, 2)]
    h100 = NodeModel.objects.get(slug="dgx-h100")
    racks = []
    for i in range(n_racks):
        rack = Rack.objects.create(
            row=rows[i % 2], name=f"K{i:02d}", position=i // 2 + 1, max_load_kg=1400, empty_weight_kg=150
        )
        for side in "AB":
            Pdu.objects.create(rack=rack, name=f"PDU-{side}", side=side, voltage_v=415, current_a=63, source=ups)
        Node.objects.create(rack=rack, model=h100, u_position=1, name="dgx-h100-1", status="installed")
        racks.append(rack)
    CoolingLoop.objects.create(
        site=site,
        room=room,
        name="CRAH",
        kind="crah",
        unit_capacity_kw=200,
        units=4,
        redundant_units=1,
        supply_temp_c=22,
        fluid="air",
    )
    door = CoolingLoop.objects.create(
        site=site,
        room=room,
        name="Door",
        kind="rear_door",
        unit_capacity_kw=50,
        units=1,
        supply_temp_c=18,
        fluid="water",
    )
    door.racks.set(racks[:1])
    cdu = CoolingLoop.objects.create(
        site=site,
        room=room,
        name="CDU",
        kind="direct_liquid",
        unit_capacity_kw=400,
        units=2,
        redundant_units=1,
        supply_temp_c=30,
        fluid="pg25",
        max_flow_lpm=1200,
    )
    cdu.racks.set(racks[-1:])
    today = datetime.date(2025, 1, 10)
    for d in range(reports):
        CapacityReport.objects.create(
            site=site,
            day=today - datetime.timedelta(days=d),
            it_load_kw=10.2 * n_racks,
            power_capacity_kw=5000,
            air_heat_kw=10.2 * n_racks,
            liquid_heat_kw=0,
            rack_count=n_racks,
            node_count=n_racks,
        )
    return {"site": site, "room": room, "rows": rows, "racks": racks, "ups": ups, "door": door, "cdu": cdu}


@pytest.fixture
def small_site(db):
    return build_site(2)
