"""An integrator's view: a client generated from the served schema with openapi-python-client (pinned in
requirements-dev.txt; it runs offline), every module of it imported, and a procurement script run with it
against a live server on the demo data: 32 x DGX B200 -- where, what binds, retrofits, TCO, a keyed
reservation and its release.

The schema is generated in-process by the same generator and renderer that serve ``/api/v1/schema/``.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from planner.models import Reservation
from racks.models import Node, Rack, Site

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "planner_client"


def _schema_json() -> str:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)).decode()


@pytest.fixture
def client_package(tmp_path, monkeypatch):
    schema = tmp_path / "schema.json"
    schema.write_text(_schema_json())
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    out = tmp_path / PACKAGE
    command = [str(bin_dir / "openapi-python-client"), "generate", "--path", str(schema), "--meta", "none"]
    generated = subprocess.run(
        [*command, "--output-path", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    # Every warning is a piece of the API the client could not express.
    assert "Warning" not in generated.stdout, generated.stdout
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(PACKAGE)
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def test_every_generated_module_imports(client_package):
    names = [m.name for m in pkgutil.walk_packages(client_package.__path__, PACKAGE + ".")]
    for name in names:
        importlib.import_module(name)
    modules = [n for n in names if ".api." in n and not n.endswith("__init__")]
    assert len(modules) > 80, modules  # every operation has its module


def test_procurement_script_with_the_generated_client(client_package, live_server, facilities_user):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    site_id = Site.objects.get(slug="demo-campus").id
    nodes_before = Node.objects.count()
    token = Token.objects.create(user=facilities_user).key

    api = importlib.import_module(f"{PACKAGE}.api")
    m = importlib.import_module(f"{PACKAGE}.models")
    feasibility = importlib.import_module(f"{PACKAGE}.api.feasibility.feasibility_create")
    retrofits = importlib.import_module(f"{PACKAGE}.api.racks.racks_retrofits_retrieve")
    headroom = importlib.import_module(f"{PACKAGE}.api.racks.racks_headroom_retrieve")
    tco = importlib.import_module(f"{PACKAGE}.api.tco.tco_create")
    release = importlib.import_module(f"{PACKAGE}.api.reservations.reservations_release_create")
    sites_list = importlib.import_module(f"{PACKAGE}.api.sites.sites_list")
    assert api is not None

    client = client_package.AuthenticatedClient(base_url=live_server.url, token=token, prefix="Token")
    with client:
        found = sites_list.sync(client=client, slug="demo-campus")
        assert [s.id for s in found.results] == [site_id]

        # Where would 32 DGX B200 go, and what binds for the rest?
        plan = feasibility.sync(
            client=client, body=m.FeasibilityRequestRequest(site=site_id, model="dgx-b200", quantity=32)
        )
        assert isinstance(plan, m.FeasibilityResponse), plan
        assert plan.requested == 32 and plan.placed == len(plan.placements) and plan.placed + plan.unplaced == 32
        assert not plan.fits_now and plan.binding.additional_properties  # the demo cannot take all 32
        first_rack = plan.placements[0].rack
        assert Rack.objects.filter(pk=first_rack, row__room__site_id=site_id).exists()

        room = headroom.sync(first_rack, client=client)
        assert isinstance(room, m.RackHeadroomResponse) and room.power.capacity_kw >= room.power.load_kw

        options = retrofits.sync(first_rack, client=client, model="dgx-b200", quantity=4)
        assert isinstance(options, m.RackRetrofitsResponse) and options.options
        assert all(isinstance(o, m.RetrofitOption) for o in options.options)

        cost = tco.sync(client=client, body=m.TcoRequestRequest(site=site_id, model="dgx-b200", quantity=32))
        assert isinstance(cost, m.TcoResponse) and {o.option for o in cost.options} >= {"on_prem", "colocation"}

        # All or nothing: the whole order does not fit, so nothing is reserved (409, the error shape).
        refused = feasibility.sync_detailed(
            client=client, body=m.FeasibilityRequestRequest(site=site_id, model="dgx-b200", quantity=32, commit=True)
        )
        assert refused.status_code == 409 and isinstance(refused.parsed, m.ApiError), refused.content
        assert Node.objects.count() == nodes_before

        # What fits, reserved with a key; the retry returns the same reservation.
        body = m.FeasibilityRequestRequest(site=site_id, model="dgx-b200", quantity=32, commit=True, partial=True)
        held = feasibility.sync(client=client, body=body, idempotency_key="po-4711")
        retry = feasibility.sync(client=client, body=body, idempotency_key="po-4711")
        assert held.reservation.id == retry.reservation.id
        assert held.reservation.quantity == plan.placed and held.reservation.status == "held"
        assert Node.objects.count() == nodes_before + plan.placed

        released = release.sync(held.reservation.id, client=client)
        assert released.status == "released"
    assert Node.objects.count() == nodes_before
    assert Reservation.objects.get().status == "released"
    assert json.loads(_schema_json())["paths"]  # the schema served the whole time
