"""?brief=true: the minimal representation on lists and details, strictly parsed, in a fixed number of queries."""

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_brief_list_and_detail_answer_only_the_naming_fields(api):
    rack = f.RackFactory(name="R-07")
    listed = api.get(f"/api/v1/racks/?brief=true&row={rack.row_id}")
    assert listed.status_code == 200, listed.content
    assert listed.json()["results"] == [{"id": rack.id, "display": "R-07", "name": "R-07"}]
    detail = api.get(f"/api/v1/racks/{rack.id}/?brief=true")
    assert detail.json() == {"id": rack.id, "display": "R-07", "name": "R-07"}
    site = rack.row.room.site
    assert api.get(f"/api/v1/sites/{site.id}/?brief=true").json() == {
        "id": site.id,
        "display": site.name,
        "name": site.name,
        "slug": site.slug,
    }


def test_brief_false_and_absent_answer_the_full_representation(api):
    rack = f.RackFactory()
    full = api.get(f"/api/v1/racks/{rack.id}/").json()
    assert api.get(f"/api/v1/racks/{rack.id}/?brief=false").json() == full
    assert set(full) > {"id", "name", "row"}


@pytest.mark.parametrize("path", ["sites", "rooms", "rows", "racks", "pdus", "nodes", "node-models", "reservations"])
def test_every_resource_takes_brief(api, path):
    f.NodeFactory()
    response = api.get(f"/api/v1/{path}/?brief=true")
    assert response.status_code == 200, response.content
    for item in response.json()["results"]:
        assert {"id", "display"} <= set(item) <= {"id", "display", "name", "slug"}


@pytest.mark.parametrize("value", ["yes", "1", "True", "", "truee"])
def test_an_invalid_brief_value_answers_400_naming_it(api, value):
    rack = f.RackFactory()
    for path in ("/api/v1/racks/", f"/api/v1/racks/{rack.id}/"):
        response = api.get(f"{path}?brief={value}")
        assert response.status_code == 400, response.content
        assert "brief" in response.json()["errors"]


def test_brief_is_unknown_on_writes(api):
    rack = f.RackFactory()
    response = api.patch(f"/api/v1/racks/{rack.id}/?brief=true", {"name": "x"}, format="json")
    assert response.status_code == 400 and "brief" in response.json()["errors"]


def test_a_brief_list_is_constant_query(api, django_assert_num_queries):
    f.RackFactory()
    with django_assert_num_queries(4):  # authentication (2), count, page
        few = api.get("/api/v1/racks/?brief=true")
    for _ in range(5):
        f.RackFactory()
    with django_assert_num_queries(4):
        many = api.get("/api/v1/racks/?brief=true")
    assert len(many.json()["results"]) == len(few.json()["results"]) + 5
