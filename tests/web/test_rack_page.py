"""The rack page: elevation by U, PDUs by side, every rule with its arithmetic, headroom and fits."""

import io
import re

import pytest
from django.core.management import call_command

from planner.engine.results import RULE_CODES
from racks.models import Node, NodeModel, Rack

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())


def test_elevation_pdus_and_rules(demo, fac_client):
    rack = Rack.objects.get(name="A1-01")  # four DGX H100 (8 U each) at U1, U9, U17, U25
    html = fac_client.get(f"/racks/{rack.pk}/").content.decode()
    assert html.count('rowspan="8"') == 4
    assert html.count('<td class="free">') == 42 - 32
    assert 'Side A <span class="small">· 72.46 kW usable' in html
    assert html.count("<strong>PDU-A") == 2 and html.count("<strong>PDU-B") == 2
    codes = re.findall(r'data-code="([A-Z_]+)"', html)
    assert len(codes) == len(RULE_CODES) and codes[0] == "SPACE" and codes[-1] == "FABRIC_REACH"
    assert "<strong>RDHx A1</strong>, Rear-door heat exchanger" in html
    assert "shared by 4 racks" in html
    assert "How many more fit" in html


def test_rack_scale_system_takes_the_whole_rack(demo, fac_client):
    rack = Rack.objects.get(name="A2-01")  # a GB200 NVL72 (35 U) in a 42 U rack
    html = fac_client.get(f"/racks/{rack.pk}/").content.decode()
    assert 'rowspan="35"' in html
    assert '<td class="reserved" rowspan="7">taken by the rack-scale system</td>' in html
    assert '<td class="free">' not in html


def test_failing_rack_shows_its_rules_and_retrofits(demo, fac_client):
    rack = Rack.objects.get(name="A1-06")  # contained row (25 kW of air per rack), no rear door
    b200 = NodeModel.objects.get(slug="dgx-b200")
    for i in range(2):  # written directly, past the service: the page must show what fails
        Node.objects.create(rack=rack, model=b200, u_position=1 + 10 * i, name=f"b{i}")
    html = fac_client.get(f"/racks/{rack.pk}/").content.decode()
    assert 'data-code="COOLING_AIR_RACK" data-status="fail"' in html
    assert 'fails <span class="rule" title="Passes when rack air heat' in html
    assert "Rack air cooling <code>COOLING_AIR_RACK</code>" in html
    assert "Retrofit options" in html and "Active rear-door heat exchanger" in html
