"""Bulk create, update and delete with JSON list bodies on the collection URL: atomic, per-item errors by index."""

import pytest

from planner.api.bulk import MAX_ITEMS
from racks.models import Node, Rack, Site
from tests import factories as f
from tests.security.conftest import powered_site, row_counts

pytestmark = pytest.mark.django_db


def _racks(row, names, first_position=1):
    return [
        {"row": row.id, "name": name, "position": first_position + i, "max_load_kg": 1400, "empty_weight_kg": 150}
        for i, name in enumerate(names)
    ]


def test_bulk_create_of_three_racks(api):
    row = f.RowFactory()
    response = api.post("/api/v1/racks/", _racks(row, ["A1", "A2", "A3"]), format="json")
    assert response.status_code == 201, response.content
    assert [r["name"] for r in response.json()] == ["A1", "A2", "A3"]
    assert sorted(Rack.objects.filter(row=row).values_list("name", flat=True)) == ["A1", "A2", "A3"]
    assert Rack.history.filter(row=row, history_type="+").count() == 3  # one audit row each, as single creates


def test_one_bad_item_writes_nothing_and_is_named_by_index(api):
    row = f.RowFactory()
    items = _racks(row, ["B1", "B2", "B3"])
    items[2]["max_load_kg"] = -5
    before = row_counts()
    response = api.post("/api/v1/racks/", items, format="json")
    assert response.status_code == 400, response.content
    assert "2.max_load_kg" in response.json()["errors"], response.json()
    assert row_counts() == before


def test_a_duplicate_name_within_the_list_is_refused_by_index(api):
    row = f.RowFactory()
    before = row_counts()
    response = api.post("/api/v1/racks/", _racks(row, ["C1", "c1"]), format="json")
    assert response.status_code == 400, response.content
    assert "1.name" in response.json()["errors"]
    assert row_counts() == before


def test_bulk_update_and_partial_update(api):
    a, b = f.RackFactory(), f.RackFactory()
    response = api.patch("/api/v1/racks/", [{"id": a.id, "name": "X-1"}, {"id": b.id, "name": "X-2"}], format="json")
    assert response.status_code == 200, response.content
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.name, b.name) == ("X-1", "X-2")
    full = api.get(f"/api/v1/racks/{a.id}/").json()
    response = api.put("/api/v1/racks/", [{**full, "max_load_kg": 1500}], format="json")
    assert response.status_code == 200, response.content
    a.refresh_from_db()
    assert a.max_load_kg == 1500


def test_bulk_update_with_an_unknown_id_or_bad_item_writes_nothing(api):
    a = f.RackFactory()
    before = row_counts()
    response = api.patch("/api/v1/racks/", [{"id": a.id, "name": "Y"}, {"id": 10**12, "name": "Z"}], format="json")
    assert response.status_code == 400 and "1.id" in response.json()["errors"]
    response = api.patch("/api/v1/racks/", [{"id": a.id, "name": "Y"}, {"id": a.id, "colour": "red"}], format="json")
    assert response.status_code == 400
    assert row_counts() == before
    a.refresh_from_db()
    assert a.name != "Y"


def test_bulk_delete_needs_confirm_for_holders_of_nodes(api):
    empty = f.RackFactory()
    node = f.NodeFactory()
    before = row_counts()
    body = [{"id": empty.id}, {"id": node.rack_id}]
    response = api.delete("/api/v1/racks/", body, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["index"] == 1
    assert row_counts() == before
    assert api.delete("/api/v1/racks/?confirm=true", body, format="json").status_code == 204
    assert not Rack.objects.filter(pk__in=[empty.id, node.rack_id]).exists()
    assert not Node.objects.filter(pk=node.pk).exists()


def test_bulk_delete_of_empty_sites_needs_no_confirm(api):
    a, b = f.SiteFactory(), f.SiteFactory()
    assert api.delete("/api/v1/sites/", [{"id": a.id}, {"id": b.id}], format="json").status_code == 204
    assert not Site.objects.filter(pk__in=[a.id, b.id]).exists()


def test_bulk_nodes_go_through_placement_one_not_fitting_writes_nothing(api):
    world = powered_site()
    rack = world["racks"][0]
    items = [
        {"rack": rack.id, "model": "cpu-2u", "u_position": 41},
        {"rack": rack.id, "model": "dgx-b200", "u_position": 1},
        {"rack": rack.id, "model": "dgx-b200", "u_position": 11},
    ]
    # The same nodes posted one by one: the first refused by a rule must be the item a list names.
    single = [api.post("/api/v1/nodes/", item, format="json").status_code for item in items]
    assert 409 in single and set(single) <= {201, 409}, single
    refused_index = single.index(409)
    Node.objects.filter(rack=rack).delete()
    before = row_counts()
    response = api.post("/api/v1/nodes/", items, format="json")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["index"] == refused_index and body["ok"] is False and body["checks"], body
    assert row_counts() == before
    clean = api.post("/api/v1/nodes/", items[:refused_index], format="json")
    assert clean.status_code == 201 and len(clean.json()) == refused_index
    assert Node.objects.filter(rack=rack).count() == refused_index


def test_procurement_may_not_bulk_write(proc_api):
    row = f.RowFactory()
    rack = f.RackFactory()
    before = row_counts()
    assert proc_api.post("/api/v1/racks/", _racks(row, ["P1"]), format="json").status_code == 403
    assert proc_api.patch("/api/v1/racks/", [{"id": rack.id, "name": "P"}], format="json").status_code == 403
    assert proc_api.delete("/api/v1/racks/", [{"id": rack.id}], format="json").status_code == 403
    assert row_counts() == before


def test_list_size_is_bounded_and_empty_is_refused(api):
    row = f.RowFactory()
    too_many = [{"row": row.id, "name": f"N{i}", "position": 1, "max_load_kg": 1} for i in range(MAX_ITEMS + 1)]
    before = row_counts()
    assert api.post("/api/v1/racks/", too_many, format="json").status_code == 400
    assert api.post("/api/v1/racks/", [], format="json").status_code == 400
    assert api.patch("/api/v1/racks/", {"name": "x"}, format="json").status_code == 400
    assert row_counts() == before


def test_bulk_create_queries_grow_linearly(api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    row = f.RowFactory()
    counts = []
    for n in (1, 2, 4):
        with CaptureQueriesContext(connection) as ctx:
            response = api.post("/api/v1/racks/", _racks(row, [f"Q{n}-{i}" for i in range(n)], 10 * n), format="json")
        assert response.status_code == 201, response.content
        counts.append(len(ctx.captured_queries))
    per_item = counts[1] - counts[0]
    assert counts[2] - counts[1] == 2 * per_item  # exactly linear: a fixed cost per item
    assert per_item <= 12, counts
