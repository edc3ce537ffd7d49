"""Issue 16 bulk entry pages: a row of racks with A+B PDUs in one form, a rack cloned with its PDUs, the next free
position as a new rack's default."""

import pytest

from racks.models import Pdu, Rack
from tests.web.conftest import build_site

pytestmark = pytest.mark.django_db


def _form(s, **over):
    return {
        "count": 6,
        "name_prefix": "N-",
        "first_number": 1,
        "digits": 2,
        "first_position": 10,
        "u_height": 42,
        "width_mm": 600,
        "depth_mm": 1200,
        "max_load_kg": 1400,
        "empty_weight_kg": 150,
        "pdu_sides": ["A", "B"],
        "pdu_phases": 3,
        "pdu_voltage_v": 415,
        "pdu_current_a": 63,
        "pdu_power_factor": 1.0,
        "source_a": s["ups"].pk,
        "source_b": s["ups"].pk,
        **over,
    }


def test_a_row_of_six_racks_in_one_form(fac_client):
    s = build_site(2)
    row = s["rows"][0]  # holds K00 at position 1
    html = fac_client.get(f"/rows/{row.pk}/racks/bulk/").content.decode()
    assert 'name="first_position"' in html and 'value="2"' in html  # next free after K00 at 1
    r = fac_client.post(f"/rows/{row.pk}/racks/bulk/", _form(s))
    assert r.status_code == 302, r.content.decode()[:2000]
    racks = list(Rack.objects.filter(row=row, name__startswith="N-").order_by("position"))
    assert [(k.name, k.position) for k in racks] == [(f"N-0{i}", 9 + i) for i in range(1, 7)]
    assert Pdu.objects.filter(rack__in=racks).count() == 12  # 6 racks x sides A and B


def test_a_bad_row_form_writes_nothing_and_says_why(fac_client):
    s = build_site(2)
    row = s["rows"][0]
    before = Rack.objects.count()
    r = fac_client.post(f"/rows/{row.pk}/racks/bulk/", _form(s, first_position=1))  # K00 holds 1
    assert r.status_code == 400
    assert "is taken; the next free one is 2" in r.content.decode()
    r = fac_client.post(f"/rows/{row.pk}/racks/bulk/", _form(s, pdu_current_a=0))
    assert r.status_code == 400 and Rack.objects.count() == before


def test_clone_and_next_free_position(fac_client, proc_client):
    s = build_site(2)
    rack = s["racks"][0]
    html = fac_client.get(f"/racks/new/?row={rack.row_id}").content.decode()
    assert 'name="position" value="2"' in html  # not 1: K00 holds it
    r = fac_client.post(f"/racks/{rack.pk}/clone/", {"name": "K00-b", "position": 7})
    assert r.status_code == 302
    clone = Rack.objects.get(name="K00-b")
    assert clone.position == 7 and sorted(clone.pdus.values_list("side", flat=True)) == ["A", "B"]
    assert clone.nodes.count() == 0
    assert proc_client.post(f"/racks/{rack.pk}/clone/", {"name": "x", "position": 8}).status_code == 403
