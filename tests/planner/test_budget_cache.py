"""Cached site budgets must never serve a stale total: after every kind of write, every rack's context built
from the cache equals one built with the cache emptied (``selectors.site_budgets``, ``planner.budget_tokens``).

Each case warms the cache on two sites, makes one write, and compares every rack of both sites. The other
site proves a write only invalidates where it must (its token is unchanged when the write is elsewhere).
"""

from __future__ import annotations

import pytest
from django.db import transaction

from cooling.models import CoolingLoop
from planner import budget_tokens, selectors, services
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Site
from tests import factories as f
from tests.planner.test_selectors import _normalised

pytestmark = pytest.mark.django_db


def _site(tag: str) -> dict:
    site = f.SiteFactory(utility_capacity_kw=5000)
    room = f.RoomFactory(site=site)
    other_room = f.RoomFactory(site=site)
    rows = [f.RowFactory(room=room, containment="hot_aisle"), f.RowFactory(room=other_room, containment="hot_aisle")]
    utility = f.PowerSourceFactory(site=site, name=f"{tag} utility", kind="utility", capacity_kw=5000)
    ups_a = f.PowerSourceFactory(site=site, name=f"{tag} UPS A", capacity_kw=2000, parent=utility)
    ups_b = f.PowerSourceFactory(site=site, name=f"{tag} UPS B", capacity_kw=2000, parent=utility)
    crah = f.CoolingLoopFactory(site=site, room=room, name=f"{tag} crah")
    cdu = f.CoolingLoopFactory(
        site=site, room=room, name=f"{tag} cdu", kind="direct_liquid", fluid="water", unit_capacity_kw=500
    )
    f.CoolingLoopFactory(
        site=site, room=None, name=f"{tag} site cdu", kind="direct_liquid", fluid="water", unit_capacity_kw=500
    )
    racks = []
    for i in range(6):
        rack = f.RackFactory(row=rows[i % 2])
        f.PduFactory(rack=rack, side="A", source=ups_a)
        f.PduFactory(rack=rack, side="B", source=ups_b)
        racks.append(rack)
    cdu.racks.add(racks[0], racks[2])
    h100 = NodeModel.objects.get(slug="dgx-h100")
    b200 = NodeModel.objects.get(slug="dgx-b200")
    gb200 = NodeModel.objects.get(slug="gb200-nvl72")
    f.NodeFactory(rack=racks[0], model=gb200)
    for rack in racks[1:]:
        f.NodeFactory(rack=rack, model=h100, u_position=1)
        f.NodeFactory(rack=rack, model=b200, u_position=10)
    empty = f.RackFactory(row=rows[0])
    for side, ups in zip("AB", (ups_a, ups_b), strict=True):
        f.PduFactory(rack=empty, side=side, source=ups)
    racks.append(empty)
    return {
        "site": site,
        "rooms": [room, other_room],
        "rows": rows,
        "racks": racks,
        "ups": [ups_a, ups_b],
        "utility": utility,
        "crah": crah,
        "cdu": cdu,
    }


def _contexts(site_ids) -> dict:
    return {
        rack.id: _normalised(selectors.rack_context(rack.id))
        for rack in Rack.objects.filter(row__room__site_id__in=site_ids).order_by("id")
    }


def _node(rack, slug="dgx-h100", u=30):
    return Node(rack=rack, model=NodeModel.objects.get(slug=slug), u_position=u, name=f"n{u}")


WRITES = {
    "node created (ORM)": lambda s: _node(s["racks"][3]).save(),
    "node placed (service)": lambda s: services.nodes_place(
        rack_id=s["racks"][6].id, model_id=NodeModel.objects.get(slug="dgx-h100").id
    ),
    "node moved to another rack": lambda s: _save(
        Node.objects.filter(rack=s["racks"][1]).first(), rack=s["racks"][2], u_position=40
    ),
    "node deleted": lambda s: Node.objects.filter(rack=s["racks"][1]).first().delete(),
    "nodes deleted by queryset": lambda s: Node.objects.filter(rack__in=s["racks"][1:3]).delete(),
    "node model power changed": lambda s: _save(NodeModel.objects.get(slug="dgx-h100"), max_power_kw=11.5),
    "node model liquid share changed": lambda s: _save(NodeModel.objects.get(slug="dgx-b200"), liquid_fraction=0.3),
    "PDU moved to another source": lambda s: _save(Pdu.objects.filter(rack=s["racks"][1]).first(), source=s["ups"][1]),
    "PDU deleted": lambda s: Pdu.objects.filter(rack=s["racks"][1]).first().delete(),
    "PDU added": lambda s: f.PduFactory(rack=s["racks"][5], side="A", source=s["ups"][1]),
    "source capacity changed": lambda s: _save(s["ups"][0], capacity_kw=1500),
    "source re-parented": lambda s: _save(s["ups"][1], parent=s["ups"][0]),
    # A rack a loop of its room lists, or whose PDUs its site's UPS feeds, cannot move (tests/integrity): these
    # move one no loop lists, and one whose PDUs are unwired, moved, then wired to the new site's UPS.
    "rack moved to another room": lambda s: _save(s["racks"][4], row=s["rows"][1]),
    "rack moved to another site": lambda s: _rewire(s["racks"][3], s["other"]["rows"][0], s["other"]["ups"][0]),
    "rack deleted with its nodes": lambda s: s["racks"][1].delete(),
    "row moved to another room": lambda s: _save(s["rows"][1], room=s["rooms"][0]),
    "row deleted": lambda s: s["rows"][1].delete(),
    "room deleted": lambda s: s["rooms"][1].delete(),
    "loop linked to a rack": lambda s: s["cdu"].racks.add(s["racks"][4]),
    "loop unlinked from a rack": lambda s: s["cdu"].racks.remove(s["racks"][0]),
    "loop links cleared": lambda s: s["cdu"].racks.clear(),
    "rack linked to a loop (reverse)": lambda s: s["racks"][6].cooling_loops.add(s["cdu"]),  # a rack of its room
    "loop becomes immersion": lambda s: _save(s["cdu"], kind="immersion"),
    "loop capacity changed": lambda s: _save(s["crah"], unit_capacity_kw=80),
    "loop moved to the other room": lambda s: _save(s["crah"], room=s["rooms"][1]),  # the cdu lists racks here
    "loop deleted": lambda s: s["cdu"].delete(),
    "site utility changed (stale instance saved)": lambda s: _save(Site.objects.get(pk=s["site"].pk), country="FR"),
}


def _save(obj, **fields):
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()


def _rewire(rack, row, source):
    pdus = list(rack.pdus.all())
    for pdu in pdus:
        _save(pdu, source=None)
    _save(rack, row=row)
    for pdu in pdus:
        _save(pdu, source=source)


@pytest.mark.parametrize("write", list(WRITES))
def test_cached_contexts_equal_fresh_ones_after_every_kind_of_write(write):
    here, there = _site("here"), _site("there")
    here["other"] = there
    site_ids = [here["site"].pk, there["site"].pk]
    selectors.budget_cache.clear()
    before = _contexts(site_ids)  # warms the cache for both sites
    tokens = dict(Site.objects.filter(pk__in=site_ids).values_list("pk", "budget_token"))

    with transaction.atomic():
        WRITES[write](here)

    cached = _contexts(site_ids)
    selectors.budget_cache.clear()
    fresh = _contexts(site_ids)
    assert cached == fresh
    assert cached != before or write == "site utility changed (stale instance saved)"
    after = dict(Site.objects.filter(pk__in=site_ids).values_list("pk", "budget_token"))
    assert after[here["site"].pk] != tokens[here["site"].pk]
    if "another site" not in write and "node model" not in write:
        assert after[there["site"].pk] == tokens[there["site"].pk], "a write elsewhere left this site's cache alone"


def test_a_stale_site_instance_cannot_write_an_old_token_back():
    s = _site("x")
    stale = Site.objects.get(pk=s["site"].pk)
    _node(s["racks"][3]).save()
    newer = Site.objects.get(pk=s["site"].pk).budget_token
    old = stale.budget_token
    assert old != newer
    stale.name = "renamed"
    stale.save()
    assert Site.objects.get(pk=s["site"].pk).budget_token not in (old, newer)


def test_a_bulk_insert_into_an_existing_site_touches_it_explicitly():
    """``bulk_create`` sends no signals: callers that use it on a live site call ``touch_sites``."""
    s = _site("x")
    selectors.budget_cache.clear()
    rack = s["racks"][3]
    before = selectors.rack_context(rack.id).site.other_load_kw
    Node.objects.bulk_create([_node(s["racks"][4], u=40)])
    assert selectors.rack_context(rack.id).site.other_load_kw == before  # cached: the caller must touch
    budget_tokens.touch_sites_of_racks([s["racks"][4].id])
    assert selectors.rack_context(rack.id).site.other_load_kw == pytest.approx(before + 10.2)


def test_a_rolled_back_write_leaves_the_cache_consistent():
    s = _site("x")
    selectors.budget_cache.clear()
    rack = s["racks"][3]
    before = selectors.rack_context(rack.id).site.other_load_kw
    with pytest.raises(RuntimeError), transaction.atomic():
        _node(s["racks"][4]).save()
        # Seen inside the transaction, and cached under a token that dies with the rollback.
        assert selectors.rack_context(rack.id).site.other_load_kw == pytest.approx(before + 10.2)
        raise RuntimeError("abort")
    assert selectors.rack_context(rack.id).site.other_load_kw == before


def test_the_cache_is_bounded():
    cache = selectors.BudgetCache(max_sites=2)
    for key in ("a", "b", "c"):
        cache.put(key, object())
    assert cache.get("a") is None and cache.get("b") is not None and cache.get("c") is not None


def test_warm_check_of_a_rack_needs_three_queries(django_assert_num_queries):
    s = _site("x")
    rack_id = s["racks"][2].id
    selectors.rack_context(rack_id)
    with django_assert_num_queries(3):
        selectors.rack_context(rack_id)
    selectors.budget_cache.clear()
    with django_assert_num_queries(9):  # the build's five, and the token read again before caching it
        selectors.rack_context(rack_id)


def test_every_budget_model_is_watched():
    """A new model feeding the budgets must be added to ``budget_tokens`` (and to this module's writes)."""
    watched = set(budget_tokens._PARENT) | {Site, NodeModel}
    assert {Node, Pdu, PowerSource, Rack, CoolingLoop} <= watched
