"""Schemathesis against the served OpenAPI schema: every operation, bounded and reproducible.

The schema is the one ``/api/v1/schema/`` serves (generated in-process: serving it needs a role), the calls go
through the WSGI application (no server, the test database),
each operation gets up to 25 generated requests (valid and invalid), sent with a facilities token against a
small factory site. Checks: no 5xx, every answer conforms to the documented response schema (the question
answers are typed, so this can fail), and every status code answered is one the operation documents.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig

from planner.wsgi import application
from racks.models import NodeModel
from tests import factories as f
from tests.security.conftest import powered_site

MAX_EXAMPLES = 25

CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
        "phases": {"coverage": {"enabled": os.environ.get("FUZZ_COVERAGE", "0") == "1"}},
    }
)


def served_schema() -> dict:
    """What ``/api/v1/schema/`` serves to a reader. It needs a planner role, and no user exists at import time,
    so it is generated here by the same generator and renderer instead of fetched."""
    import json

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(served_schema(), config=CONFIG)
schema.app = application

# Ids of the objects the fixture made, by resource; generated ids are mapped onto them (see the hook).
KNOWN: dict[str, int] = {}


@schema.hook
def map_path_parameters(context, path_parameters):
    """Three of four generated integer ids become an existing object's, so detail, update, delete, history,
    headroom, retrofits and export run on real rows; the rest stay random (404)."""
    if not path_parameters:
        return path_parameters
    resource = context.operation.path.split("/")[3]
    value = path_parameters.get("id")
    if resource in KNOWN and isinstance(value, int) and value % 4:
        path_parameters["id"] = KNOWN[resource]
    return path_parameters


@pytest.fixture
def _keep_test_connection():
    """schemathesis calls the WSGI app directly, not through Django's test client, so request_finished would
    close the test's database connection (and its transaction) after each call; the test client disconnects
    the same handler for the same reason."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, facilities_user, _keep_test_connection) -> str:
    """A facilities token, and a small site for the generated requests to find."""
    built = powered_site(racks=2, utility_capacity_kw=500.0)
    rack = built["racks"][0]
    node = f.NodeFactory(rack=rack, model=NodeModel.objects.get(slug="cpu-2u"), u_position=1)
    KNOWN.update(
        {
            "sites": built["site"].id,
            "rooms": built["room"].id,
            "rows": built["row"].id,
            "racks": rack.id,
            "power-sources": built["ups"].id,
            "pdus": rack.pdus.first().id,
            "cooling-loops": built["loop"].id,
            "node-models": node.model_id,
            "nodes": node.id,
        }
    )
    return Token.objects.create(user=facilities_user).key


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_errors_and_conforms(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        checks=[
            schemathesis.checks.not_a_server_error,
            schemathesis.checks.response_schema_conformance,
            schemathesis.checks.status_code_conformance,
            schemathesis.checks.content_type_conformance,
        ],
    )
