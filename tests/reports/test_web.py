"""Report pages: list per site, detail with Plotly charts from static/, CSV and JSON downloads, roles."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from planner import reports
from tests.reports.conftest import DAY


@pytest.fixture
def built(small_site):
    for i in range(3, -1, -1):
        reports.report_build(small_site.site.id, DAY - timedelta(days=i), notify=False)
    return small_site.site.capacity_reports.get(day=DAY)


@pytest.fixture
def reader(client, procurement_user):
    client.force_login(procurement_user)
    return client


def test_index_and_site_list(reader, built):
    index = reader.get("/reports/")
    assert index.status_code == 200
    assert f'href="/reports/{built.pk}/"' in index.content.decode()
    page = reader.get("/reports/site/small/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('href="/reports/') >= 4
    assert f'href="/reports/{built.pk}/csv/"' in html and f'href="/reports/{built.pk}/json/"' in html
    assert reader.get("/reports/site/nope/").status_code == 404


def test_detail_page_renders_charts_from_static_plotly(reader, built):
    response = reader.get(f"/reports/{built.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/vendor/plotly-basic.min.js" in html
    assert "cdn" not in html.lower()
    assert "Capacity report: Small, 2026-03-10" in html
    for dim in reports.FORECAST_DIMENSIONS:
        assert f'id="chart-{dim}"' in html
    # The figure JSON is embedded safely and is a Plotly figure with the history points.
    start = html.index('<script type="application/json" id="fig-power">') + len(
        '<script type="application/json" id="fig-power">'
    )
    fig = json.loads(html[start : html.index("</script>", start)])
    installed = next(t for t in fig["data"] if t["name"] == "Installed load")
    assert len(installed["x"]) == 4
    assert "R1" in html and "Hall 1" in html
    assert "CDU 1" not in html  # no liquid heat on it: COOLING_LIQUID_REDUNDANCY is ok, no loop risk listed


def test_chart_json_cannot_break_out_of_its_script_tag(reader, small_site):
    site = small_site.site
    site.name = "</script><script>alert(1)</script>"
    site.save()
    report = reports.report_build(site.id, DAY, notify=False)
    html = reader.get(f"/reports/{report.pk}/").content.decode()
    assert "<script>alert(1)" not in html


def test_csv_download(reader, built):
    response = reader.get(f"/reports/{built.pk}/csv/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="capacity-report-small-2026-03-10.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    power = next(r for r in rows if r["section"] == "totals" and r["dimension"] == "power")
    assert float(power["load"]) == pytest.approx(19.7)
    assert float(power["planned"]) == pytest.approx(6.5)
    assert any(r["section"] == "near_limit" and r["name"] == "R1" for r in rows)
    assert any(r["section"] == "headroom" and r["scope"] == "row" and r["name"] == "Row A" for r in rows)
    assert any(r["section"] == "risk" and r["name"] == "R2" and "single feed" in r["note"] for r in rows)


def test_csv_cells_are_safe_for_spreadsheets(reader, small_site):
    small_site.r1.name = "=HYPERLINK(1)"
    small_site.r1.save()
    report = reports.report_build(small_site.site.id, DAY, notify=False)
    text = reader.get(f"/reports/{report.pk}/csv/").content.decode()
    assert "'=HYPERLINK(1)" in text
    assert ",=HYPERLINK" not in text


def test_json_download(reader, built):
    response = reader.get(f"/reports/{built.pk}/json/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="capacity-report-small-2026-03-10.json"'
    body = response.json()
    assert body["id"] == built.pk and body["day"] == "2026-03-10"
    assert body["data"]["totals"]["power"]["load"] == pytest.approx(19.7)
    assert body["summary"]["near_limit_count"] == 1


def test_pages_need_login_and_a_role(client, built, db):
    for url in ("/reports/", "/reports/site/small/", f"/reports/{built.pk}/", f"/reports/{built.pk}/csv/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    client.force_login(User.objects.create_user("nobody", password="nobody-pass-123"))
    for url in ("/reports/", f"/reports/{built.pk}/", f"/reports/{built.pk}/json/"):
        assert client.get(url).status_code == 403, url


def test_facilities_can_read_too(client, facilities_user, built):
    client.force_login(facilities_user)
    assert client.get(f"/reports/{built.pk}/").status_code == 200
