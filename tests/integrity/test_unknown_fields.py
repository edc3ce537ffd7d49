"""A write naming a field the resource does not have answers 400 naming it, and changes nothing: no row, no
history row, no new budget token (issue 12, point 3). Over every writable resource of the API.

Read-only fields: repeating what the object shows is accepted (a GET body can be PUT back); another value, or
any read-only field in a create, answers 400 naming it. A PATCH naming no writable field answers 400.
"""

from __future__ import annotations

import pytest

from racks.models import NodeModel, Site
from tests import factories as f
from tests.security.conftest import powered_site, row_counts

pytestmark = pytest.mark.django_db

READ_ONLY = {"id", "usable_kw", "model_slug", "created_at"}


@pytest.fixture
def objects():
    built = powered_site(racks=1, air_kw_per_rack_limit=100.0)
    rack = built["racks"][0]
    node = f.NodeFactory(rack=rack, model=NodeModel.objects.get(slug="dgx-a100"), u_position=1)
    return {
        "site": built["site"],
        "sites": built["site"].id,
        "rooms": built["room"].id,
        "rows": built["row"].id,
        "racks": rack.id,
        "power-sources": built["ups"].id,
        "pdus": rack.pdus.order_by("id").first().id,
        "cooling-loops": built["loop"].id,
        "node-models": NodeModel.objects.get(slug="cpu-2u").id,
        "nodes": node.id,
    }


RESOURCES = ["sites", "rooms", "rows", "racks", "power-sources", "pdus", "cooling-loops", "node-models", "nodes"]


def _copy_body(resource: str, body: dict) -> dict:
    """A valid create body from an existing object's GET body: writable fields, unique ones changed."""
    out = {k: v for k, v in body.items() if k not in READ_ONLY}
    out["name"] = f"{out['name']}-copy"
    if "slug" in out:
        out["slug"] = f"{out['slug']}-copy"
    if resource == "racks":
        out["position"] = out["position"] + 1
    if resource == "nodes":
        out["u_position"] = 20
    if resource == "pdus":
        out["side"] = "B" if out["side"] == "A" else "A"
    return out


def _state(objects):
    return row_counts(), Site.objects.get(pk=objects["site"].pk).budget_token


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize(
    "method, extra",
    [
        ("patch", {"capacity_kW": 1.0}),  # only unknown fields
        ("patch", {"name": "renamed", "colour": "red", "capacityKw": 5}),  # known and unknown together
        ("put", {"colour": "red"}),  # a full body plus an unknown field
    ],
)
def test_an_unknown_field_in_an_update_answers_400_naming_it_and_changes_nothing(api, objects, resource, method, extra):
    url = f"/api/v1/{resource}/{objects[resource]}/"
    current = api.get(url).json()
    body = {**current, **extra} if method == "put" else extra
    before = _state(objects)
    response = getattr(api, method)(url, body, format="json")
    assert response.status_code == 400, response.json()
    unknown = {k for k in extra if k not in current}
    assert set(response.json()["errors"]) == unknown, response.json()
    assert all(response.json()["errors"][k] == ["Unknown field."] for k in unknown)
    assert _state(objects) == before
    assert api.get(url).json() == current


@pytest.mark.parametrize("resource", RESOURCES)
def test_an_unknown_field_in_a_create_answers_400_and_the_clean_create_works(api, objects, resource):
    current = api.get(f"/api/v1/{resource}/{objects[resource]}/").json()
    body = _copy_body(resource, current)
    before = _state(objects)
    response = api.post(f"/api/v1/{resource}/", {**body, "colour": "red"}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"] == {"colour": ["Unknown field."]}
    assert _state(objects) == before
    # Clean case beside it: the same body without the unknown field is created.
    response = api.post(f"/api/v1/{resource}/", body, format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("resource", RESOURCES)
def test_read_only_fields_round_trip_but_cannot_be_set(api, objects, resource):
    url = f"/api/v1/{resource}/{objects[resource]}/"
    current = api.get(url).json()
    # A GET body sent back with PUT (read-only fields repeated as they are) is accepted.
    response = api.put(url, {**current, "name": f"{current['name']}-2"}, format="json")
    assert response.status_code == 200, response.json()
    current = api.get(url).json()
    for key in sorted(READ_ONLY & set(current)):
        before = _state(objects)
        other = current[key] + 1 if isinstance(current[key], (int, float)) else f"{current[key]}-x"
        response = api.patch(url, {"name": current["name"], key: other}, format="json")
        assert response.status_code == 400, (key, response.json())
        assert list(response.json()["errors"]) == [key]
        assert _state(objects) == before
    # A create may not give them either.
    response = api.post(f"/api/v1/{resource}/", {**_copy_body(resource, current), "id": 1}, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["id"], response.json()


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_patch_naming_no_writable_field_answers_400_and_a_real_one_writes(api, objects, resource):
    url = f"/api/v1/{resource}/{objects[resource]}/"
    current = api.get(url).json()
    for body in ({}, {"id": current["id"]}):
        before = _state(objects)
        response = api.patch(url, body, format="json")
        assert response.status_code == 400, response.json()
        assert "Nothing to change" in str(response.json())
        assert _state(objects) == before
    before = _state(objects)
    response = api.patch(url, {"name": f"{current['name']}-renamed"}, format="json")
    assert response.status_code == 200, response.json()
    counts, token = _state(objects)
    assert counts != before[0]  # a history row records the change
    assert token != before[1]  # and the site's budget token is renewed (a site's or node model's save too)
