"""Strict query parameters (an unknown one answers 400 naming it), ?q= search, ?ordering=."""

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/racks/?site_id=1", "site_id"),
        ("/api/v1/sites/?fields=name", "fields"),
        ("/api/v1/nodes/?rack=1&colour=red", "colour"),
        ("/api/v1/racks/{rack}/headroom/?verbose=1", "verbose"),
        ("/api/v1/racks/{rack}/retrofits/?target_kw=50&extra=1", "extra"),
        ("/api/v1/sites/{site}/?limit=5", "limit"),
    ],
)
def test_an_unknown_parameter_answers_400_naming_it(api, path, param):
    rack = f.RackFactory()
    response = api.get(path.format(rack=rack.id, site=rack.row.room.site_id))
    assert response.status_code == 400, response.content
    assert param in response.json()["errors"], response.json()


def test_known_parameters_filter(api):
    a, b = f.RackFactory(), f.RackFactory()
    response = api.get(f"/api/v1/racks/?site={a.row.room.site_id}&limit=10&offset=0&ordering=-name")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [a.id]
    assert b.id not in [r["id"] for r in response.json()["results"]]


def test_q_searches_names(api):
    f.SiteFactory(name="Amsterdam North", slug="ams-n")
    f.SiteFactory(name="Berlin", slug="ber")
    names = [s["name"] for s in api.get("/api/v1/sites/?q=amsterdam").json()["results"]]
    assert names == ["Amsterdam North"]
    assert api.get("/api/v1/node-models/?q=b200").json()["count"] >= 1


def test_a_huge_numeric_filter_is_400_not_500(api):
    response = api.get("/api/v1/nodes/?site=-2.49e%2B133")
    assert response.status_code == 400 and "site" in response.json()["errors"]


def test_delete_confirm_is_a_known_parameter(api):
    site = f.SiteFactory()
    assert api.delete(f"/api/v1/sites/{site.id}/?confirm=true").status_code == 204
