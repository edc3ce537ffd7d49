"""The site list, the dashboard and the nightly report count the same racks "near a limit".

Hand-built site: one room without any CRAH (its air pool is empty) holding an empty rack, and a second
room whose rack carries a DGX H100 on 2 x 12.0 kW sides. Power: 10.2 kW / 12.0 kW = 85 % used, near at the
default 0.8 share; the empty rack is near nothing (no load on any dimension, 42 U free). Before the one rule,
the report judged the empty rack near its air limit (headroom 0 because the room has no CRAH) while the
site list and the dashboard did not.
"""

from __future__ import annotations

import re

import pytest

from planner import reports
from planner.web.headlines import site_headlines
from racks.models import Node, NodeModel, Pdu, Rack, Room, Row, Site

pytestmark = pytest.mark.django_db

# 12.0 kW usable per side: 1 phase, 230 V x 65.2174 A x 0.8 derating = 12.0 kW (DESIGN "load flow" formula).
AMPS_FOR_12_KW = 12.0 * 1000 / (230 * 0.8)


@pytest.fixture
def site():
    site = Site.objects.create(name="Near site", slug="near-site")
    bare = Room.objects.create(site=site, name="No CRAH", floor_type="slab", floor_rated_load_kg_m2=1224)
    empty_row = Row.objects.create(room=bare, name="E1")
    Rack.objects.create(row=empty_row, name="EMPTY", position=1, max_load_kg=1400, empty_weight_kg=150)
    room = Room.objects.create(site=site, name="Hall", floor_type="slab", floor_rated_load_kg_m2=1224)
    rack = Rack.objects.create(
        row=Row.objects.create(room=room, name="H1", containment="hot_aisle"), name="BUSY", position=1,
        max_load_kg=1400, empty_weight_kg=150,
    )  # fmt: skip
    for side in "AB":
        Pdu.objects.create(rack=rack, name=side, side=side, phases=1, voltage_v=230, current_a=AMPS_FOR_12_KW)
    Node.objects.create(rack=rack, model=NodeModel.objects.get(slug="dgx-h100"), u_position=1, name="n1")
    return site


def test_site_list_dashboard_and_report_agree(site, fac_client):
    report = reports.report_build(site.id)
    near_names = [e["name"] for e in report.data["near_limit"]]
    # The busy rack only, on power, with 15 % headroom: (12.0 - 10.2) / 12.0.
    assert near_names == ["BUSY"]
    assert report.data["near_limit"][0]["limits"] == {"power": pytest.approx((12.0 - 10.2) / 12.0, abs=1e-4)}

    headline = next(h for h in site_headlines() if h.site.id == site.id)
    assert headline.racks_near_limit == 1

    html = fac_client.get(f"/sites/{site.id}/").content.decode()
    counts = [int(n) for n in re.findall(r'data-near-limit="(\d+)"', html)]
    assert sum(counts) == 1, counts


def test_clean_site_has_no_rack_near_a_limit(site, fac_client):
    Node.objects.all().delete()
    assert reports.report_build(site.id).data["near_limit"] == []
    assert next(h for h in site_headlines() if h.site.id == site.id).racks_near_limit == 0
