"""Fixtures of the security tests: a clean cache per test (throttle counters live there), row counts of every
table (to prove a refused request wrote nothing), and a small powered and cooled site."""

import contextlib

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import OperationalError

from tests import factories as f


@pytest.fixture(autouse=True)
def _clean_cache(request):
    # The cache is the database's (or Redis) unless CACHE_URL says otherwise: clearing it needs the test's
    # database first; a test without one has no counters to clear.
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    if transactional or "transactional_db" in names or "live_server" in names:
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker is not None:
        request.getfixturevalue("db")
    else:
        yield
        return
    cache.clear()
    yield
    # A test that closed its connection (a failing command) rolls back its cache rows with its transaction.
    with contextlib.suppress(OperationalError):
        cache.clear()


def row_counts() -> dict[str, int]:
    """Rows of every table of the project's apps, audit history included."""
    return {
        model._meta.label: model._default_manager.count()
        for app in ("racks", "cooling", "planner")
        for model in apps.get_app_config(app).get_models()
    }


def powered_site(*, racks: int = 1, utility_capacity_kw=None, air_kw_per_rack_limit=None, containment="hot_aisle"):
    """A slab site: one room with a CRAH loop (200 kW usable), one row, racks fed A+B by 415 V 63 A 3-phase PDUs
    (36.2 kW usable per side) from a UPS under a utility feed."""
    site = f.SiteFactory(utility_capacity_kw=utility_capacity_kw, energy_price_per_kwh=0.1, design_pue=1.4)
    room = f.RoomFactory(site=site)
    row = f.RowFactory(room=room, containment=containment, air_kw_per_rack_limit=air_kw_per_rack_limit)
    utility = f.PowerSourceFactory(site=site, name="Utility", kind="utility", capacity_kw=5000)
    ups = f.PowerSourceFactory(site=site, name="UPS", kind="ups", capacity_kw=4000, parent=utility)
    loop = f.CoolingLoopFactory(site=site, room=room, name="CRAH")
    made = []
    for _ in range(racks):
        rack = f.RackFactory(row=row)
        for side in "AB":
            f.PduFactory(rack=rack, side=side, name=f"PDU-{side}", source=ups)
        made.append(rack)
    return {"site": site, "room": room, "row": row, "racks": made, "ups": ups, "utility": utility, "loop": loop}
