"""Issue 16 bulk entry over the API: a row of racks with A+B PDUs in one call, a rack cloned with its PDUs, and a
new rack's position defaulting to the row's next free slot."""

import pytest

from racks.models import Pdu, PowerSource, Rack
from tests import factories as f
from tests.security.conftest import row_counts

pytestmark = pytest.mark.django_db


def _row_with_sources():
    row = f.RowFactory()
    site = row.room.site
    ups_a = PowerSource.objects.create(site=site, name="UPS-A", kind="ups", capacity_kw=500)
    ups_b = PowerSource.objects.create(site=site, name="UPS-B", kind="ups", capacity_kw=500)
    return row, ups_a, ups_b


def test_a_row_of_six_racks_with_a_and_b_pdus_in_one_call(api):
    row, ups_a, ups_b = _row_with_sources()
    Rack.objects.create(row=row, name="existing", position=1, max_load_kg=1000, empty_weight_kg=100)
    body = {
        "count": 6,
        "name_prefix": "R1-",
        "max_load_kg": 1400,
        "empty_weight_kg": 150,
        "pdu_current_a": 63,
        "source_a": ups_a.pk,
        "source_b": ups_b.pk,
    }
    response = api.post(f"/api/v1/rows/{row.pk}/racks/bulk/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    # next free position after the existing rack at 1: 2..7
    assert [(r["name"], r["position"]) for r in data] == [(f"R1-0{i}", i + 1) for i in range(1, 7)]
    pdus = Pdu.objects.filter(rack__row=row, rack__name__startswith="R1-")
    assert pdus.count() == 6 * 2  # one per side per rack
    assert set(pdus.filter(side="A").values_list("source_id", flat=True)) == {ups_a.pk}
    assert set(pdus.filter(side="B").values_list("source_id", flat=True)) == {ups_b.pk}
    assert {(p.voltage_v, p.current_a, p.phases) for p in pdus} == {(415.0, 63.0, 3)}


def test_a_taken_position_or_name_writes_nothing(api):
    row, ups_a, _ = _row_with_sources()
    Rack.objects.create(row=row, name="R1-03", position=9, max_load_kg=1000, empty_weight_kg=100)
    other = PowerSource.objects.create(site=f.SiteFactory(), name="Far UPS", kind="ups", capacity_kw=100)
    before = row_counts()
    url = f"/api/v1/rows/{row.pk}/racks/bulk/"
    body = {"count": 4, "name_prefix": "R1-", "max_load_kg": 1400, "empty_weight_kg": 150}
    response = api.post(url, {**body, "first_position": 7}, format="json")  # 7..10 hits 9
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert "9" in str(errors["first_position"]) and "R1-03" in str(errors["name_prefix"])
    assert row_counts() == before
    # a source of another site is refused by the PDU's own validation, nothing written
    response = api.post(url, {**body, "name_prefix": "Z-", "source_a": other.pk}, format="json")
    assert response.status_code == 400, response.content
    assert row_counts() == before
    # the clean case beside it
    response = api.post(url, {**body, "name_prefix": "Z-", "source_a": ups_a.pk}, format="json")
    assert response.status_code == 201, response.content
    assert [r["position"] for r in response.json()] == [10, 11, 12, 13]  # after the rack at 9


def test_clone_a_rack_with_its_pdus(api):
    row, ups_a, ups_b = _row_with_sources()
    rack = Rack.objects.create(row=row, name="K1", position=4, u_height=48, max_load_kg=1500, empty_weight_kg=160)
    Pdu.objects.create(rack=rack, name="PDU-A", side="A", voltage_v=415, current_a=63, source=ups_a)
    Pdu.objects.create(rack=rack, name="PDU-B", side="B", voltage_v=415, current_a=63, source=ups_b)
    response = api.post(f"/api/v1/racks/{rack.pk}/clone/", {}, format="json")
    assert response.status_code == 201, response.content
    clone = Rack.objects.get(pk=response.json()["id"])
    assert (clone.name, clone.position, clone.u_height, clone.max_load_kg) == ("K1-copy", 5, 48, 1500)
    assert sorted(clone.pdus.values_list("side", "source_id")) == [("A", ups_a.pk), ("B", ups_b.pk)]
    again = api.post(f"/api/v1/racks/{rack.pk}/clone/", {}, format="json").json()
    assert (again["name"], again["position"]) == ("K1-copy-2", 6)
    # into a row of another site: refused, nothing written
    far = f.RowFactory()
    before = row_counts()
    response = api.post(f"/api/v1/racks/{rack.pk}/clone/", {"row": far.pk}, format="json")
    assert response.status_code == 400 and row_counts() == before


def test_a_new_rack_without_a_position_takes_the_next_free_slot(api):
    row = f.RowFactory()
    body = {"row": row.pk, "max_load_kg": 1000, "empty_weight_kg": 100}
    first = api.post("/api/v1/racks/", {**body, "name": "A"}, format="json")
    second = api.post("/api/v1/racks/", {**body, "name": "B"}, format="json")  # collided at 1 before
    assert (first.status_code, second.status_code) == (201, 201), second.content
    assert (first.json()["position"], second.json()["position"]) == (1, 2)
    explicit = api.post("/api/v1/racks/", {**body, "name": "C", "position": 2}, format="json")
    assert explicit.status_code == 400  # an explicit taken slot is still refused
