"""The resilience page, the dashboard's N-1 tile and the nightly report's N-1 section: one sweep, one set of
figures (the API's ``GET sites/{id}/resilience/``).

Sites from tests/api/test_what_if.py: racks of 2 x DGX H100 (2 x 10.2 = 20.4 kW, 16 GPUs) on A/B PDUs, two
N+1 CRAH groups of 200 kW usable each; either one UPS behind both sides (a single point of failure) or one
UPS per side (2N: none).
"""

import datetime
import re

import pytest

from planner import reports
from tests.api.test_what_if import build_site

pytestmark = pytest.mark.django_db


def _api(proc_api, site):
    response = proc_api.get(f"/api/v1/sites/{site.id}/resilience/")
    assert response.status_code == 200
    return response.json()


def test_shared_ups_is_listed_with_links_to_the_racks_it_takes_down(fac_client, proc_api):
    site, _ups, racks = build_site(3, shared_ups=True)
    page = fac_client.get(f"/sites/{site.id}/resilience/")
    assert page.status_code == 200
    html = page.content.decode()
    spof_table = html[html.index('id="spof-table"') : html.index("</table>", html.index('id="spof-table"'))]
    assert "UPS-A" in spof_table
    for rack in racks:
        assert f'href="/racks/{rack.id}/"' in spof_table
    # 3 racks x 20.4 kW = 61.2 kW; 3 x 16 = 48 GPUs.
    assert "61.2" in spof_table and "48" in spof_table
    api = _api(proc_api, site)
    count = int(re.search(r'id="spof-count">(\d+)<', html).group(1))
    assert count == len(api["single_points_of_failure"]) >= 1


def test_a_2n_site_lists_no_single_point_of_failure(fac_client, proc_api):
    site, _ups, _racks = build_site(3, shared_ups=False)
    html = fac_client.get(f"/sites/{site.id}/resilience/").content.decode()
    assert 'id="spof-empty"' in html
    assert re.search(r'id="spof-count">0<', html)
    assert _api(proc_api, site)["single_points_of_failure"] == []


def test_dashboard_tile_and_report_agree_with_the_api(fac_client, proc_api):
    site, _ups, _racks = build_site(2, shared_ups=True)
    api = _api(proc_api, site)
    dashboard = fac_client.get(f"/sites/{site.id}/").content.decode()
    tile = int(re.search(r'id="n1-spof-count">(\d+)<', dashboard).group(1))
    report = reports.report_build(site.id, datetime.date(2026, 12, 1), notify=False)
    n1 = report.data["resilience"]
    assert tile == n1["spof_count"] == report.summary["spof_count"] == len(api["single_points_of_failure"])
    assert [e["name"] for e in n1["spof"]] == [e["name"] for e in api["single_points_of_failure"]][: len(n1["spof"])]
    assert n1["worst"]["summary"] == api["elements"][0]["summary"]
    assert "N-1: " in reports.report_text(report)
    assert any(row[0] == "resilience" for row in reports.report_csv_rows(report))
    assert any(r["kind"] == "single_point_of_failure" for r in report.data["risks"]["top"])
    page = fac_client.get(f"/reports/{report.id}/")
    assert page.status_code == 200
    assert 'id="n1-summary"' in page.content.decode()


def test_unknown_site_is_404(fac_client):
    assert fac_client.get("/sites/999999/resilience/").status_code == 404
