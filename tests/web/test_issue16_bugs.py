"""Issue 16 bugs: the dashboard's Feasibility button, Suggest racks in the chosen room, the loop form's racks."""

import re

import pytest

from cooling.models import CoolingLoop
from racks.models import Pdu, Rack, Room, Row
from tests.web.conftest import build_site

pytestmark = pytest.mark.django_db


def test_feasibility_button_preselects_the_site_without_an_error(fac_client, small_site):
    site = small_site["site"]
    r = fac_client.get(f"/feasibility/?site={site.pk}")
    html = r.content.decode()
    assert r.status_code == 200 and "This field is required" not in html
    assert f'<option value="{site.pk}" selected>' in html
    # the question itself still validates: a model is required once one is asked
    r = fac_client.get(f"/feasibility/?site={site.pk}&quantity=2")
    assert r.status_code == 400 and "This field is required" in r.content.decode()


def _second_hall(site, ups):
    """Hall 2 with one row and rack K00 (same bare name as Hall 1's first rack), fed A+B, a CRAH."""
    room = Room.objects.create(site=site, name="Hall 2", floor_type="slab", floor_rated_load_kg_m2=1224)
    row = Row.objects.create(room=room, name="H2R1", containment="hot_aisle")
    rack = Rack.objects.create(row=row, name="K00", position=1, max_load_kg=1400, empty_weight_kg=150)
    for side in "AB":
        Pdu.objects.create(rack=rack, name=f"PDU-{side}", side=side, voltage_v=415, current_a=63, source=ups)
    CoolingLoop.objects.create(
        site=site, room=room, name="CRAH 2", kind="crah", unit_capacity_kw=100, units=2, supply_temp_c=22, fluid="air"
    )
    return room, rack


def test_suggest_racks_stays_in_the_chosen_room_and_names_the_hall(fac_client):
    s = build_site(2)
    hall2, other = _second_hall(s["site"], s["ups"])
    base = f"/place/?site={s['site'].pk}&model=cpu-2u&quantity=2&suggest=1"
    html = fac_client.get(base + f"&room={s['room'].pk}").content.decode()
    assert "Suggested racks in Hall 1" in html
    assert f"rack={other.pk}&" not in html  # nothing from Hall 2
    assert re.search(r">Hall 1 / R\d / K0\d</a>", html)  # room / row / rack, not a bare name
    html = fac_client.get(base + f"&room={hall2.pk}").content.decode()
    assert "Suggested racks in Hall 2" in html and ">Hall 2 / H2R1 / K00</a>" in html
    assert all(f"rack={r.pk}&" not in html for r in s["racks"])
    # a chosen rack without a room: its own room
    html = fac_client.get(f"/place/?site={s['site'].pk}&rack={other.pk}&model=cpu-2u&quantity=1&suggest=1").content
    assert "Suggested racks in Hall 2" in html.decode()


def test_loop_form_lists_the_rooms_racks_as_checkboxes_with_their_row(fac_client):
    s = build_site(4)
    _, other = _second_hall(s["site"], s["ups"])
    html = fac_client.get(f"/cooling-loops/{s['cdu'].pk}/edit/").content.decode()
    assert 'type="checkbox" name="racks"' in html and '<select name="racks"' not in html
    assert f'value="{other.pk}"' not in html  # Hall 2's rack is not offered for a Hall 1 loop
    for rack in s["racks"]:
        assert f'value="{rack.pk}"' in html
    assert re.search(r"R\d / K03", html)  # labelled with its row
    # ticking two racks saves them
    cdu = s["cdu"]
    form = {
        f: getattr(cdu, f)
        for f in ("name", "kind", "unit_capacity_kw", "units", "redundant_units", "supply_temp_c", "fluid")
    }
    form.update({"site": s["site"].pk, "room": s["room"].pk, "max_flow_lpm": 1200, "delta_t_c": 10})
    form["racks"] = [s["racks"][2].pk, s["racks"][3].pk]
    r = fac_client.post(f"/cooling-loops/{cdu.pk}/edit/", form)
    assert r.status_code == 302, r.content.decode()[:3000]
    assert set(CoolingLoop.objects.get(pk=cdu.pk).racks.values_list("pk", flat=True)) == set(form["racks"])
