"""Concurrent placements racing for the last headroom: exactly one wins, on PostgreSQL row locks."""

import threading

import pytest
from django.db import connection, connections

from planner import services
from racks.models import Node, NodeModel
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(n_clients: int, target):
    barrier = threading.Barrier(n_clients)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait(timeout=10)
            target()
            outcome = "ok"
        except services.PlacementRejected as exc:
            outcome = "rejected:" + ",".join(c.code for c in exc.result.checks if c.status == "fail")
        except Exception as exc:  # anything else is a bug the test must show
            outcome = f"error:{type(exc).__name__}:{exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_last_rack_power_headroom_goes_to_exactly_one_client():
    # One 208 V 3-phase 30 A PDU per side: 8.646 kW usable (reference §4.6). A DGX A100 budgets 6.5 kW,
    # so one fits and a second (13.0 kW) does not.
    rack = f.RackFactory(row__containment="hot_aisle")
    for side in "AB":
        f.PduFactory(rack=rack, side=side, voltage_v=208, current_a=30)
    f.CoolingLoopFactory(site=rack.row.room.site, room=rack.row.room)
    model = NodeModel.objects.get(slug="dgx-a100")
    outcomes = _race(8, lambda: services.node_create(rack_id=rack.id, model_id=model.id))
    assert outcomes.count("ok") == 1, outcomes
    assert all(o.startswith("rejected:") and "POWER_RACK" in o for o in outcomes if o != "ok"), outcomes
    assert Node.objects.filter(rack=rack).count() == 1


def test_shared_site_budget_across_racks_goes_to_exactly_one_client():
    # Utility 10 kW for the whole site: each client places a 6.5 kW DGX A100 in a different rack.
    site = f.SiteFactory(utility_capacity_kw=10.0)
    room = f.RoomFactory(site=site)
    row = f.RowFactory(room=room, containment="hot_aisle")
    f.CoolingLoopFactory(site=site, room=room)
    racks = []
    for _ in range(6):
        rack = f.RackFactory(row=row)
        for side in "AB":
            f.PduFactory(rack=rack, side=side)
        racks.append(rack)
    model = NodeModel.objects.get(slug="dgx-a100")
    it = iter(racks)
    lock = threading.Lock()

    def place():
        with lock:
            rack = next(it)
        services.node_create(rack_id=rack.id, model_id=model.id)

    outcomes = _race(len(racks), place)
    assert outcomes.count("ok") == 1, outcomes
    assert all("POWER_SITE" in o for o in outcomes if o != "ok"), outcomes
    assert Node.objects.count() == 1
    assert connection.vendor == "postgresql"
