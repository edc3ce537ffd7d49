"""Concurrent placements over real HTTP: 24 clients released together by a barrier race for a site budget that
holds exactly five nodes. Exactly five win (201), every loser answers 409 naming the rule that binds, nothing
answers 5xx, and the final state passes every rule when checked afresh."""

import http.client
import itertools
import json
import threading
from urllib.parse import urlsplit

import pytest
from rest_framework.authtoken.models import Token

from planner import engine, selectors
from racks.models import Node, NodeModel, Rack
from tests.security.conftest import powered_site

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENTS = 24
RACKS = 4
FITS = 5  # the site budget below holds five DGX A100 (6.5 kW each) and not six


def _post_all(base_url: str, token: str, bodies: list[dict]) -> list[tuple[int, dict | str]]:
    """POST each body to /api/v1/nodes/ from its own thread and connection, all released at once."""
    parts = urlsplit(base_url)
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, dict | str] | None] = [None] * len(bodies)

    def client(i: int, body: dict) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            conn.connect()
            payload = json.dumps(body)
            headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
            barrier.wait(timeout=30)
            conn.request("POST", "/api/v1/nodes/", body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read().decode()
            try:
                results[i] = (response.status, json.loads(raw))
            except ValueError:
                results[i] = (response.status, raw[:500])
        except Exception as exc:  # a dropped connection is a failure the test must show
            results[i] = (-1, f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i, body)) for i, body in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_simultaneous_node_posts_never_exceed_the_site_budget(live_server, facilities_user):
    # Only the site feed binds: 33 kW holds 5 x 6.5 = 32.5 kW. Each rack alone could take five (36.2 kW per
    # side, 100 kW air per rack, 7 x 6U of space), and the room's CRAH has 200 kW.
    built = powered_site(racks=RACKS, utility_capacity_kw=33.0, air_kw_per_rack_limit=100.0)
    site, racks = built["site"], built["racks"]
    model = NodeModel.objects.get(slug="dgx-a100")
    token = Token.objects.create(user=facilities_user).key
    bodies = [{"rack": racks[i % RACKS].id, "model": model.slug} for i in range(CLIENTS)]

    results = _post_all(live_server.url, token, bodies)

    statuses = [status for status, _ in results]
    assert not [r for r in results if r[0] >= 500 or r[0] < 0], results
    assert statuses.count(201) == FITS, results
    assert statuses.count(409) == CLIENTS - FITS, results
    for status, body in results:
        if status == 409:
            failing = {c["code"] for c in body["checks"] if c["status"] == "fail"}
            assert "POWER_SITE" in failing, body
            assert "POWER_SITE" in body["detail"]

    nodes = Node.objects.filter(rack__row__room__site=site)
    assert nodes.count() == FITS
    assert sum(n.model.max_power_kw for n in nodes.select_related("model")) <= site.utility_capacity_kw
    for rack in Rack.objects.filter(row__room__site=site):
        result = engine.check_rack(selectors.rack_context(rack.id))
        bad = [(c.code, c.status, c.message) for c in result.checks if c.status not in ("ok", "warn")]
        assert not bad, (rack.name, bad)


def test_simultaneous_posts_to_one_rack_keep_its_power_and_space(live_server, facilities_user):
    # One rack, no site limit: 36.2 kW per side holds five DGX A100 (32.5 kW), not six (39 kW).
    built = powered_site(racks=1, air_kw_per_rack_limit=100.0)
    rack = built["racks"][0]
    token = Token.objects.create(user=facilities_user).key
    results = _post_all(live_server.url, token, [{"rack": rack.id, "model": "dgx-a100"}] * 20)

    statuses = [status for status, _ in results]
    assert not [r for r in results if r[0] >= 500 or r[0] < 0], results
    assert statuses.count(201) == FITS, results
    assert statuses.count(409) == 20 - FITS, results
    for status, body in results:
        if status == 409:
            assert "POWER_RACK" in {c["code"] for c in body["checks"] if c["status"] == "fail"}, body
    placed = list(Node.objects.filter(rack=rack).select_related("model").order_by("u_position"))
    assert len(placed) == FITS
    spans = [(n.u_position, n.u_position + n.model.u_height - 1) for n in placed]
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans)), spans  # no two overlap
    assert len({n.name for n in placed}) == FITS
    result = engine.check_rack(selectors.rack_context(rack.id))
    assert all(c.status in ("ok", "warn") for c in result.checks), result.checks
