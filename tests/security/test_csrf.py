"""CSRF: every browser form that writes refuses a POST without the token (403, nothing written) and accepts the
same POST with the token the page handed out; the login form too. The API with a token is not CSRF-bound (no
ambient credential to abuse), but the API over a session cookie is: DRF's SessionAuthentication enforces CSRF.

The clients here enforce CSRF like a browser (``Client(enforce_csrf_checks=True)``); Django's test client skips
the check by default."""

from __future__ import annotations

import base64
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import get_resolver
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from planner import transfer
from planner.models import Reservation
from planner.web import crud
from planner.web.forms import KIND_FORMS
from racks.models import NodeModel, Site
from tests import factories as f
from tests.security.conftest import powered_site, row_counts

pytestmark = pytest.mark.django_db

TOKEN_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def form_token(client, url: str) -> str:
    """The token a page's form carries (what a browser would submit)."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    match = TOKEN_INPUT.search(page.content.decode())
    assert match, f"{url} has no CSRF token in its form"
    return match.group(1)


def browser(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def assert_csrf_refused(response):
    assert response.status_code == 403, response.status_code
    assert "CSRF verification failed" in response.content.decode()


# --------------------------------------------------------------------------------------------------------- login


def test_login_without_a_token_is_403(facilities_user):
    client = browser()
    response = client.post("/accounts/login/", {"username": "fac", "password": "fac-pass-123"})
    assert_csrf_refused(response)
    assert "_auth_user_id" not in client.session


def test_login_with_a_forged_token_is_403(facilities_user):
    client = browser()
    form_token(client, "/accounts/login/")  # the cookie is set, but the form value is made up
    response = client.post(
        "/accounts/login/", {"username": "fac", "password": "fac-pass-123", "csrfmiddlewaretoken": "x" * 64}
    )
    assert_csrf_refused(response)


def test_login_with_the_token_from_the_form_works(facilities_user):
    client = browser()
    token = form_token(client, "/accounts/login/")
    response = client.post(
        "/accounts/login/", {"username": "fac", "password": "fac-pass-123", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(facilities_user.pk)


def test_logout_without_a_token_is_403(facilities_user):
    client = browser(facilities_user)
    assert_csrf_refused(client.post("/accounts/logout/"))
    assert "_auth_user_id" in client.session


# ----------------------------------------------------------------------------------------------- web write forms


def as_post(values: dict) -> dict:
    """Model values as a browser would post them (ids for relations, lists for many-to-many, no None)."""
    data = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, list):
            data[key] = [getattr(v, "pk", v) for v in value]
        else:
            data[key] = getattr(value, "pk", value)
    return data


def edit_data(kind: str, obj) -> dict:
    """What the object's edit form posts unchanged."""
    return as_post(model_to_dict(obj, fields=list(KIND_FORMS[kind]._meta.fields)))


def create_data(kind: str, obj) -> dict:
    """A valid new object of ``kind``: a copy of ``obj`` with what must be unique changed."""
    data = edit_data(kind, obj)
    data["name"] = f"CSRF {kind}"
    if "slug" in data:
        data["slug"] = f"csrf-{kind}"
    if kind == "racks":
        data["position"] = obj.position + 2000
    return data


@pytest.fixture
def world():
    made = powered_site()
    rack = made["racks"][0]
    made.update(
        node=f.NodeFactory(rack=rack, u_position=1),
        pdu=rack.pdus.order_by("pk").first(),
        model=NodeModel.objects.get(slug="cpu-2u"),
        empty_rack=f.RackFactory(row=made["row"], position=rack.position + 1000),
    )
    made["reservation"] = Reservation.objects.create(
        site=made["site"], model=made["node"].model, quantity=1, requested=1, node_ids=[made["node"].pk]
    )
    made["reservation"].nodes.set([made["node"]])
    made["objects"] = {
        "sites": made["site"],
        "rooms": made["room"],
        "rows": made["row"],
        "racks": made["empty_rack"],
        "power-sources": made["ups"],  # feeds PDUs: deleting it is refused (409), which still passes CSRF
        "pdus": made["pdu"],
        "cooling-loops": made["loop"],
        "node-models": NodeModel.objects.create(
            slug="csrf-1u",
            vendor="Acme",
            name="CSRF 1U",
            u_height=1,
            max_power_kw=0.5,
            typical_power_kw=0.3,
            weight_kg=10,
        ),
    }
    return made


def workload_data(model, name: str) -> dict:
    return {
        "name": name,
        "kind": "inference",
        "model": model.pk,
        "quantity": 1,
        "reference_workload": "llama2-70b",
        "scenario": "server",
        "growth_pct_per_quarter": 0,
    }


def write_forms(world) -> list[tuple[str, str, dict, tuple[int, ...]]]:
    """(label, url, valid POST data, statuses a POST with the token may answer) for every writing form."""
    site, rack, node, model = world["site"], world["racks"][0], world["node"], world["model"]
    forms = []
    for kind in crud.KINDS:
        obj = world["objects"][kind]
        parent = crud.KINDS[kind].parent
        query = f"?{parent}={getattr(obj, parent + '_id')}" if parent else ""
        forms.append((f"{kind}-create", f"/{kind}/new/{query}", create_data(kind, obj), (302,)))
        forms.append((f"{kind}-edit", f"/{kind}/{obj.pk}/edit/", edit_data(kind, obj), (302,)))
        forms.append((f"{kind}-delete", f"/{kind}/{obj.pk}/delete/", {"confirm": "true"}, (302, 409)))
    forms += [
        (
            "place",
            "/place/",
            {
                "site": site.pk,
                "rack": rack.pk,
                "model": model.slug,
                "quantity": 1,
                "u_position": 10,
                "status": "planned",
            },
            (302,),
        ),
        (
            "node-edit",
            f"/nodes/{node.pk}/edit/",
            {"rack": rack.pk, "u_position": 20, "name": "moved", "status": "planned"},
            (302,),
        ),
        ("node-delete", f"/nodes/{node.pk}/delete/", {}, (302,)),
        ("feasibility", "/feasibility/", {"site": site.pk, "model": model.slug, "quantity": 1}, (302,)),
        ("workload-create", "/workloads/new/", workload_data(model, "Csrf workload"), (302,)),
        # Issue 16: bulk edit and delete from the lists, the import, bulk entry, a reservation's set actions.
        (
            "lists-bulk-edit",
            "/lists/racks/bulk-edit/",
            {"selected": [world["empty_rack"].pk], "apply": "1", "u_height": 44},
            (302,),
        ),
        (
            "lists-bulk-delete",
            "/lists/racks/bulk-delete/",
            {"selected": [world["empty_rack"].pk], "apply": "1", "sure": "1", "confirm": "true"},
            (302,),
        ),
        (
            "lists-import",
            "/lists/racks/import/",
            {
                "content": base64.b64encode(
                    f"row,name,position,max_load_kg,empty_weight_kg\n{rack.row_id},CSRF-imp,3001,900,90\n".encode()
                ).decode(),
                "name": "racks.csv",
            },
            (302,),
        ),
        (
            "row-racks-bulk",
            f"/rows/{rack.row_id}/racks/bulk/",
            {
                "count": 2,
                "name_prefix": "CSRF-",
                "first_number": 1,
                "digits": 2,
                "first_position": 3010,
                "u_height": 42,
                "width_mm": 600,
                "depth_mm": 1200,
                "max_load_kg": 1000,
                "empty_weight_kg": 100,
                "pdu_sides": ["A", "B"],
                "pdu_phases": 3,
                "pdu_voltage_v": 415,
                "pdu_current_a": 32,
                "pdu_power_factor": 1,
            },
            (302,),
        ),
        ("rack-clone", f"/racks/{rack.pk}/clone/", {"name": "CSRF clone", "position": 3020}, (302,)),
        ("reservation-release", f"/reservations/{world['reservation'].pk}/", {"action": "release"}, (302,)),
        (
            "site-import",
            "/sites/import/",
            {"document": _Upload(json.dumps(transfer.export_site(site)).encode()), "name": "Csrf", "slug": "csrf"},
            (302,),
        ),
    ]
    return forms


class _Upload(SimpleUploadedFile):
    """An uploaded file that can be posted twice (the test client reads it to the end each time)."""

    def __init__(self, content: bytes):
        super().__init__("site.json", content, content_type="application/json")

    def read(self, *args):
        self.seek(0)
        return super().read(*args)


FORM_LABELS = [f"{kind}-{action}" for kind in crud.KINDS for action in ("create", "edit", "delete")] + [
    "place",
    "node-edit",
    "node-delete",
    "feasibility",
    "workload-create",
    "site-import",
    "lists-bulk-edit",
    "lists-bulk-delete",
    "lists-import",
    "row-racks-bulk",
    "rack-clone",
    "reservation-release",
]


def form_named(world, label):
    return next(form for form in write_forms(world) if form[0] == label)


@pytest.mark.parametrize("label", FORM_LABELS)
def test_write_form_without_the_token_is_403_and_writes_nothing(facilities_user, world, label):
    """A valid POST without the token is refused and writes nothing; the same POST with the token the page handed
    out passes the CSRF check (so the 403 is CSRF's, not the view's)."""
    _, url, data, statuses = form_named(world, label)
    client = browser(facilities_user)
    token = form_token(client, url)  # the page was opened: the browser holds the CSRF cookie
    before = row_counts()
    assert_csrf_refused(client.post(url, data))
    assert row_counts() == before
    response = client.post(url, {**data, "csrfmiddlewaretoken": token})
    assert response.status_code in statuses, (response.status_code, response.content.decode()[:3000])
    if response.status_code == 302:
        assert row_counts() != before, "the accepted POST wrote nothing: the case does not test a write"


def test_every_web_write_route_is_covered():
    """A new POST route of the browser pages fails here until it has a case above."""
    web_routes = {
        p.name
        for p in get_resolver("planner.web.urls").url_patterns
        if p.name
        not in {
            "site-list",
            "healthz",
            "site-dashboard",
            "site-resilience",
            "room-detail",
            "room-fabric",
            "rack-detail",
            "catalogue",
            "sources",
            "row-detail",
            "power-source-detail",
            "cooling-loop-detail",
        }
    }
    assert web_routes == {
        "place",
        "place-check",  # GET only: the live check fragment
        "feasibility",
        "tco",  # GET only: the TCO page asks, never writes
        "node-edit",
        "node-delete",
        "object-create",
        "object-edit",
        "object-delete",
        "site-import-page",
        "import-job-page",  # GET only: the job's progress and result
        # NetBox import pages: their CSRF cases are in tests/netbox/test_pages.py (the POSTs read a NetBox).
        "netbox-import",
        "device-types-import",
        "site-checklist",  # GET only
        # the AI-factory pages (issue 17): the workload form writes; the rest are GET only
        "workload-list",
        "workload-create",
        "workload-detail",
        "workload-edit",  # the same view as workload-create
        "site-selection",
        # Issue 16
        "search",  # GET only
        "object-list",  # GET only (CSV/XLSX export too)
        "object-bulk-edit",
        "object-bulk-delete",
        "object-import",
        "reservation-list",  # GET only
        "reservation-detail",  # POST: install or release the set
        "row-racks-bulk",
        "rack-clone",
    }


# ------------------------------------------------------------------------------------------------------------ API


def test_api_with_a_token_is_not_csrf_bound(facilities_user):
    client = APIClient(enforce_csrf_checks=True)
    token, _ = Token.objects.get_or_create(user=facilities_user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post("/api/v1/sites/", {"name": "Token", "slug": "token"}, format="json")
    assert response.status_code == 201, response.content
    site = Site.objects.get(slug="token")
    assert client.patch(f"/api/v1/sites/{site.pk}/", {"country": "NL"}, format="json").status_code == 200
    assert client.delete(f"/api/v1/sites/{site.pk}/").status_code == 204


def session_api(user) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_api_with_a_session_needs_the_csrf_token(facilities_user, world):
    client = session_api(facilities_user)
    # Reads need no token.
    assert client.get("/api/v1/sites/").status_code == 200
    before = row_counts()
    site = world["site"]
    for method, url, data in (
        ("post", "/api/v1/sites/", {"name": "Session", "slug": "session"}),
        ("patch", f"/api/v1/sites/{site.pk}/", {"country": "NL"}),
        ("delete", f"/api/v1/racks/{world['empty_rack'].pk}/", None),
        ("post", "/api/v1/feasibility/", {"site": site.pk, "model": "cpu-2u", "quantity": 1, "commit": True}),
    ):
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code == 403, (method, url, response.content)
        assert "CSRF Failed" in response.json()["detail"], response.json()
    assert row_counts() == before


def test_api_with_a_session_and_the_token_works(facilities_user, world):
    client = session_api(facilities_user)
    token = form_token(client, "/sites/new/")
    response = client.post(
        "/api/v1/sites/", {"name": "Session", "slug": "session"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201, response.content
    site_id = response.json()["id"]
    response = client.patch(f"/api/v1/sites/{site_id}/", {"country": "NL"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and response.json()["country"] == "NL"
    assert client.delete(f"/api/v1/sites/{site_id}/", HTTP_X_CSRFTOKEN=token).status_code == 204
    # A made-up header is refused.
    response = client.post("/api/v1/sites/", {"name": "S2", "slug": "s2"}, format="json", HTTP_X_CSRFTOKEN="y" * 64)
    assert response.status_code == 403


def test_token_endpoint_is_not_csrf_bound(facilities_user):
    """``POST /api/v1/auth/token/`` authenticates nobody by cookie, so it needs no CSRF token."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(facilities_user)
    response = client.post("/api/v1/auth/token/", {"username": "fac", "password": "fac-pass-123"}, format="json")
    assert response.status_code == 200 and response.json()["token"]
