"""GET sites/{id}/headroom/: constant queries, cached per site budget token, never stale after a write."""

import pytest

from planner import headroom, selectors
from racks.models import NodeModel
from tests import factories as f
from tests.api.test_questions import _big_site

pytestmark = pytest.mark.django_db


def _get(client, site_id):
    response = client.get(f"/api/v1/sites/{site_id}/headroom/")
    assert response.status_code == 200, response.content
    return response.json()


def test_site_headroom_queries_do_not_grow_with_the_site(proc_api, django_assert_max_num_queries):
    counts = {}
    for size, rack in (("small", _big_site(1, 2)), ("large", _big_site(4, 10))):
        site_id = rack.row.room.site_id
        for state in ("cold", "warm"):
            with django_assert_max_num_queries(1000) as q:
                _get(proc_api, site_id)
            counts[size, state] = len(q)
    assert counts["small", "cold"] == counts["large", "cold"]
    assert counts["small", "warm"] == counts["large", "warm"]
    assert counts["small", "warm"] < counts["small", "cold"]


def test_cached_answer_is_the_fresh_one_and_a_write_renews_it(proc_api):
    rack = _big_site(2, 3)
    site_id = rack.row.room.site_id
    first = _get(proc_api, site_id)
    assert first == _get(proc_api, site_id)  # from the cache
    fresh = headroom.site_headroom(selectors.site_snapshot(site_id))
    assert first["power"] == pytest.approx(fresh["power"])
    # One more node: the site's load grows by exactly its max power (an independent figure from the model).
    model = NodeModel.objects.get(slug="cpu-2u")
    f.NodeFactory(rack=rack, model=model, u_position=30)
    after = _get(proc_api, site_id)
    assert after["power"]["load_kw"] == pytest.approx(first["power"]["load_kw"] + model.max_power_kw, abs=1e-3)


def test_unknown_site_is_a_json_404(proc_api):
    response = proc_api.get("/api/v1/sites/999999/headroom/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
