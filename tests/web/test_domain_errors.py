"""Services raise domain errors (planner.services: InvalidInput, NotFound, Conflict); the API and the pages map
them to 400 / 404 / 409, each in its own form, with the service's words."""

import html

import pytest

from planner import services
from planner.api.exceptions import exception_handler
from racks.models import Node

pytestmark = pytest.mark.django_db


def test_service_raises_domain_errors_not_http(small_site):
    rack = small_site["racks"][1]
    with pytest.raises(services.InvalidInput) as exc:
        services.nodes_place(rack_id=rack.pk, model_id=1, quantity=0)
    assert exc.value.errors == {"quantity": ["Must be at least 1."]}
    with pytest.raises(services.NotFound):
        services.node_delete(node_id=10**9)


def test_api_maps_invalid_input_to_400_and_not_found_to_404():
    # The API's serializers refuse most bad input before a service runs, so the mapping is tested on the handler.
    response = exception_handler(services.InvalidInput({"name": ['Rack K01 already has a node named "web-1".']}), {})
    assert response.status_code == 400
    assert response.data["errors"] == {"name": ['Rack K01 already has a node named "web-1".']}
    assert response.data["code"] == "invalid" and response.data["detail"].startswith("name: Rack K01")
    response = exception_handler(services.NotFound("Rack 99 does not exist."), {})
    assert response.status_code == 404
    assert response.data["detail"] == "Rack 99 does not exist." and response.data["code"] == "not_found"
    assert response.data["errors"] == {}


def test_page_shows_the_services_message_with_400(small_site, fac_client):
    rack = small_site["racks"][1]
    form = {"rack": rack.pk, "model": "cpu-2u", "quantity": 1, "status": "planned", "name": "web-1"}
    assert fac_client.post("/place/", form).status_code == 302  # the clean case
    r = fac_client.post("/place/", form)
    assert r.status_code == 400
    assert f'Rack {rack.name} already has a node named "web-1".' in html.unescape(r.content.decode())
    assert Node.objects.filter(rack=rack, name="web-1").count() == 1
