"""Audit history of every resource: create, update and delete are recorded with the user who did them and shown
by ``GET <resource>/{id}/history/``. The resource list comes from the API router, so a new resource with
history fails here until it has a case."""

import pytest
from django.contrib.auth.models import User

from planner.api.urls import router
from tests import factories as f
from tests.security.conftest import powered_site

pytestmark = pytest.mark.django_db


def _node_rack():
    return powered_site()["racks"][0].id


CASES = {
    "sites": (lambda: {"name": "Audit", "slug": "audit"}, {"country": "NL"}),
    "rooms": (lambda: {"site": f.SiteFactory().id, "name": "Hall", "floor_rated_load_kg_m2": 1224}, {"name": "Hall B"}),
    "rows": (lambda: {"room": f.RoomFactory().id, "name": "Row"}, {"containment": "hot_aisle"}),
    "racks": (
        lambda: {"row": f.RowFactory().id, "name": "R", "position": 7, "max_load_kg": 1400, "empty_weight_kg": 150},
        {"max_load_kg": 1500},
    ),
    "power-sources": (
        lambda: {"site": f.SiteFactory().id, "name": "UPS", "kind": "ups", "capacity_kw": 100},
        {"capacity_kw": 200},
    ),
    "pdus": (
        lambda: {"rack": f.RackFactory().id, "name": "P", "side": "A", "phases": 3, "voltage_v": 415, "current_a": 32},
        {"current_a": 63},
    ),
    "cooling-loops": (
        lambda: {
            "site": f.SiteFactory().id,
            "name": "CRAH",
            "kind": "crah",
            "unit_capacity_kw": 100,
            "units": 2,
            "supply_temp_c": 22,
            "fluid": "air",
        },
        {"units": 3},
    ),
    "node-models": (
        lambda: {
            "slug": "audit-1u",
            "vendor": "Acme",
            "name": "Audit 1U",
            "u_height": 1,
            "max_power_kw": 0.8,
            "typical_power_kw": 0.5,
            "weight_kg": 15,
        },
        {"weight_kg": 16},
    ),
    "nodes": (lambda: {"rack": _node_rack(), "model": "cpu-2u", "name": "n1"}, {"name": "n1-renamed"}),
    "fabrics": (lambda: {"site": f.SiteFactory().id, "name": "IB"}, {"rail_optimized": False}),
    "switches": (lambda: _switch_body(), {"ports": 48}),
}


def _switch_body() -> dict:
    from racks.models import Fabric

    rack = powered_site()["racks"][0]
    fabric = Fabric.objects.create(site=rack.row.room.site, name="IB")
    return {
        "fabric": fabric.id,
        "rack": rack.id,
        "name": "leaf-1",
        "ports": 64,
        "port_speed_gbps": 400,
        "u_height": 1,
        "max_power_kw": 0.5,
        "weight_kg": 14.8,
    }


def _history_resources() -> list[tuple[str, type]]:
    return [(prefix, viewset) for prefix, viewset, _ in router.registry if hasattr(viewset, "history")]


def test_every_resource_with_history_has_a_case():
    assert {prefix for prefix, _ in _history_resources()} == set(CASES)


@pytest.mark.parametrize("resource", sorted(CASES))
def test_create_update_delete_are_recorded_with_the_user(api, proc_api, facilities_user, resource):
    payload, patch = CASES[resource]
    created = api.post(f"/api/v1/{resource}/", payload(), format="json")
    assert created.status_code == 201, created.data
    pk = created.data["id"]
    url = f"/api/v1/{resource}/{pk}/"
    patched = api.patch(url, patch, format="json")
    assert patched.status_code == 200, patched.data

    history = proc_api.get(url + "history/")
    assert history.status_code == 200, history.data
    newest, oldest = history.data["results"]
    assert (oldest["type"], oldest["user"]) == ("created", facilities_user.username)
    assert (newest["type"], newest["user"]) == ("changed", facilities_user.username)
    assert {c["field"] for c in newest["changes"]} == set(patch)
    for change in newest["changes"]:
        assert change["new"] == patch[change["field"]]

    assert api.delete(url).status_code == 204
    model = dict(_history_resources())[resource].queryset.model
    deleted = model.history.filter(id=pk).order_by("-history_date", "-history_id").first()
    assert deleted.history_type == "-"
    assert deleted.history_user == User.objects.get(username=facilities_user.username)
    assert model.history.filter(id=pk).count() == 3


def test_history_of_a_deleted_object_is_visible(api, proc_api):
    created = api.post("/api/v1/sites/", {"name": "Gone", "slug": "gone"}, format="json")
    url = f"/api/v1/sites/{created.data['id']}/"
    assert api.delete(url).status_code == 204
    history = proc_api.get(url + "history/")
    assert history.status_code == 200
    assert history.data["results"][0]["type"] == "deleted"


def test_history_needs_a_reading_role(api, db):
    from rest_framework.test import APIClient

    created = api.post("/api/v1/sites/", {"name": "H", "slug": "h"}, format="json")
    url = f"/api/v1/sites/{created.data['id']}/history/"
    assert APIClient().get(url).status_code in (401, 403)
    nobody = APIClient()
    nobody.force_authenticate(User.objects.create_user("nobody", password="nobody-pass-123"))
    assert nobody.get(url).status_code == 403
