"""Two writes that together would wire across sites, racing on PostgreSQL: the second waits for the first and
then refuses (the write-time guard locks the sites involved before it checks; see racks.models)."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from racks.models import Pdu, PowerSource, Rack
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def _race(first, second) -> dict:
    """Run ``first`` in a transaction and hold it open; start ``second``; once it waits on a lock, commit the
    first. Returns each one's outcome ("ok" or its ValidationError's messages)."""
    holding, release, outcomes = threading.Event(), threading.Event(), {}

    def run(name, write, hold):
        try:
            with transaction.atomic():
                write()
                if hold:
                    holding.set()
                    release.wait(timeout=20)
            outcomes[name] = "ok"
        except ValidationError as exc:
            outcomes[name] = exc.message_dict
        except Exception as exc:  # anything else is a bug the test must show
            outcomes[name] = f"error: {type(exc).__name__}: {exc}"
        finally:
            holding.set()
            connections.close_all()

    one = threading.Thread(target=run, args=("first", first, True))
    one.start()
    assert holding.wait(timeout=20)
    two = threading.Thread(target=run, args=("second", second, False))
    two.start()
    for _ in range(200):  # bounded: 10 s at most
        if _waiting_on_a_lock() or not two.is_alive():
            break
        time.sleep(0.05)
    waited = two.is_alive()
    release.set()
    one.join(timeout=30)
    two.join(timeout=30)
    outcomes["second waited"] = waited
    return outcomes


def _world() -> dict:
    alpha, beta = f.SiteFactory(name="Alpha", slug="alpha"), f.SiteFactory(name="Beta", slug="beta")
    rack = f.RackFactory(row__room__site=alpha, name="R-A1")
    beta_row = f.RowFactory(room__site=beta, name="Row B1")
    pdu = f.PduFactory(rack=rack, name="PDU-A1", source=None)
    spare = f.PowerSourceFactory(site=alpha, name="Spare-A")
    return {"alpha": alpha, "beta": beta, "rack": rack, "beta_row": beta_row, "pdu": pdu, "spare": spare}


def _set(model, pk, **fields):
    obj = model.objects.get(pk=pk)
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()


def test_source_move_racing_a_pdu_wired_to_it_is_refused():
    w = _world()
    pdu, spare = w["pdu"], w["spare"]
    outcomes = _race(
        lambda: _set(Pdu, pdu.pk, source_id=spare.pk), lambda: _set(PowerSource, spare.pk, site_id=w["beta"].pk)
    )
    assert outcomes["first"] == "ok" and outcomes["second waited"], outcomes
    assert isinstance(outcomes["second"], dict), f"the second write was not refused: {outcomes}"
    assert 'PDU "PDU-A1" of rack "R-A1" (site "Alpha")' in outcomes["second"]["site"][0], outcomes
    assert PowerSource.objects.get(pk=spare.pk).site_id == w["alpha"].pk
    assert Pdu.objects.get(pk=pdu.pk).source_id == spare.pk


def test_pdu_wired_while_its_rack_moves_away_is_refused():
    w = _world()
    rack, beta_row, pdu = w["rack"], w["beta_row"], w["pdu"]
    outcomes = _race(
        lambda: _set(Rack, rack.pk, row_id=beta_row.pk), lambda: _set(Pdu, pdu.pk, source_id=w["spare"].pk)
    )
    assert outcomes["first"] == "ok" and outcomes["second waited"], outcomes
    assert isinstance(outcomes["second"], dict), f"the second write was not refused: {outcomes}"
    assert 'but rack "R-A1" is in site "Beta"' in outcomes["second"]["source"][0], outcomes
    assert Pdu.objects.get(pk=pdu.pk).source_id is None
    assert Rack.objects.get(pk=rack.pk).row_id == beta_row.pk
