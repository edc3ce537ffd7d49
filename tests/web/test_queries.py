"""Every page answers in a fixed number of SQL queries, whatever the size of the site.

Each page is rendered for a site of 2 racks and one of 10 racks (every rack with two PDUs on a UPS chain and a
node; rear door, CDU and CRAH loops): the count is pinned, and the same for both.
"""

import pytest

from tests.web.conftest import build_site

pytestmark = pytest.mark.django_db

# Three of each count are the request's own: session, user, and the user's roles. A page that checks a rack
# reads its site's budget totals once (five queries, ``selectors._load_site_budgets``, and the site's token read
# again before the build is cached): every page here is its site's first, so the counts include them. Pages with a
# History section read it in one query (the rack page: two, the rack's and its nodes' trails; a third only when a
# shown node change needs an older record as its baseline, which these sites never do).
LIST_QUERIES = {
    "sites": 5,
    "rooms": 6,
    "rows": 7,
    "racks": 7,
    "pdus": 6,
    "power-sources": 6,
    "cooling-loops": 7,
    "node-models": 5,
    "nodes": 7,
    "reservations": 6,
}
PAGES = {
    "site-list": (lambda s: "/", 9),  # + the nodes per (rack, model) for their heat (engine node_heat_kw)
    # + the site's token before the snapshot and again before its N-1 sweep is cached
    "site-dashboard": (lambda s: f"/sites/{s['site'].pk}/", 19),
    # the site, its token, the ten queries of the snapshot, the token again
    "site-resilience": (lambda s: f"/sites/{s['site'].pk}/resilience/", 16),
    "room-floorplan": (lambda s: f"/rooms/{s['room'].pk}/", 15),
    "room-floorplan-cooling": (lambda s: f"/rooms/{s['room'].pk}/?metric=cooling_pct", 15),
    # session and user, the room, the fabric index (six queries, the token again), the room's rack names
    "room-fabric": (lambda s: f"/rooms/{s['room'].pk}/fabric/", 12),
    "rack-elevation": (lambda s: f"/racks/{s['racks'][0].pk}/", 16),
    "rack-elevation-liquid": (lambda s: f"/racks/{s['racks'][-1].pk}/", 16),
    # the plan form: as the rack page (power fails: the site's busways from the rack's site row, no query)
    "rack-retrofit-plan": (lambda s: f"/racks/{s['racks'][0].pk}/?model=dgx-b200&quantity=3", 16),
    "rack-retrofit-target": (lambda s: f"/racks/{s['racks'][0].pk}/?target_kw=80", 16),
    "catalogue": (lambda s: "/catalogue/", 4),
    # the element pages: the request's three, the element (with its site), the ten queries of the snapshot
    "row-detail": (lambda s: f"/rows/{s['rows'][0].pk}/", 14),
    "power-source-detail": (lambda s: f"/power-sources/{s['ups'].pk}/", 14),
    "cooling-loop-detail": (lambda s: f"/cooling-loops/{s['cdu'].pk}/", 14),
    "cooling-loop-detail-pool": (lambda s: f"/cooling-loops/{s['site'].cooling_loops.get(name='CRAH').pk}/", 14),
    "sources": (lambda s: "/sources/", 3),  # the request's own three: the entries are parsed from a file
    "place-empty": (lambda s: f"/place/?site={s['site'].pk}", 8),  # + the site's rooms (suggest in a room)
    # the check reuses the form's rack (with its site): no second rack read
    "place-check": (lambda s: f"/place/?rack={s['racks'][0].pk}&model=dgx-h100&quantity=2", 19),
    "place-check-fragment": (lambda s: f"/place/check/?rack={s['racks'][0].pk}&model=dgx-b200&quantity=9", 15),
    "place-suggest": (lambda s: f"/place/?site={s['site'].pk}&model=dgx-h100&quantity=3&suggest=1", 19),
    "feasibility-empty": (lambda s: "/feasibility/", 5),
    # the dashboard's Feasibility button: the site preselected, nothing asked (was a 400)
    "feasibility-site": (lambda s: f"/feasibility/?site={s['site'].pk}", 5),
    "place-suggest-room": (
        lambda s: f"/place/?site={s['site'].pk}&room={s['room'].pk}&model=dgx-h100&quantity=3&suggest=1",
        20,  # + the chosen room's lookup
    ),
    # + the throughput basis of the KPIs
    "feasibility": (lambda s: f"/feasibility/?site={s['site'].pk}&model=dgx-b200&quantity=30", 18),
    "tco-empty": (lambda s: "/tco/", 5),
    # as the feasibility page: the form's site and model, the plan (the order's retrofit cost); nothing per rack
    "tco": (lambda s: f"/tco/?site={s['site'].pk}&model=dgx-b200&quantity=30&hardware_capex_usd=1e6", 17),
    "site-new": (lambda s: "/sites/new/", 3),
    "site-edit": (lambda s: f"/sites/{s['site'].pk}/edit/", 4),
    "site-delete": (lambda s: f"/sites/{s['site'].pk}/delete/", 5),
    "room-new": (lambda s: f"/rooms/new/?site={s['site'].pk}", 5),
    "row-edit": (lambda s: f"/rows/{s['rows'][0].pk}/edit/", 6),
    "rack-new": (lambda s: f"/racks/new/?row={s['rows'][0].pk}", 6),  # + the row's next free position
    "row-racks-bulk": (lambda s: f"/rows/{s['rows'][0].pk}/racks/bulk/", 7),  # + next position, the sources
    "rack-clone": (lambda s: f"/racks/{s['racks'][0].pk}/clone/", 5),
    "rack-edit": (lambda s: f"/racks/{s['racks'][0].pk}/edit/", 5),
    "rack-delete": (lambda s: f"/racks/{s['racks'][0].pk}/delete/", 5),
    "power-source-new": (lambda s: f"/power-sources/new/?site={s['site'].pk}", 6),
    "pdu-new": (lambda s: f"/pdus/new/?rack={s['racks'][0].pk}", 6),
    "pdu-edit": (lambda s: f"/pdus/{s['racks'][0].pdus.get(side='A').pk}/edit/", 7),
    "power-source-edit": (lambda s: f"/power-sources/{s['ups'].pk}/edit/", 7),
    "cooling-loop-edit": (lambda s: f"/cooling-loops/{s['cdu'].pk}/edit/", 10),  # + the audited rack links
    "node-model-edit": (lambda s: "/node-models/1/edit/", 5),
    "node-edit": (lambda s: f"/nodes/{s['racks'][0].nodes.get().pk}/edit/", 6),
    "node-delete": (lambda s: f"/nodes/{s['racks'][0].nodes.get().pk}/delete/", 4),
    # the AI-factory pages (issue 17)
    "workload-list": (lambda s: (_workload(), "/workloads/")[1], 4),
    "workload-new": (lambda s: "/workloads/new/", 4),
    "workload-detail": (lambda s: f"/workloads/{_workload().pk}/", 5),
    "workload-edit": (lambda s: f"/workloads/{_workload().pk}/edit/", 5),
    "site-selection-empty": (lambda s: "/site-selection/", 4),
    # every site of the world (the two built, caches cold), each: its headroom bound (token, snapshot), the snapshot
    # for feasibility, its N-1 sweep with the plan placed (no query); constant in the racks of each site
    "site-selection": (lambda s: _cold(f"/site-selection/?workload={_workload().pk}&hardware_usd_per_system=1"), 51),
    # Issue 16 lists: the request's three, a count and one page of rows (parents joined, counts annotated), and one
    # query per choice filter rendered (sites, rooms, models).
    **{f"list-{kind}": (lambda s, kind=kind: f"/lists/{kind}/", n) for kind, n in LIST_QUERIES.items()},
    "list-racks-filtered": (lambda s: f"/lists/racks/?site={s['site'].pk}&q=K&sort=-name&per_page=5&page=1", 8),
    "list-racks-csv": (lambda s: f"/lists/racks/?site={s['site'].pk}&_export=csv", 5),  # every row, one query
    "list-import-racks": (lambda s: "/lists/racks/import/", 3),
    "search": (lambda s: "/search/?q=K0", 12),  # + one query per kind searched (nine)
    # the reservations with their nodes (prefetched), the planned nodes in none, the site choices
    "reservations": (lambda s: "/reservations/", 6),
    # + its nodes, its own history and its nodes' trail
    "reservation-detail": (lambda s: _reservation_url(s), 7),
}


def _cold(url: str) -> str:
    """Forget every process cache of site figures, so each size starts as a first request."""
    from planner import headroom, resilience, selectors

    for cache in (selectors.budget_cache, headroom._site_headroom_cache, resilience._sweep_cache):
        cache.clear()
    return url


def _workload():
    from planner.models import Workload
    from racks.models import NodeModel

    workload, _ = Workload.objects.get_or_create(
        name="Query workload",
        defaults={"model": NodeModel.objects.get(slug="dgx-b200"), "quantity": 2, "availability_target_pct": 99.982},
    )
    return workload


def _reservation_url(s) -> str:
    """A held reservation of the site's nodes (made before the count starts)."""
    from planner.models import Reservation

    nodes = [rack.nodes.get() for rack in s["racks"]]
    reservation = Reservation.objects.create(
        site=s["site"], model=nodes[0].model, quantity=len(nodes), node_ids=[n.pk for n in nodes]
    )
    reservation.nodes.set(nodes)
    return f"/reservations/{reservation.pk}/"


@pytest.fixture
def sites(db):
    return {2: build_site(2, name="Small site"), 10: build_site(10, name="Large site")}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_query_count_is_pinned_and_does_not_grow(name, sites, fac_client, django_assert_num_queries):
    url_of, expected = PAGES[name]
    for size in (2, 10):
        url = url_of(sites[size])
        with django_assert_num_queries(expected):
            response = fac_client.get(url)
        assert response.status_code == 200, (size, url, response.status_code)
