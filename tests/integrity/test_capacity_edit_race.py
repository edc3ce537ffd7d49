"""A capacity edit that has to wait for a lock never leaves a cached budget behind it (issue 12, point 1).

A second connection holds row locks as a running placement would (``services._lock_budgets``). The edit of
the UPS's capacity through the API then blocks; meanwhile checks read (and cache) the site in this process,
in another thread, and in a gunicorn process. When the lock is released and the edit has answered, every
check everywhere sees the new capacity, and a placement past it answers 409.

Two lock sets: the UPS row alone, which freezes a non-atomic edit exactly between its committed token
renewal and its capacity write (the interleaving that cached the new token with the old capacity), and
everything a placement locks (site row first), which makes even that edit wait before its token renewal.
Both must end with every reader on the new capacity.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from planner import selectors, services
from racks.models import Node, NodeModel
from tests import factories as f
from tests.integrity.servers import Server, pg_connect
from tests.security.conftest import powered_site

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

OLD_KW, NEW_KW = 30.0, 25.0  # UPS capacity before and after the edit
PLACED = 3  # DGX A100 (6.5 kW each) already behind the UPS: 19.5 kW; one more is 26 kW: fits 30, not 25
WAIT_S = 30


@pytest.fixture
def server():
    srv = Server(threads=4)
    yield srv
    srv.stop()


def _site():
    built = powered_site(racks=2, air_kw_per_rack_limit=100.0)
    ups = built["ups"]
    ups.capacity_kw = OLD_KW
    ups.save()
    a100 = NodeModel.objects.get(slug="dgx-a100")
    for i in range(PLACED):
        f.NodeFactory(rack=built["racks"][0], model=a100, u_position=1 + 6 * i)
    return built, a100


def _in_thread(fn):
    """Run ``fn`` in a new thread (its own database connection) and return what it returned or raised."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        except Exception as exc:  # the caller asserts on it
            out["error"] = exc
        finally:
            connection.close()

    t = threading.Thread(target=run)
    t.start()
    t.join(timeout=60)
    assert not t.is_alive(), "a reader blocked behind the held locks"
    if "error" in out:
        raise out["error"]
    return out["value"]


def _in_process_view(rack_id: int, model_id: int) -> tuple[float, bool, set[str]]:
    """(UPS capacity the cached context holds, check ok, failing codes), through this process's budget cache."""
    ctx = selectors.rack_context(rack_id)
    ups_kw = min(s.capacity_kw for s in ctx.sources)
    _ctx, _model, result = services.check_placement(rack_id=rack_id, model_id=model_id)
    return ups_kw, result.ok, {c.code for c in result.checks if c.status == "fail"}


def _http_view(server: Server, token: str, rack_id: int) -> tuple[float, bool, set[str]]:
    status, body = server.request(
        "POST", "/api/v1/placements/check/", {"rack": rack_id, "model": "dgx-a100"}, token=token
    )
    assert status == 200, (status, body, server.log_tail())
    upstream = next(c for c in body["checks"] if c["code"] == "POWER_UPSTREAM")
    return upstream["limit"], body["ok"], {c["code"] for c in body["checks"] if c["status"] == "fail"}


def _hold_locks(holder, lock_set: str, built) -> None:
    site, ups, racks = built["site"], built["ups"], built["racks"]
    cur = holder.cursor()
    if lock_set == "placement":  # services._lock_budgets: site, sources, loops, racks, PDUs, each by id
        cur.execute("SELECT id FROM racks_site WHERE id = %s FOR UPDATE", (site.id,))
        cur.execute("SELECT id FROM racks_powersource WHERE site_id = %s ORDER BY id FOR UPDATE", (site.id,))
        cur.execute("SELECT id FROM cooling_coolingloop WHERE site_id = %s ORDER BY id FOR UPDATE", (site.id,))
        ids = [r.id for r in racks]
        cur.execute("SELECT id FROM racks_rack WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (ids,))
        cur.execute("SELECT id FROM racks_pdu WHERE rack_id = ANY(%s) ORDER BY id FOR UPDATE", (ids,))
    else:
        cur.execute("SELECT id FROM racks_powersource WHERE id = %s FOR UPDATE", (ups.id,))


def _wait_until_blocked(holder, patch_thread: threading.Thread) -> None:
    """Until a backend waits for a lock the holder has (the edit), bounded in time. Polled from a connection of
    its own in autocommit: within a transaction the statistics views keep their first snapshot."""
    holder_pid = holder.info.backend_pid
    deadline = time.monotonic() + WAIT_S
    with pg_connect(autocommit=True) as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (holder_pid,)
            ).fetchone()[0]
            if waiting:
                return
            assert patch_thread.is_alive(), "the edit answered although the row it writes was locked"
            time.sleep(0.05)
    pytest.fail(f"the capacity edit did not wait for the held lock within {WAIT_S} s")


@pytest.mark.parametrize("lock_set", ["source", "placement"])
def test_every_check_sees_a_capacity_edit_that_waited_for_a_lock(lock_set, server, facilities_user):
    built, a100 = _site()
    ups, empty_rack = built["ups"], built["racks"][1]
    token = Token.objects.create(user=facilities_user).key
    selectors.budget_cache.clear()

    # Clean case first: one more DGX A100 fits under the old capacity, everywhere.
    assert _in_process_view(empty_rack.id, a100.id) == (OLD_KW, True, set())
    assert _http_view(server, token, empty_rack.id) == (OLD_KW, True, set())

    holder = pg_connect()  # a transaction opens with the first statement
    answer = {}

    def patch():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            response = client.patch(f"/api/v1/power-sources/{ups.id}/", {"capacity_kw": NEW_KW}, format="json")
            answer["status"], answer["body"] = response.status_code, response.json()
        finally:
            connection.close()

    try:
        _hold_locks(holder, lock_set, built)
        writer = threading.Thread(target=patch)
        writer.start()
        _wait_until_blocked(holder, writer)
        # While the edit waits, readers read and cache the site: here, in another thread, in another process.
        during = [
            _in_process_view(empty_rack.id, a100.id),
            _in_thread(lambda: _in_process_view(empty_rack.id, a100.id)),
            _http_view(server, token, empty_rack.id),
        ]
        assert all(seen == (OLD_KW, True, set()) for seen in during), during  # not committed yet: old figures
        assert writer.is_alive()
    finally:
        holder.rollback()
        holder.close()
    writer.join(timeout=WAIT_S)
    assert not writer.is_alive(), "the edit did not finish after the lock was released"
    assert answer["status"] == 200, answer
    assert answer["body"]["capacity_kw"] == NEW_KW

    # Once the edit has answered, every check everywhere sees it.
    after = {
        "this thread": _in_process_view(empty_rack.id, a100.id),
        "another thread": _in_thread(lambda: _in_process_view(empty_rack.id, a100.id)),
        "gunicorn": _http_view(server, token, empty_rack.id),
    }
    for where, (ups_kw, ok, failing) in after.items():
        assert ups_kw == NEW_KW, (where, after)
        assert not ok and "POWER_UPSTREAM" in failing, (where, after)

    # And a placement past it is refused, in this process and in the server process; nothing is written.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    body = {"rack": empty_rack.id, "model": "dgx-a100"}
    response = client.post("/api/v1/nodes/", body, format="json")
    assert response.status_code == 409, response.json()
    status, answer_body = server.request("POST", "/api/v1/nodes/", body, token=token)
    assert status == 409, answer_body
    assert "POWER_UPSTREAM" in {c["code"] for c in answer_body["checks"] if c["status"] == "fail"}
    assert Node.objects.filter(rack__row__room__site=built["site"]).count() == PLACED
