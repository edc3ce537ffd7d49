"""The two selectors (SQL sums for one rack, a whole-site snapshot in Python) must agree exactly."""

import io

import pytest
from django.core.management import call_command

from cooling.models import CoolingLoop
from planner import selectors
from racks.models import Rack, Site
from tests import factories as f

pytestmark = pytest.mark.django_db


def _normalised(ctx):
    """Contexts compared with floats rounded (SQL and Python sum in different orders)."""
    import dataclasses

    def walk(value):
        if dataclasses.is_dataclass(value):
            return tuple((fld.name, walk(getattr(value, fld.name))) for fld in dataclasses.fields(value))
        if isinstance(value, tuple):
            return tuple(walk(v) for v in value)
        if isinstance(value, float):
            return round(value, 6)
        return value

    return walk(ctx)


def _assert_agree(site_id: int) -> None:
    snapshot = selectors.site_snapshot(site_id)
    assert snapshot.contexts
    for rack_id, ctx in snapshot.contexts.items():
        assert _normalised(selectors.rack_context(rack_id)) == _normalised(ctx), rack_id


def test_rack_context_and_site_snapshot_agree_on_the_demo_site():
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    _assert_agree(Site.objects.get(slug="demo-campus").id)


def test_they_agree_with_site_wide_room_wide_and_immersion_loops():
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    site = Site.objects.get(slug="demo-campus")
    legacy = site.rooms.get(name="Legacy Hall")
    # A site-wide liquid loop (no room, no racks), a room-wide one, and an immersion tank on one rack.
    f.CoolingLoopFactory(site=site, room=None, name="site cdu", kind="direct_liquid", fluid="water")
    f.CoolingLoopFactory(site=site, room=legacy, name="legacy cdu", kind="direct_liquid", fluid="water")
    tank = f.CoolingLoopFactory(site=site, room=legacy, name="tank", kind="immersion", fluid="water")
    tank.racks.add(Rack.objects.get(name="L1-01"))
    assert CoolingLoop.objects.filter(site=site).count() == 7
    _assert_agree(site.id)


def test_rack_context_query_count_does_not_grow(django_assert_max_num_queries):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    rack = Rack.objects.get(name="A2-01")
    with django_assert_max_num_queries(11):
        selectors.rack_context(rack.id)


def test_site_snapshot_query_count_is_fixed(django_assert_num_queries):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    site = Site.objects.get(slug="demo-campus")
    with django_assert_num_queries(10):
        selectors.site_snapshot(site.id)
