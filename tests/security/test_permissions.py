"""Every URL of the project, by role, generated from the URL resolver (issue #7, point 5).

``ENDPOINTS`` classifies each URL pattern of ``planner.urls``, per HTTP method:

- ``public``: anyone, anonymous included (health check, login, token exchange);
- ``read``: a planner role (procurement, facilities) or a superuser; anonymous users get 401 (API) or the
  login page (browser), a logged-in user without a role 403;
- ``question``: the same as ``read`` even for a POST: asks, never writes (placement check, feasibility, TCO);
- ``write``: facilities or a superuser; procurement and users without a role get 403 and nothing is written;
- ``superuser``: superusers only (an import that skips the placement rules);
- ``staff``: the Django admin; everyone else is sent to the admin login page.

``test_every_url_pattern_is_classified`` walks ``django.urls.get_resolver()``: a pattern that is neither in
``ENDPOINTS`` nor covered by a rule of ``SKIPPED`` fails the suite until it is classified. Then each role
requests every classified URL with every classified method (and OPTIONS for DRF views), filled from a small
world (a powered site, a node, a nightly report) with a body that would be valid, so a 403 really comes from
the permission layer: allowed requests must succeed (2xx/3xx, never 4xx/5xx), refused ones must be 401/403 (or
the login redirect) and, for non-safe methods, leave ``row_counts()`` unchanged. Each request runs inside a
savepoint that is rolled back, so one world serves all the requests of a test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from planner import import_jobs, reports, services, transfer
from planner.models import Reservation, ThroughputBasis, Workload
from planner.web.crud import KINDS
from planner.web.forms import KIND_FORMS
from racks.models import Fabric, NodeModel
from tests import factories as f
from tests.security.conftest import powered_site, row_counts

pytestmark = pytest.mark.django_db

PUBLIC, READ, QUESTION, WRITE, SUPERUSER, STAFF = "public", "read", "question", "write", "superuser", "staff"
ROLES = ("anonymous", "no_role", "procurement", "facilities", "admin")
ALLOWED = {
    PUBLIC: set(ROLES),
    READ: {"procurement", "facilities", "admin"},
    QUESTION: {"procurement", "facilities", "admin"},
    WRITE: {"facilities", "admin"},
    SUPERUSER: {"admin"},
    STAFF: {"admin"},  # the superuser is the only staff member among the roles
}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOGIN_URL = "/accounts/login/"
ADMIN_LOGIN_URL = "/admin/login/"
DRF_PK = "(?P<pk>[^/.]+)"


@dataclass(frozen=True)
class Endpoint:
    """Class of each method; a key ``"POST:variant"`` is a second request with the same method (another body).
    ``obj`` names the world object that fills the URL's ``pk``/``slug`` (``"kind"``: every key of
    ``planner.web.crud.KINDS``, with an object of that kind)."""

    methods: dict[str, str]
    obj: str | None = None


# --- The classification ---------------------------------------------------------------------------------

# DRF router resources -> the world object their detail routes use.
API_RESOURCES = {
    "sites": "site",
    "rooms": "room",
    "rows": "row",
    "racks": "rack",
    "power-sources": "power_source",
    "pdus": "pdu",
    "cooling-loops": "loop",
    "node-models": "node_model",
    "nodes": "node",
    "fabrics": "fabric",
    "switches": "switch",
}
API_READ_ONLY_RESOURCES = {"reports": "report", "reservations": "reservation"}
# The AI-factory resources (issue 17): CRUD and bulk like the others, no history route.
API_AI_RESOURCES = {"throughput-bases": "throughput_basis", "workloads": "workload"}
API_RESOURCES_ALL = {**API_RESOURCES, **API_AI_RESOURCES}


def _router_endpoints() -> dict[str, Endpoint]:
    table = {}
    for prefix, obj in API_RESOURCES.items():
        # PUT, PATCH and DELETE on the list URL are the bulk operations (list bodies, planner/api/bulk.py).
        table[f"api/v1/{prefix}/"] = Endpoint(
            {"GET": READ, "POST": WRITE, "PUT": WRITE, "PATCH": WRITE, "DELETE": WRITE}
        )
        table[f"api/v1/{prefix}/{DRF_PK}/"] = Endpoint(
            {"GET": READ, "PUT": WRITE, "PATCH": WRITE, "DELETE": WRITE}, obj
        )
        table[f"api/v1/{prefix}/{DRF_PK}/history/"] = Endpoint({"GET": READ}, obj)
    for prefix, obj in API_AI_RESOURCES.items():
        table[f"api/v1/{prefix}/"] = Endpoint(
            {"GET": READ, "POST": WRITE, "PUT": WRITE, "PATCH": WRITE, "DELETE": WRITE}
        )
        table[f"api/v1/{prefix}/{DRF_PK}/"] = Endpoint(
            {"GET": READ, "PUT": WRITE, "PATCH": WRITE, "DELETE": WRITE}, obj
        )
    for prefix, obj in API_READ_ONLY_RESOURCES.items():
        table[f"api/v1/{prefix}/"] = Endpoint({"GET": READ})
        table[f"api/v1/{prefix}/{DRF_PK}/"] = Endpoint({"GET": READ}, obj)
    return table


ENDPOINTS: dict[str, Endpoint] = {
    # Django admin: the index and one changelist (staff only), and its login page (public).
    "admin/": Endpoint({"GET": STAFF}),
    "admin/login/": Endpoint({"GET": PUBLIC}),
    "admin/racks/site/": Endpoint({"GET": STAFF}),
    # API: token exchange, questions, transfer, the router, the schema and its docs.
    "api/v1/auth/token/": Endpoint({"POST": PUBLIC}),
    "api/v1/placements/check/": Endpoint({"POST": QUESTION}),
    "api/v1/racks/<int:pk>/headroom/": Endpoint({"GET": QUESTION}, "rack"),
    "api/v1/racks/<int:pk>/retrofits/": Endpoint({"GET": QUESTION}, "rack"),
    "api/v1/sites/<int:pk>/headroom/": Endpoint({"GET": QUESTION}, "site"),
    # commit=true reserves the placements as nodes: a write.
    "api/v1/feasibility/": Endpoint({"POST": QUESTION, "POST:commit": WRITE}),
    "api/v1/tco/": Endpoint({"POST": QUESTION}),
    "api/v1/site-selection/": Endpoint({"POST": QUESTION}),
    "api/v1/sites/<int:pk>/readiness/": Endpoint({"GET": QUESTION}, "site"),
    "api/v1/what-if/": Endpoint({"POST": QUESTION}),
    "api/v1/sites/<int:pk>/resilience/": Endpoint({"GET": QUESTION}, "site"),
    f"api/v1/reservations/{DRF_PK}/install/": Endpoint({"POST": WRITE}, "reservation"),
    f"api/v1/reservations/{DRF_PK}/release/": Endpoint({"POST": WRITE}, "reservation"),
    # as_is=true places the nodes without the placement rules: superusers only.
    "api/v1/sites/import/": Endpoint({"POST": WRITE, "POST:as_is": SUPERUSER}),
    "api/v1/sites/<int:pk>/export/": Endpoint({"GET": READ}, "site"),
    # Import jobs: like the import itself, facilities and superusers (each sees their own; a superuser all).
    "api/v1/import-jobs/": Endpoint({"GET": WRITE}),
    f"api/v1/import-jobs/{DRF_PK}/": Endpoint({"GET": WRITE}, "import_job"),
    **_router_endpoints(),
    "api/v1/": Endpoint({"GET": READ}),
    # The schema maps every endpoint and field: like the API itself, it needs a role.
    "api/v1/schema/": Endpoint({"GET": READ}),
    "api/v1/docs/": Endpoint({"GET": READ}),
    "api/v1/redoc/": Endpoint({"GET": READ}),
    # Browser login and logout.
    "accounts/login/": Endpoint({"GET": PUBLIC, "POST": PUBLIC}),
    "accounts/logout/": Endpoint({"POST": PUBLIC}),
    # Report pages.
    "reports/": Endpoint({"GET": READ}),
    "reports/site/<slug:slug>/": Endpoint({"GET": READ}, "site"),
    "reports/<int:pk>/": Endpoint({"GET": READ}, "report"),
    "reports/<int:pk>/csv/": Endpoint({"GET": READ}, "report"),
    "reports/<int:pk>/json/": Endpoint({"GET": READ}, "report"),
    # Pages.
    "": Endpoint({"GET": READ}),
    "healthz": Endpoint({"GET": PUBLIC}),
    "sites/<int:pk>/": Endpoint({"GET": READ}, "site"),
    "rooms/<int:pk>/": Endpoint({"GET": READ}, "room"),
    "rooms/<int:pk>/fabric/": Endpoint({"GET": READ}, "room"),
    "racks/<int:pk>/": Endpoint({"GET": READ}, "rack"),
    "catalogue/": Endpoint({"GET": READ}),
    "sources/": Endpoint({"GET": READ}),
    "rows/<int:pk>/": Endpoint({"GET": READ}, "row"),
    "power-sources/<int:pk>/": Endpoint({"GET": READ}, "power_source"),
    "cooling-loops/<int:pk>/": Endpoint({"GET": READ}, "loop"),
    # NetBox import pages (their POSTs read a NetBox: tests/netbox/test_pages.py checks the roles there).
    "catalogue/device-types/": Endpoint({"GET": WRITE}),
    "netbox/import/": Endpoint({"GET": WRITE}),
    "sites/<int:pk>/checklist/": Endpoint({"GET": READ}, "site"),
    "sites/<int:pk>/resilience/": Endpoint({"GET": READ}, "site"),
    "place/": Endpoint({"GET": QUESTION, "POST": WRITE}),  # POST records the nodes
    "place/check/": Endpoint({"GET": QUESTION}),
    "sites/import/": Endpoint({"GET": WRITE, "POST": WRITE}),  # POST queues an import job
    "imports/<int:pk>/": Endpoint({"GET": WRITE}, "import_job"),
    "feasibility/": Endpoint({"GET": QUESTION, "POST": WRITE}),  # POST reserves the placements
    "workloads/": Endpoint({"GET": READ}),
    "workloads/new/": Endpoint({"GET": WRITE, "POST": WRITE}),
    "workloads/<int:pk>/": Endpoint({"GET": READ}, "workload"),
    "workloads/<int:pk>/edit/": Endpoint({"GET": WRITE, "POST": WRITE}, "workload"),
    "site-selection/": Endpoint({"GET": QUESTION}),
    "tco/": Endpoint({"GET": QUESTION}),  # the TCO page: GET only, writes nothing
    "nodes/<int:pk>/edit/": Endpoint({"GET": WRITE, "POST": WRITE}, "node"),
    "nodes/<int:pk>/delete/": Endpoint({"GET": WRITE, "POST": WRITE}, "node"),
    # Issue 16: lists, bulk entry, import, search, reservations.
    "search/": Endpoint({"GET": READ}),
    "lists/<slug:kind_key>/": Endpoint({"GET": READ}, "kind"),
    # a POST with the selection shows the edit form / what a delete takes (no write); the confirmed POST writes
    "lists/<slug:kind_key>/bulk-edit/": Endpoint({"GET": WRITE, "POST": WRITE}, "kind"),
    "lists/<slug:kind_key>/bulk-delete/": Endpoint({"GET": WRITE, "POST": WRITE}, "kind"),
    "lists/<slug:kind_key>/import/": Endpoint({"GET": WRITE, "POST": WRITE}, "kind"),
    "reservations/": Endpoint({"GET": READ}),
    "reservations/<int:pk>/": Endpoint({"GET": READ, "POST": WRITE}, "reservation"),  # POST installs/releases
    "rows/<int:pk>/racks/bulk/": Endpoint({"GET": WRITE, "POST": WRITE}, "row"),
    "racks/<int:pk>/clone/": Endpoint({"GET": WRITE, "POST": WRITE}, "rack"),
    f"api/v1/rows/{DRF_PK}/racks/bulk/": Endpoint({"POST": WRITE}, "row"),
    f"api/v1/racks/{DRF_PK}/clone/": Endpoint({"POST": WRITE}, "rack"),
    "<slug:kind_key>/new/": Endpoint({"GET": WRITE, "POST": WRITE}, "kind"),
    "<slug:kind_key>/<int:pk>/edit/": Endpoint({"GET": WRITE, "POST": WRITE}, "kind"),
    "<slug:kind_key>/<int:pk>/delete/": Endpoint({"GET": WRITE, "POST": WRITE}, "kind"),
}

# Patterns deliberately not requested, each rule with its reason. A rule that matches nothing fails the suite.
TESTED_ADMIN = {route for route in ENDPOINTS if route.startswith("admin/")}
SKIPPED: tuple[tuple[str, object, str], ...] = (
    (
        "NetBox dry run API",
        lambda route, ns: route == "api/v1/netbox/dry-run/",
        "a valid body makes the server read a NetBox: tests/netbox/test_api.py checks every role against a "
        "loopback NetBox",
    ),
    (
        "NetBox import job API",
        lambda route, ns: route == "api/v1/netbox/import/",
        "a valid body queues a job that reads a NetBox: tests/netbox/test_jobs.py checks facilities (202), "
        "procurement (403) and anonymous (401/403) against a loopback NetBox",
    ),
    (
        "DRF format-suffix variants",
        lambda route, ns: "(?P<format>" in route or "<drf_format_suffix:format>" in route,
        "the same view and permission classes as the classified route without the suffix; only the renderer "
        "differs (.json/.api)",
    ),
    (
        "Django admin internals",
        lambda route, ns: ns == "admin" and route not in TESTED_ADMIN,
        "every view of admin.site.urls is wrapped in AdminSite.admin_view (staff only, else the admin login); "
        "the index and the racks/site changelist stand for them",
    ),
)


# --- The resolver ---------------------------------------------------------------------------------------


def _segment(pattern) -> str:
    text = str(pattern)
    if text.startswith("^"):
        text = text[1:]
    if text.endswith("$"):
        text = text[:-1]
    return text


def resolver_patterns() -> list[tuple[str, URLPattern, str | None]]:
    """(route, pattern, namespace) of every URL pattern, depth first; the route joins the pattern strings
    without the regex anchors."""
    found = []

    def walk(resolver, prefix: str, namespace: str | None) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                walk(entry, prefix + _segment(entry.pattern), entry.namespace or namespace)
            else:
                found.append((prefix + _segment(entry.pattern), entry, namespace))

    walk(get_resolver(), "", None)
    return found


def skip_reason(route: str, namespace: str | None) -> str | None:
    for _name, matches, reason in SKIPPED:
        if matches(route, namespace):
            return reason
    return None


def classified_patterns() -> dict[str, URLPattern]:
    return {route: p for route, p, ns in resolver_patterns() if skip_reason(route, ns) is None}


def _drf_http_method_names(callback) -> list[str] | None:
    cls = getattr(callback, "cls", None)
    if cls is None:
        return None
    initkwargs = getattr(callback, "initkwargs", None) or getattr(callback, "view_initkwargs", None) or {}
    return list(initkwargs.get("http_method_names", cls.http_method_names))


def drf_methods(callback) -> set[str] | None:
    """The methods a DRF view answers (without OPTIONS/HEAD), or None for a plain Django view."""
    names = _drf_http_method_names(callback)
    if names is None:
        return None
    actions = getattr(callback, "actions", None)
    if actions:
        # DRF adds "head" to a viewset's actions on its first request: order-dependent, so left out.
        return {m.upper() for m in actions if m not in ("options", "head")}
    return {m.upper() for m in names if m not in ("options", "head") and hasattr(callback.cls, m)}


def answers_options(callback) -> bool:
    names = _drf_http_method_names(callback)
    return names is not None and "options" in names


@dataclass(frozen=True)
class Case:
    route: str
    method_key: str  # "POST" or "POST:variant"
    cls: str
    kind: str | None = None  # for the <slug:kind_key> routes

    @property
    def method(self) -> str:
        return self.method_key.split(":")[0]

    @property
    def api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def area(self) -> str:
        head = self.route.split("/")[0]
        return head if head in ("api", "reports", "admin", "accounts") else "pages"

    def __str__(self) -> str:
        return f"{self.method_key} /{self.route}" + (f" [{self.kind}]" if self.kind else "")


def all_cases() -> list[Case]:
    cases = []
    patterns = classified_patterns()
    for route, endpoint in ENDPOINTS.items():
        methods = dict(endpoint.methods)
        if route in patterns and answers_options(patterns[route].callback):
            classes = set(methods.values())
            methods["OPTIONS"] = PUBLIC if classes == {PUBLIC} else READ
        kinds = list(KINDS) if endpoint.obj == "kind" else [None]
        cases += [Case(route, key, cls, kind) for key, cls in methods.items() for kind in kinds]
    return cases


AREAS = ("api", "pages", "reports", "accounts", "admin")


# --- The world ------------------------------------------------------------------------------------------

LOGIN_USER, LOGIN_PASSWORD = "perm-login", "perm-login-pass-123"


def build_world(users: dict[str, User]) -> dict:
    built = powered_site(racks=1)
    site, rack = built["site"], built["racks"][0]
    node = f.NodeFactory(rack=rack, u_position=1)  # cpu-2u
    spare_source = f.PowerSourceFactory(site=site, name="Spare generator", kind="generator", capacity_kw=800)
    spare_model = NodeModel.objects.get(slug="cpu-2u")
    spare_model.pk = spare_model.id = None
    spare_model.slug, spare_model.name = "perm-spare-2u", "Spare 2U"
    spare_model.save()
    report = reports.report_build(site.pk, notify=False)
    reservation = Reservation.objects.create(site=site, model=node.model, quantity=1, requested=1)
    reservation.nodes.set([node])
    User.objects.create_user(LOGIN_USER, password=LOGIN_PASSWORD)
    fabric = Fabric.objects.create(site=site, name="Perm fabric")
    fabric.racks.set([rack])
    switch = services.switch_create(
        fabric_id=fabric.pk,
        rack_id=rack.pk,
        name="perm-leaf",
        ports=64,
        port_speed_gbps=400.0,
        u_height=1,
        max_power_kw=0.5,
        weight_kg=14.8,
        u_position=20,
        rail=1,
    )
    objects = {
        "site": site,
        "room": built["room"],
        "row": built["row"],
        "rack": rack,
        "power_source": spare_source,  # feeds nothing, so deleting it is allowed
        "pdu": rack.pdus.get(side="A"),
        "loop": built["loop"],
        "node_model": spare_model,  # used by no node, so deleting it is allowed
        "node": node,
        "report": report,
        # Created by the facilities user: the job page and URL are theirs (and every superuser's).
        "import_job": import_jobs.import_job_create(
            document=transfer.export_site(site), user=users["facilities"], name="Perm job", slug="perm-job"
        ),
        "reservation": reservation,
        "fabric": fabric,
        "switch": switch,
        "throughput_basis": ThroughputBasis.objects.create(
            model=node.model, reference_workload="llama2-70b", kind="measured", tokens_per_s_per_system=10.0
        ),
        "workload": Workload.objects.create(name="Perm workload", model=node.model, quantity=1),
    }
    tokens = {role: Token.objects.create(user=user).key for role, user in users.items()}
    return {"objects": objects, "users": users, "tokens": tokens}


def object_of_kind(world: dict, kind: str):
    model = KINDS[kind].model
    matches = [obj for obj in world["objects"].values() if type(obj) is model]
    assert matches, f"the world of {__name__} has no {model.__name__}: add one for kind {kind!r}"
    return matches[0]


def case_object(world: dict, case: Case):
    obj_name = ENDPOINTS[case.route].obj
    if obj_name is None:
        return None
    return object_of_kind(world, case.kind) if obj_name == "kind" else world["objects"][obj_name]


def build_path(world: dict, case: Case) -> str:
    obj = case_object(world, case)
    path = "/" + case.route
    if case.kind:
        path = path.replace("<slug:kind_key>", case.kind)
    if obj is not None:
        path = path.replace("<int:pk>", str(obj.pk)).replace(DRF_PK, str(obj.pk))
        path = path.replace("<slug:slug>", getattr(obj, "slug", ""))
    assert "<" not in path and "(?P" not in path, f"{case}: cannot fill {path}"
    return path + query_string(world, case)


# The API resources whose delete takes ?confirm=true (elsewhere it is an unknown parameter: 400).
CONFIRM_API = ("api/v1/sites/", "api/v1/rooms/", "api/v1/rows/", "api/v1/racks/")


def query_string(world: dict, case: Case) -> str:
    o = world["objects"]
    query = {}
    if case.route in ("place/", "place/check/") and case.method == "GET":
        query = {"rack": o["rack"].pk, "model": "cpu-2u", "quantity": 1}
    elif case.route == "api/v1/racks/<int:pk>/retrofits/" and case.method == "GET":
        query = {"model": "cpu-2u", "quantity": 1}  # the rack is in the path (an unknown parameter is a 400)
    elif case.route == "site-selection/" and case.method == "GET":
        query = {"workload": o["workload"].pk}
    elif case.route == "feasibility/" and case.method == "GET":
        query = {"site": o["site"].pk, "model": "cpu-2u", "quantity": 1}
    elif case.route == "tco/" and case.method == "GET":
        query = {"site": o["site"].pk, "model": "cpu-2u", "quantity": 1, "horizon_years": 1, "utilization_pct": 100}
    elif case.route == "api/v1/sites/import/":
        query = {"name": "Perm import", "slug": "perm-import"}
        if case.method_key == "POST:as_is":
            query["as_is"] = "true"
    elif case.method == "DELETE" and (not case.api or case.route.startswith(CONFIRM_API)):
        query = {"confirm": "true"}  # sites, rooms, rows and racks holding nodes need it (the API takes it there only)
    elif case.route == "<slug:kind_key>/new/" and KINDS[case.kind].parent:
        parent = KINDS[case.kind].parent
        query = {parent: o[parent].pk}
    return "?" + urlencode(query) if query else ""


# Fields made unique again when a copy of an existing object is posted as a new one.
COPY_TWEAKS = {"name": "Perm copy", "slug": "perm-copy", "position": 99, "u_position": 10}


def api_copy_body(obj) -> dict:
    """The object's own representation, writable fields only, unique ones changed: a valid create/update body."""
    from planner.api.urls import router

    viewset = next(v for _prefix, v, _basename in router.registry if v.queryset.model is type(obj))
    serializer = viewset.serializer_class(obj)
    writable = {name for name, fld in serializer.fields.items() if not fld.read_only}
    body = {k: v for k, v in serializer.data.items() if k in writable}
    body.update({k: v for k, v in COPY_TWEAKS.items() if k in body})
    return body


def form_copy_data(kind: str, obj, *, tweak: dict) -> dict:
    """The web form of a kind filled from an existing object (what the edit page shows), with ``tweak``."""
    from operator import attrgetter

    path = KINDS[kind].site
    site = None if path is None else (obj if path == "" else attrgetter(path)(obj))
    form = KIND_FORMS[kind](instance=obj, site=site)
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, (list, tuple)):
            data[name] = [str(v) for v in value]
        else:
            data[name] = "" if value is None else value
    data.update({k: v for k, v in tweak.items() if k in data})
    return data


def patch_body(obj) -> dict:
    """A PATCH changing one text field (a throughput basis has no name: its system)."""
    return {"system": "Perm patch"} if isinstance(obj, ThroughputBasis) else {"name": "Perm patch"}


def request_body(world: dict, case: Case):
    o = world["objects"]
    route, key = case.route, case.method_key
    bulk_prefix = route.split("/")[2] if route.count("/") == 3 and route.startswith("api/v1/") else None
    if bulk_prefix in API_RESOURCES_ALL and case.method in ("PUT", "PATCH", "DELETE"):
        obj = world["objects"][API_RESOURCES_ALL[bulk_prefix]]  # a bulk operation on the resource's world object
        if case.method == "DELETE":
            return [{"id": obj.pk}]
        return [{"id": obj.pk, **(patch_body(obj) if case.method == "PATCH" else api_copy_body(obj))}]
    if case.method in ("GET", "DELETE", "OPTIONS"):
        return None
    if route == "api/v1/auth/token/" or route == "accounts/login/":
        return {"username": LOGIN_USER, "password": LOGIN_PASSWORD}
    if route == "accounts/logout/":
        return {}
    if route == "api/v1/placements/check/":
        return {"rack": o["rack"].pk, "model": "cpu-2u", "quantity": 1}
    if route in ("api/v1/feasibility/", "api/v1/tco/", "feasibility/"):
        body = {"site": o["site"].pk, "model": "cpu-2u", "quantity": 1}
        if key == "POST:commit":
            body["commit"] = True
        return body
    if route == "api/v1/site-selection/":
        return {"workload": o["workload"].pk}
    if route == "api/v1/what-if/":
        return {"site": o["site"].pk, "fail": [{"kind": "pdu", "id": o["pdu"].pk}]}
    if route.startswith("api/v1/reservations/"):
        return None
    if route in ("lists/<slug:kind_key>/bulk-edit/", "lists/<slug:kind_key>/bulk-delete/"):
        return {"selected": [object_of_kind(world, case.kind).pk]}  # the form / the impact page
    if route == "lists/<slug:kind_key>/import/":
        from planner.web.list_import import RESOURCES

        header = ",".join(RESOURCES[case.kind]().get_export_headers()) + "\n"  # no line: a clean preview
        return {"document": SimpleUploadedFile("perm.csv", header.encode())}
    if route == "reservations/<int:pk>/":
        return {"action": "install"}
    if route == "rows/<int:pk>/racks/bulk/":
        return {
            "count": 1,
            "name_prefix": "Perm-",
            "first_number": 1,
            "digits": 2,
            "first_position": 990,
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
        }
    if route == "racks/<int:pk>/clone/":
        return {"name": "Perm clone", "position": 991}
    if route == f"api/v1/rows/{DRF_PK}/racks/bulk/":
        return {"count": 1, "name_prefix": "PermApi-", "first_position": 992, "max_load_kg": 1000, "empty_weight_kg": 1}
    if route == f"api/v1/racks/{DRF_PK}/clone/":
        return {"name": "Perm clone api", "position": 993}
    if route == "api/v1/sites/import/":
        return transfer.export_site(o["site"])
    if route == "sites/import/":
        document = json.dumps(transfer.export_site(o["site"])).encode()
        return {"document": SimpleUploadedFile("site.json", document), "name": "Perm web", "slug": "perm-web"}
    if route == "place/":
        return {"rack": o["rack"].pk, "model": "cpu-2u", "quantity": 1, "status": "planned"}
    if route in ("workloads/new/", "workloads/<int:pk>/edit/"):
        name = "Perm copy workload" if route == "workloads/new/" else "Perm edit"
        return {
            "name": name,
            "kind": "inference",
            "model": o["workload"].model_id,
            "quantity": 1,
            "reference_workload": "llama2-70b",
            "scenario": "server",
            "growth_pct_per_quarter": 0,
        }
    if route == "nodes/<int:pk>/edit/":
        return {"rack": o["rack"].pk, "u_position": 10, "name": "Perm edit", "status": "planned"}
    if route in ("nodes/<int:pk>/delete/", "<slug:kind_key>/<int:pk>/delete/"):
        return {"confirm": "true"}
    if route == "<slug:kind_key>/new/":
        return form_copy_data(case.kind, object_of_kind(world, case.kind), tweak=COPY_TWEAKS)
    if route == "<slug:kind_key>/<int:pk>/edit/":
        return form_copy_data(case.kind, object_of_kind(world, case.kind), tweak={"name": "Perm edit"})
    if route.startswith("api/v1/"):
        obj = case_object(world, case)
        if case.method == "PATCH":
            return patch_body(obj)
        if obj is None:  # create: a copy of the resource's world object
            prefix = route.split("/")[2]
            obj = world["objects"][API_RESOURCES_ALL[prefix]]
        return api_copy_body(obj)
    raise AssertionError(f"{case}: no request body defined in {__name__}.request_body")


# --- Sending and judging ---------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def send(world: dict, role: str, case: Case, path: str, body):
    user = world["users"].get(role)
    if case.api and case.route != "api/v1/auth/token/":
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {world['tokens'][role]}")
        call = getattr(client, case.method.lower())
        return call(path, body, format="json") if body is not None else call(path)
    client = APIClient() if case.api else Client()
    if user is not None:
        client.force_login(user)
    call = getattr(client, case.method.lower())
    if case.api and body is not None:  # the API takes JSON bodies only (the token endpoint too)
        return call(path, body, format="json")
    return call(path, body) if body is not None else call(path)


def judge(role: str, case: Case, response, counts_changed: bool | None) -> str | None:
    """None when the answer is right for the role, else why not."""
    status = response.status_code
    location = response.get("Location", "") if 300 <= status < 400 else ""
    to_login = location.startswith((LOGIN_URL, ADMIN_LOGIN_URL))
    if role in ALLOWED[case.cls]:
        if status >= 400 or (to_login and case.cls != PUBLIC):
            detail = getattr(response, "data", None) or response.content[:300]
            return f"allowed ({case.cls}) but answered {status} {location} {detail!r}"
        return None
    if case.cls == STAFF:
        ok = status == 302 and location.startswith(ADMIN_LOGIN_URL)
        expected = f"302 to {ADMIN_LOGIN_URL}"
    elif role == "anonymous":
        ok = status in (401, 403) if case.api else status == 302 and location.startswith(LOGIN_URL)
        expected = "401/403" if case.api else f"302 to {LOGIN_URL}"
    else:
        ok, expected = status == 403, "403"
    problems = []
    if not ok:
        problems.append(f"denied ({case.cls}): expected {expected}, got {status} {location}")
    if counts_changed:
        problems.append("denied but rows were written")
    return "; ".join(problems) or None


def run_cases(world: dict, role: str, cases: list[Case]) -> list[str]:
    failures = []
    patterns = classified_patterns()
    for case in cases:
        path = build_path(world, case)
        match = resolve(path.split("?")[0])
        if match.func is not patterns[case.route].callback:
            failures.append(f"{case}: {path} resolves to {match.view_name}, not the classified pattern")
            continue
        denied_write = role not in ALLOWED[case.cls] and case.method not in SAFE_METHODS
        try:
            with transaction.atomic():
                body = request_body(world, case)
                before = row_counts() if denied_write else None
                response = send(world, role, case, path, body)
                changed = (row_counts() != before) if denied_write else None
                problem = judge(role, case, response, changed)
                raise _Rollback
        except _Rollback:
            pass
        except Exception as exc:  # a 500: the view raised
            problem = f"raised {type(exc).__name__}: {exc}"
        if problem:
            failures.append(f"{role:<11} {case} ({path}): {problem}")
    return failures


# --- The tests -------------------------------------------------------------------------------------------


def test_every_url_pattern_is_classified():
    found = resolver_patterns()
    routes = [route for route, _p, ns in found if skip_reason(route, ns) is None]
    unclassified = sorted(set(routes) - set(ENDPOINTS))
    assert not unclassified, (
        "URL pattern(s) without a permission class. Add each to ENDPOINTS in tests/security/test_permissions.py "
        "with the class of every HTTP method it answers (public, read, question, write, superuser, staff), or "
        "to SKIPPED with a reason:\n  " + "\n  ".join(repr(r) for r in unclassified)
    )
    stale = sorted(set(ENDPOINTS) - set(routes))
    assert not stale, "ENDPOINTS classifies routes the URL conf no longer has:\n  " + "\n  ".join(stale)
    assert len(routes) == len(set(routes)), "two URL patterns share a route string"
    for name, matches, _reason in SKIPPED:
        assert any(matches(route, ns) for route, _p, ns in found), f"skip rule {name!r} matches nothing: remove it"


def test_drf_views_classify_exactly_the_methods_they_answer():
    """A method added to an API view (a new action, PUT on a question) must be classified too."""
    problems = []
    for route, pattern in classified_patterns().items():
        answered = drf_methods(pattern.callback)
        if answered is None:
            continue
        classified = {key.split(":")[0] for key in ENDPOINTS[route].methods}
        if answered != classified:
            problems.append(f"/{route}: view answers {sorted(answered)}, ENDPOINTS classifies {sorted(classified)}")
    assert not problems, "\n".join(problems)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Seven users a test: the default PBKDF2 hasher alone would take seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def role_users(facilities_user, procurement_user, admin_user) -> dict[str, User]:
    no_role = User.objects.create_user("perm-norole", password="perm-norole-pass-123")
    return {"no_role": no_role, "procurement": procurement_user, "facilities": facilities_user, "admin": admin_user}


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("role", ROLES)
def test_role_gets_what_its_class_allows(role, area, role_users):
    world = build_world(role_users)
    cases = [c for c in all_cases() if c.area == area]
    assert cases
    failures = run_cases(world, role, cases)
    assert not failures, f"{len(failures)} of {len(cases)} requests answered wrongly:\n" + "\n".join(failures)


def test_every_area_is_tested():
    assert {c.area for c in all_cases()} == set(AREAS)


def _client(world, role: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world['tokens'][role]}")
    return client


def test_denied_writes_are_really_refused_by_permission(role_users):
    """The bodies are valid: the same POST that procurement is refused creates the site for facilities."""
    world = build_world(role_users)
    body = api_copy_body(world["objects"]["site"])
    before = row_counts()
    assert _client(world, "procurement").post("/api/v1/sites/", body, format="json").status_code == 403
    assert row_counts() == before
    created = _client(world, "facilities").post("/api/v1/sites/", body, format="json")
    assert created.status_code == 201, created.data
    assert row_counts()["racks.Site"] == before["racks.Site"] + 1


def test_procurement_feasibility_commit_writes_nothing(role_users):
    world = build_world(role_users)
    body = {"site": world["objects"]["site"].pk, "model": "cpu-2u", "quantity": 2, "commit": True}
    before = row_counts()
    assert _client(world, "procurement").post("/api/v1/feasibility/", body, format="json").status_code == 403
    assert row_counts() == before
    committed = _client(world, "facilities").post("/api/v1/feasibility/", body, format="json")
    assert committed.status_code == 200, committed.data
    assert len(committed.data["committed_node_ids"]) == 2
    assert row_counts()["racks.Node"] == before["racks.Node"] + 2


def test_docs_pages_refuse_options_instead_of_failing(role_users):
    """OPTIONS on the Swagger page rendered its template without context (a 500): the pages answer GET only."""
    client = Client()
    client.force_login(role_users["facilities"])
    for path in ("/api/v1/docs/", "/api/v1/redoc/"):
        assert client.options(path).status_code == 405, path
        assert client.get(path).status_code == 200, path
    assert client.get("/api/v1/schema/").status_code == 200


@override_settings(WHITENOISE_USE_FINDERS=True)
def test_static_files_are_public():
    """Static files (CSS, JS, vendored Plotly) are served by WhiteNoise outside the URL conf, to anyone."""
    response = Client().get("/static/css/planner.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")


def test_number_of_cases():
    """Every role requests every case: report the size of the matrix (and keep it from shrinking unnoticed)."""
    cases = all_cases()
    assert len(cases) * len(ROLES) >= 5 * 100, len(cases)
