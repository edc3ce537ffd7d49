"""Bounded stress: 40 capacity edits of a UPS race placements behind it on two gunicorn processes, and an
independent SQL audit finds no budget exceeded (issue 12, point 1).

The edits keep the UPS capacity just above its load: alternately 9 kW above (one more DGX A100, 6.5 kW,
fits) and 3 kW above (none does). Meanwhile clients place nodes and ask checks (which fill each server's
budget cache) on both servers, several threads each. A stale cached capacity shows as a placement accepted
past the capacity in force when it committed.

The audit is plain SQL over the audit-history tables, not the engine: a capacity edit may legitimately
lower the UPS below its load, so "load <= capacity" is checked at every node creation, against the capacity
in force then. Both kinds of write take the site row lock before writing their history row
(``services._lock_budgets``; the token renewal of the edit), so the history timestamps order them as they
committed. The end state is audited as well: every rack side's PDUs carry their rack, every source its
racks, the room's air units its heat, and the UPS its load (the last edit follows a window in which nothing
fits, so it reads the final load).
"""

from __future__ import annotations

import itertools
import random
import threading
import time

import pytest
from rest_framework.authtoken.models import Token

from tests.integrity.servers import Server, pg_connect
from tests.security.conftest import powered_site

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

EDITS = 40
RACKS = 12
PLACERS_PER_SERVER = 3
CHECKERS_PER_SERVER = 2
MAX_ATTEMPTS = 400  # placements in all
DEADLINE_S = 240
NODE_KW = 6.5  # dgx-a100
EPS_KW = 1e-6


@pytest.fixture
def servers():
    started = []
    try:
        for _ in range(2):
            started.append(Server(threads=4))
        yield started
    finally:
        for srv in started:
            srv.stop()


def _load_kw(cur, site_id: int) -> float:
    cur.execute(
        """
        SELECT coalesce(sum(m.max_power_kw), 0) FROM racks_node n
        JOIN racks_nodemodel m ON m.id = n.model_id JOIN racks_rack r ON r.id = n.rack_id
        JOIN racks_row w ON w.id = r.row_id JOIN racks_room o ON o.id = w.room_id WHERE o.site_id = %s
        """,
        (site_id,),
    )
    return float(cur.fetchone()[0])


REPLAY = """
WITH events AS (
    SELECT h.history_date AS at, h.history_id AS seq, 'node' AS kind, m.max_power_kw AS kw, NULL::float AS cap
    FROM racks_historicalnode h JOIN racks_nodemodel m ON m.id = h.model_id
    WHERE h.history_type = '+' AND h.rack_id = ANY(%(racks)s)
  UNION ALL
    SELECT h.history_date, h.history_id, 'capacity', 0, h.capacity_kw
    FROM racks_historicalpowersource h WHERE h.id = %(ups)s AND h.history_type IN ('+', '~')
), ordered AS (
    SELECT *, sum(kw) OVER w AS load_kw,
           count(cap) OVER w AS n_caps
    FROM events WINDOW w AS (ORDER BY at, kind DESC, seq ROWS UNBOUNDED PRECEDING)
), in_force AS (
    SELECT *, first_value(cap) OVER (PARTITION BY n_caps ORDER BY at, kind DESC, seq) AS cap_kw FROM ordered
)
SELECT at, load_kw, cap_kw FROM in_force WHERE kind = 'node' AND load_kw > cap_kw + %(eps)s ORDER BY at
"""

END_STATE = {
    # Each rack side's PDUs carry the whole rack (usable kW as the README defines it).
    "rack side": """
        WITH load AS (
            SELECT n.rack_id, sum(m.max_power_kw) AS kw FROM racks_node n
            JOIN racks_nodemodel m ON m.id = n.model_id WHERE n.rack_id = ANY(%(racks)s) GROUP BY n.rack_id
        ), side AS (
            SELECT p.rack_id, p.side, sum(p.voltage_v * p.current_a * CASE WHEN p.phases = 3 THEN sqrt(3) ELSE 1 END
                                        * s.power_derating * p.power_factor / 1000) AS kw
            FROM racks_pdu p JOIN racks_rack r ON r.id = p.rack_id JOIN racks_row w ON w.id = r.row_id
            JOIN racks_room o ON o.id = w.room_id JOIN racks_site s ON s.id = o.site_id
            WHERE p.rack_id = ANY(%(racks)s) GROUP BY p.rack_id, p.side
        )
        SELECT load.rack_id, side.side, load.kw, side.kw FROM load JOIN side USING (rack_id)
        WHERE load.kw > side.kw + %(eps)s
    """,
    # Every source carries every rack fed through it (the PDUs' sources and their parents).
    "power source": """
        WITH RECURSIVE chain(rack_id, source_id) AS (
            SELECT DISTINCT p.rack_id, p.source_id FROM racks_pdu p
            WHERE p.rack_id = ANY(%(racks)s) AND p.source_id IS NOT NULL
          UNION
            SELECT c.rack_id, s.parent_id FROM chain c JOIN racks_powersource s ON s.id = c.source_id
            WHERE s.parent_id IS NOT NULL
        ), load AS (
            SELECT n.rack_id, sum(m.max_power_kw) AS kw FROM racks_node n
            JOIN racks_nodemodel m ON m.id = n.model_id GROUP BY n.rack_id
        )
        SELECT s.id, s.name, sum(load.kw), s.capacity_kw FROM chain
        JOIN load USING (rack_id) JOIN racks_powersource s ON s.id = chain.source_id
        GROUP BY s.id, s.name, s.capacity_kw HAVING sum(load.kw) > s.capacity_kw + %(eps)s
    """,
    # The room's air units carry the room's air heat (air-cooled nodes: all of their power).
    "room air": """
        SELECT o.id, sum(m.max_power_kw * (1 - m.liquid_fraction)),
               (SELECT sum(l.unit_capacity_kw * (l.units - l.redundant_units)) FROM cooling_coolingloop l
                WHERE l.room_id = o.id AND l.kind = 'crah')
        FROM racks_node n JOIN racks_nodemodel m ON m.id = n.model_id JOIN racks_rack r ON r.id = n.rack_id
        JOIN racks_row w ON w.id = r.row_id JOIN racks_room o ON o.id = w.room_id
        WHERE r.id = ANY(%(racks)s) GROUP BY o.id
        HAVING sum(m.max_power_kw * (1 - m.liquid_fraction)) > (SELECT sum(l.unit_capacity_kw *
               (l.units - l.redundant_units)) FROM cooling_coolingloop l WHERE l.room_id = o.id
               AND l.kind = 'crah') + %(eps)s
    """,
}


def test_capacity_edits_racing_placements_on_two_servers_never_overcommit(servers, facilities_user):
    built = powered_site(racks=RACKS, air_kw_per_rack_limit=100.0)
    site, ups, racks = built["site"], built["ups"], built["racks"]
    built["loop"].unit_capacity_kw = 200.0  # 400 kW of air: only the UPS ever binds
    built["loop"].save()
    rack_ids = [r.id for r in racks]
    token = Token.objects.create(user=facilities_user).key
    deadline = time.monotonic() + DEADLINE_S
    stop = threading.Event()
    lock = threading.Lock()
    attempts: list[tuple[int, object]] = []
    problems: list[tuple] = []

    # Placements go round the racks so that no rack fills up (its own PDUs or U space would then refuse it and
    # hide what this test is about: the UPS, the only shared budget that binds here).
    turn = itertools.count()

    def placer(server: Server, seed: int) -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            with lock:
                if len(attempts) >= MAX_ATTEMPTS:
                    return
            try:
                status, body = server.request(
                    "POST", "/api/v1/nodes/", {"rack": rack_ids[next(turn) % RACKS], "model": "dgx-a100"}, token=token
                )
            except OSError as exc:
                status, body = -1, repr(exc)
            with lock:
                attempts.append((status, body))
                if status not in (201, 409):
                    problems.append(("placement", status, body))

    def checker(server: Server, seed: int) -> None:
        rnd = random.Random(seed)
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                body = {"rack": rnd.choice(rack_ids), "model": "dgx-a100"}
                status, body = server.request("POST", "/api/v1/placements/check/", body, token=token)
            except OSError as exc:
                status, body = -1, repr(exc)
            if status != 200:
                with lock:
                    problems.append(("check", status, body))

    threads = [
        threading.Thread(target=fn, args=(srv, 1000 * i + j))
        for i, srv in enumerate(servers)
        for fn, n in ((placer, PLACERS_PER_SERVER), (checker, CHECKERS_PER_SERVER))
        for j in range(n)
    ]
    edits = []
    with pg_connect(autocommit=True) as audit:
        cur = audit.cursor()
        for t in threads:
            t.start()
        try:
            for i in range(EDITS):
                if time.monotonic() > deadline:
                    break
                capacity = round(_load_kw(cur, site.id) + (9.0 if i % 2 else 3.0), 3)
                status, _ = servers[i % 2].request(
                    "PATCH", f"/api/v1/power-sources/{ups.id}/", {"capacity_kw": capacity}, token=token
                )
                edits.append((status, capacity))
                # Let placements race this capacity: until a few more attempts were made (bounded wait).
                with lock:
                    seen = len(attempts)
                until = time.monotonic() + 5
                while time.monotonic() < until and not stop.is_set():
                    with lock:
                        if len(attempts) >= min(seen + 4, MAX_ATTEMPTS):
                            break
                    time.sleep(0.01)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=90)
        assert not any(t.is_alive() for t in threads), "a client did not stop"

        assert len(edits) == EDITS and all(status == 200 for status, _ in edits), edits
        assert not problems, problems[:5]
        placed = sum(1 for status, _ in attempts if status == 201)
        refused = [body for status, body in attempts if status == 409]
        assert placed >= 5 and refused, (placed, len(refused))  # the race really ran both ways
        other = [
            b
            for b in refused
            # refused for the UPS being raced, or because the rack itself is full (its PDUs, floor or space):
            # both right; any other reason is not
            if not {c["code"] for c in b.get("checks", ()) if c["status"] == "fail"}
            & {"POWER_UPSTREAM", "POWER_RACK", "FLOOR_UNIFORM", "FLOOR_POINT", "SPACE", "RACK_LOAD"}
        ]
        assert not other, [[(c["code"], c["message"]) for c in b["checks"] if c["status"] == "fail"] for b in other[:3]]

        params = {"racks": rack_ids, "ups": ups.id, "eps": EPS_KW}
        cur.execute(REPLAY, params)
        over = cur.fetchall()
        assert not over, f"placements accepted past the UPS capacity in force: {over[:5]}"
        for name, sql in END_STATE.items():
            cur.execute(sql, params)
            rows = cur.fetchall()
            assert not rows, (name, rows)
        cur.execute("SELECT capacity_kw FROM racks_powersource WHERE id = %s", (ups.id,))
        final_capacity_kw = cur.fetchone()[0]
        final_load_kw = _load_kw(cur, site.id)
        assert final_load_kw <= final_capacity_kw + EPS_KW, (final_load_kw, final_capacity_kw)
        assert final_load_kw == pytest.approx(placed * NODE_KW)
        print(
            f"\n{len(edits)} edits, {len(attempts)} placements: {placed} placed, {len(refused)} refused (409); "
            f"UPS {final_load_kw:.1f} kW on {final_capacity_kw:.1f} kW"
        )
