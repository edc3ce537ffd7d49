"""Which racks a cooling loop serves is part of its audit trail (``HistoricalRecords(m2m_fields=...)``):
who linked or unlinked which rack, over the API and on the loop's page, in a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from tests.security.conftest import powered_site

pytestmark = pytest.mark.django_db


def _loop_with_racks(api):
    world = powered_site(racks=3)
    loop = world["loop"]
    racks = world["racks"]
    for rack in racks[:2]:
        response = api.patch(
            f"/api/v1/cooling-loops/{loop.pk}/",
            {"racks": [r.pk for r in racks[: racks.index(rack) + 1]]},
            format="json",
        )
        assert response.status_code == 200, response.data
    return loop, racks


def test_linking_and_unlinking_racks_is_in_the_loop_history(api, facilities_user):
    loop, racks = _loop_with_racks(api)
    assert api.patch(f"/api/v1/cooling-loops/{loop.pk}/", {"racks": [racks[1].pk]}, format="json").status_code == 200
    trail = api.get(f"/api/v1/cooling-loops/{loop.pk}/history/").data["results"]
    racks_changes = [c for e in trail for c in e["changes"] if c["field"] == "racks"]
    label = [f"{r.name} (id {r.pk})" for r in racks]
    # Newest first: rack 0 unlinked, rack 1 linked, rack 0 linked.
    assert racks_changes[0] == {"field": "racks", "old": sorted(label[:2]), "new": [label[1]]}
    assert racks_changes[-1] == {"field": "racks", "old": [], "new": [label[0]]}
    assert all(e["user"] == facilities_user.username for e in trail if e["changes"])


def test_a_deleted_rack_is_labelled_by_its_id(api):
    loop, racks = _loop_with_racks(api)
    gone = racks[0]
    gone_id = gone.pk
    assert api.delete(f"/api/v1/racks/{gone_id}/").status_code == 204
    trail = api.get(f"/api/v1/cooling-loops/{loop.pk}/history/").data["results"]
    news = [c["new"] for e in trail for c in e["changes"] if c["field"] == "racks"]
    assert [f"id {gone_id} (deleted)"] in news


def test_the_loop_page_shows_rack_links_in_a_fixed_number_of_queries(api, client, facilities_user):
    loop, racks = _loop_with_racks(api)
    client.force_login(facilities_user)
    with CaptureQueriesContext(connection) as few:
        page = client.get(f"/cooling-loops/{loop.pk}/edit/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"{racks[0].name} (id {racks[0].pk})" in html
    for rack in [f.RackFactory(row=racks[0].row) for _ in range(4)]:
        api.patch(f"/api/v1/cooling-loops/{loop.pk}/", {"racks": [rack.pk]}, format="json")
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/cooling-loops/{loop.pk}/edit/").status_code == 200
    assert len(many) == len(few)
