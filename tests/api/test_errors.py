"""One JSON error shape under /api/, every error status documented, JSON bodies only, no slash redirects."""

import json

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from planner.api.exceptions import flatten_errors
from planner.api.renderers import round_for_json
from racks.models import Site
from tests import factories as f

pytestmark = pytest.mark.django_db

SHAPE = {"status", "code", "detail", "errors"}


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) >= SHAPE, body
    assert body["status"] == status and body["detail"] and isinstance(body["errors"], dict), body
    if code:
        assert body["code"] == code, body
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nope/",
        "/api/v1/racks/abc/headroom/",
        "/api/v1/racks/1/nothing/",
        "/api/v1/sites/999999/",
        "/api/v1/sites/999999/headroom/",
        "/api/v1/racks/999999/headroom/",
        "/api/v1/nodes/not-a-number/",
        "/api/v2/",
    ],
)
def test_every_404_under_api_is_json(api, path):
    assert_error(api.get(path), 404, "not_found")


def test_a_404_outside_api_stays_a_page(api):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_statuses_share_the_shape(api, proc_api, anon_api):
    site = f.SiteFactory()
    assert_error(anon_api.get("/api/v1/sites/"), 401)
    assert_error(proc_api.post("/api/v1/sites/", {"name": "x", "slug": "x"}, format="json"), 403, "permission_denied")
    assert_error(api.delete("/api/v1/feasibility/"), 405, "method_not_allowed")
    assert_error(api.post("/api/v1/sites/", {"name": "x", "slug": "x"}), 415, "unsupported_media_type")  # multipart
    assert_error(api.get("/api/v1/sites/", HTTP_ACCEPT="text/csv"), 406)
    bad = assert_error(api.patch(f"/api/v1/sites/{site.id}/", {"power_derating": 7, "name": ""}, format="json"), 400)
    assert set(bad["errors"]) == {"power_derating", "name"}, bad
    assert bad["code"] == "invalid"


def test_a_server_error_under_api_is_json(facilities_user, monkeypatch):
    from planner.api import questions

    def boom(pk):
        raise RuntimeError("boom")

    monkeypatch.setattr(questions.selectors, "rack_context", boom)
    client = Client(raise_request_exception=False)
    client.force_login(facilities_user)
    body = assert_error(client.get("/api/v1/racks/1/headroom/"), 500, "server_error")
    assert "boom" not in json.dumps(body)  # no internals leak


def test_field_errors_are_addressable_by_path():
    nested = {"name": ["Required."], "fail": [{}, {"kind": ["Bad."]}], "non_field_errors": ["Both."]}
    assert flatten_errors(nested) == {"name": ["Required."], "fail.1.kind": ["Bad."], "non_field_errors": ["Both."]}
    assert flatten_errors([{}, {"slug": ["Taken."]}]) == {"1.slug": ["Taken."]}


def test_no_slash_post_is_served_not_redirected(api):
    response = api.post("/api/v1/sites", {"name": "No Slash", "slug": "no-slash"}, format="json")
    assert response.status_code == 201, response.content
    assert Site.objects.filter(slug="no-slash").exists()


def test_money_is_rounded_to_cents_and_float_noise_dropped():
    out = round_for_json({"capex_usd": 1234.5678, "energy_kwh": 31667750.400000002, "rows": [{"annual_cost": 0.125}]})
    assert out == {"capex_usd": 1234.57, "energy_kwh": 31667750.4, "rows": [{"annual_cost": 0.12}]}


def test_tco_answer_has_no_float_noise(proc_api):
    site = f.SiteFactory(energy_price_per_kwh=0.0895)
    f.RackFactory(row__room__site=site)
    body = proc_api.post("/api/v1/tco/", {"site": site.id, "model": "dgx-b200", "quantity": 32}, format="json")
    assert body.status_code == 200, body.content
    for option in body.json()["options"]:
        for key in ("capex_usd", "energy_usd", "rent_usd", "cloud_usd"):
            assert option[key] == round(option[key], 2)
        if option["energy_kwh"] is not None:
            assert len(repr(option["energy_kwh"])) <= 16


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_operation_documents_its_errors_in_the_one_shape():
    schema = _schema()
    error_ref = "#/components/schemas/ApiError"
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            responses = op["responses"]
            where = f"{method.upper()} {path}"
            for code in ("400", "406", "500", "503"):
                assert code in responses, f"{where} does not document {code}"
            if "{" in path:
                assert "404" in responses, where
            if method in ("post", "put", "patch"):
                assert {"413", "415"} <= set(responses), where
                if "requestBody" in op:  # install/release take none
                    assert set(op["requestBody"]["content"]) == {"application/json"}, where
            for code, response in responses.items():
                if code >= "400":
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == error_ref or ref == "#/components/schemas/PlacementConflict", (where, code)


def test_question_answers_are_typed_and_model_is_id_or_slug():
    schema = _schema()
    questions = [
        ("/api/v1/placements/check/", "post"),
        ("/api/v1/racks/{id}/headroom/", "get"),
        ("/api/v1/racks/{id}/retrofits/", "get"),
        ("/api/v1/sites/{id}/headroom/", "get"),
        ("/api/v1/feasibility/", "post"),
        ("/api/v1/tco/", "post"),
    ]
    components = schema["components"]["schemas"]
    for path, method in questions:
        ok = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        name = ok["$ref"].rsplit("/", 1)[1]
        assert components[name].get("properties"), f"{path}: untyped answer"
    for request in ("CheckRequestRequest", "FeasibilityRequestRequest", "TcoRequestRequest", "NodeRequest"):
        model = components[request]["properties"]["model"]
        assert [s["type"] for s in model["oneOf"]] == ["integer", "string"], (request, model)


@pytest.mark.django_db
def test_an_unknown_api_url_answers_json_even_with_debug_on(api, settings):
    # DEBUG makes Django answer an unresolved URL with its technical HTML page, bypassing handler404.
    settings.DEBUG = True
    response = api.get("/api/v1/no-such-resource/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["status"] == 404 and "/api/v1/no-such-resource/" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["dgx\x00b200", "dgx b200", "x" * 101])
def test_a_model_slug_no_slug_can_have_is_a_400_and_writes_nothing(api, model):
    """A slug with a NUL (PostgreSQL refuses it in a query: it was a 500), a space or over 100 characters
    names no model: 400 on the field, nothing written."""
    from racks.models import Node

    rack = f.RackFactory()
    before = Node.objects.count()
    r = api.post("/api/v1/nodes/", {"rack": rack.pk, "model": model, "name": "n"}, format="json")
    assert r.status_code == 400, r.content
    assert "model" in json.dumps(r.json())
    assert Node.objects.count() == before
