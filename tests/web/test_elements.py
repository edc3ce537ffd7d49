"""Pages of a row, a power source and a cooling loop (issue #16 item 3): every figure as the API gives it.

build_site(2): racks K00 (row R1, rear door) and K01 (row R2, CDU), each a DGX H100 (10.2 kW max power) on
PDU-A and PDU-B (415 V 3-phase 63 A: 415 x 63 x sqrt(3) x 0.8 = 36.228 kW usable) fed from UPS (4,000 kW) under
Utility (5,000 kW).
"""

import re

import pytest

from tests.web.conftest import build_site

pytestmark = pytest.mark.django_db


def text(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[html.index("<main") :]))


def test_power_source_page_chain_and_sides_agree_with_the_api(fac_client, api):
    s = build_site(2)
    usable = api.get(f"/api/v1/power-sources/{s['ups'].pk}/").json()["usable_kw"]
    assert usable == 4000.0
    page = text(fac_client.get(f"/power-sources/{s['ups'].pk}/"))
    # Both racks' whole 10.2 kW on the UPS (each side carries it all): 20.4 kW, headroom 4,000 - 20.4 = 3,979.6.
    assert "Load 20.4 kW Capacity 4,000.0 kW (1 % used) Headroom 3,979.6 kW" in page
    assert "Utility above Utility feed 20.4 5,000.0 4,979.6" in page  # the chain above, 5,000 - 20.4
    assert "Side A · 2 racks, 20.4 kW" in page and "Side B · 2 racks, 20.4 kW" in page
    utility = s["ups"].parent
    up = text(fac_client.get(f"/power-sources/{utility.pk}/"))
    assert "└ UPS UPS 20.4 4,000.0 3,979.6" in up  # the tree below the utility


def test_a_source_feeding_nothing_says_how_to_fill_it(fac_client):
    from racks.models import PowerSource

    s = build_site(2)
    spare = PowerSource.objects.create(site=s["site"], name="Spare", kind="ups", capacity_kw=100)
    page = text(fac_client.get(f"/power-sources/{spare.pk}/"))
    assert "Load 0.0 kW Capacity 100.0 kW (0 % used) Headroom 100.0 kW" in page
    assert "No rack PDU on side A is fed through this source. Choose this source" in page


def test_row_page_is_the_rows_entry_of_the_site_headroom(fac_client, api):
    s = build_site(2)
    row = s["rows"][0]
    head = api.get(f"/api/v1/sites/{s['site'].pk}/headroom/").json()["rooms"][0]["rows"][0]
    assert head["id"] == row.pk and head["power"]["headroom_kw"] == pytest.approx(36.228 - 10.2, abs=1e-3)
    page = text(fac_client.get(f"/rows/{row.pk}/"))
    assert "Power binding 10.2 kW 36.2 kW 26.0 kW" in page  # 36.228 - 10.2 = 26.028
    assert "Hot-aisle containment" in page and "K00 1 10.2 26.0" in page


def test_cooling_loop_pages_load_headroom_flow_redundancy(fac_client, api):
    s = build_site(2)
    cdu = text(fac_client.get(f"/cooling-loops/{s['cdu'].pk}/"))
    # 2 x 400 kW, one spare: 400 kW usable (the API's usable_kw); the H100 is air-cooled, no liquid heat.
    assert api.get(f"/api/v1/cooling-loops/{s['cdu'].pk}/").json()["usable_kw"] == 400.0
    assert "Load 0.0 kW Capacity 400.0 kW (0 % used) Headroom 400.0 kW" in cdu
    assert "2 \u00d7 400.0 kW, N+1" in cdu and "0.0 L/min needed of 1,200.0 L/min maximum" in cdu
    door = text(fac_client.get(f"/cooling-loops/{s['door'].pk}/"))
    # One 50 kW door, no spare: losing its unit leaves 0 kW for the heat it takes.
    assert "Capacity 50.0 kW" in door and "N (no spare unit)" in door and "short of the load" in door
    assert "Racks served 1" in door and "K00 10.2" in door


def test_room_page_lists_its_loops_and_power(fac_client):
    s = build_site(2)
    page = text(fac_client.get(f"/rooms/{s['room'].pk}/"))
    assert "CDU Direct-to-chip liquid (CDU) 0.0 400.0 400.0" in page
    assert "UPS UPS 20.4 4,000.0 3,979.6" in page and "Utility Utility feed 20.4 5,000.0 4,979.6" in page
    html = fac_client.get(f"/rooms/{s['room'].pk}/").content.decode()
    assert f'href="/rows/{s["rows"][0].pk}/"' in html and f'href="/cooling-loops/{s["cdu"].pk}/"' in html


def test_dashboard_links_its_elements_and_resilience(fac_client):
    s = build_site(2)
    html = fac_client.get(f"/sites/{s['site'].pk}/").content.decode()
    for href in (
        f"/power-sources/{s['ups'].pk}/",
        f"/cooling-loops/{s['cdu'].pk}/",
        f"/sites/{s['site'].pk}/resilience/",
    ):
        assert f'href="{href}"' in html, href
    assert fac_client.get("/power-sources/999999/").status_code == 404
    assert fac_client.get("/cooling-loops/999999/").status_code == 404
    assert fac_client.get("/rows/999999/").status_code == 404
