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
PAGES = {
    "site-list": (lambda s: "/", 9),  # + the nodes per (rack, model) for their heat (engine node_heat_kw)
    # + the site's token before the snapshot and again before its N-1 sweep is cached
    "site-dashboard": (lambda s: f"/sites/{s['site'].pk}/", 19),
    # the site, its token, the ten queries of the snapshot, the token again
    "site-resilience": (lambda s: f"/sites/{s['site'].pk}/resilience/", 16),
    "room-floorplan": (lambda s: f"/rooms/{s['room'].pk}/", 15),
    "room-floorplan-cooling": (lambda s: f"/rooms/{s['room'].pk}/?metric=cooling_pct", 15),
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
    "place-empty": (lambda s: f"/place/?site={s['site'].pk}", 7),
    # the check reuses the form's rack (with its site): no second rack read
    "place-check": (lambda s: f"/place/?rack={s['racks'][0].pk}&model=dgx-h100&quantity=2", 18),
    "place-check-fragment": (lambda s: f"/place/check/?rack={s['racks'][0].pk}&model=dgx-b200&quantity=9", 15),
    "place-suggest": (lambda s: f"/place/?site={s['site'].pk}&model=dgx-h100&quantity=3&suggest=1", 18),
    "feasibility-empty": (lambda s: "/feasibility/", 5),
    "feasibility": (lambda s: f"/feasibility/?site={s['site'].pk}&model=dgx-b200&quantity=30", 17),
    "site-new": (lambda s: "/sites/new/", 3),
    "site-edit": (lambda s: f"/sites/{s['site'].pk}/edit/", 4),
    "site-delete": (lambda s: f"/sites/{s['site'].pk}/delete/", 5),
    "room-new": (lambda s: f"/rooms/new/?site={s['site'].pk}", 5),
    "row-edit": (lambda s: f"/rows/{s['rows'][0].pk}/edit/", 6),
    "rack-new": (lambda s: f"/racks/new/?row={s['rows'][0].pk}", 5),
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
}


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
