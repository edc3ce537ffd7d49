"""GET /api/v1/reports/ and /api/v1/reports/{id}/: read-only, filtered, paginated, constant queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from planner import reports
from tests import factories as f
from tests.reports.conftest import DAY


@pytest.fixture
def history(small_site):
    """Five days of reports for the small site and one for another site."""
    out = [reports.report_build(small_site.site.id, DAY - timedelta(days=i), notify=False) for i in range(4, -1, -1)]
    other = f.RackFactory(row__room__site=f.SiteFactory(slug="other")).row.room.site
    reports.report_build(other.id, DAY, notify=False)
    return out


def test_list_filters_by_site_and_day_range_in_constant_queries(proc_api, history, django_assert_num_queries):
    site_id = history[0].site_id
    # Token + roles, then count + page, whatever the number of reports.
    with django_assert_num_queries(4):
        body = proc_api.get(f"/api/v1/reports/?site={site_id}").json()
    assert body["count"] == 5
    assert [r["day"] for r in body["results"]] == [(DAY - timedelta(days=i)).isoformat() for i in range(5)]
    first = body["results"][0]
    assert first["site"] == site_id and first["site_slug"] == "small"
    assert "data" not in first  # the list stays light; the detail has the full snapshot
    assert first["summary"]["near_limit_count"] == 1
    assert first["it_load_kw"] == pytest.approx(19.7)

    with django_assert_num_queries(4):
        body = proc_api.get(
            f"/api/v1/reports/?site={site_id}&day_from={(DAY - timedelta(days=3)).isoformat()}"
            f"&day_to={(DAY - timedelta(days=1)).isoformat()}&limit=2"
        ).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2 and body["next"]
    assert proc_api.get("/api/v1/reports/?site_slug=other").json()["count"] == 1
    assert proc_api.get(f"/api/v1/reports/?day={DAY.isoformat()}").json()["count"] == 2
    assert proc_api.get("/api/v1/reports/").json()["count"] == 6


def test_detail_has_the_full_snapshot_in_constant_queries(proc_api, history, django_assert_num_queries):
    report = history[-1]
    with django_assert_num_queries(3):
        response = proc_api.get(f"/api/v1/reports/{report.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == report.pk and body["day"] == DAY.isoformat()
    assert body["data"]["totals"]["power"]["load"] == pytest.approx(19.7)
    assert body["data"]["headroom"]["rooms"][0]["rows"][0]["name"] == "Row A"
    assert set(body["data"]["forecast"]) == set(reports.FORECAST_DIMENSIONS)
    assert body["data"]["changes"]["previous_day"] == (DAY - timedelta(days=1)).isoformat()


def test_reports_are_read_only_and_need_a_role(api, anon_api, history):
    report = history[-1]
    assert api.post("/api/v1/reports/", {"site": report.site_id, "day": "2026-01-01"}).status_code == 405
    assert api.delete(f"/api/v1/reports/{report.pk}/").status_code == 405
    assert api.patch(f"/api/v1/reports/{report.pk}/", {"node_count": 1}).status_code == 405
    assert anon_api.get("/api/v1/reports/").status_code in (401, 403)
    assert api.get("/api/v1/reports/999999/").status_code == 404


def test_bad_filters_answer_400(proc_api, history):
    assert proc_api.get("/api/v1/reports/?day_from=yesterday").status_code == 400
    assert proc_api.get("/api/v1/reports/?site=x").status_code == 400
