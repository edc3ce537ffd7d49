"""The /tco/ page: procurement asks, the page answers with the comparison and the tornado figures; bad numbers are
form errors (400) and nothing is written."""

import json
import re

import pytest

from tests.security.conftest import row_counts
from tests.web.conftest import build_site

pytestmark = pytest.mark.django_db

QUERY = (
    "model=dgx-b200&quantity=2&horizon_years=1&utilization_pct=100&hardware_capex_usd=100000"
    "&retrofit_capex_usd=50000&cloud_usd_per_gpu_hour=2"
)


def _figure(html: str, name: str) -> dict:
    match = re.search(rf'<script type="application/json" id="figure-{name}">(.*?)</script>', html, re.S)
    assert match, name
    return json.loads(match.group(1))


def test_procurement_gets_the_comparison_and_the_tornado(proc_client):
    site = build_site(2)["site"]
    before = row_counts()
    response = proc_client.get(f"/tco/?site={site.pk}&{QUERY}")
    assert response.status_code == 200, response.content.decode()[:2000]
    html = response.content.decode()
    assert 'href="/tco/" aria-current="page"' in html  # in the nav
    comparison = _figure(html, "comparison")
    assert {t["name"] for t in comparison["data"]} >= {"Energy", "GPU-hours"}
    tornado = _figure(html, "tornado")
    # the tornado names the five inputs (cloud reference, capex known)
    assert set(tornado["data"][0]["y"]) == {"Energy price", "Utilisation", "PUE", "GPU-hour price", "Capex"}
    assert "Break-even utilisation" in html and "on-prem beats it" in html
    assert row_counts() == before


def test_hardware_unknown_shows_unknown_not_zero(proc_client):
    site = build_site(2)["site"]
    response = proc_client.get(f"/tco/?site={site.pk}&model=dgx-b200&quantity=2&horizon_years=1&utilization_pct=100")
    html = response.content.decode()
    assert response.status_code == 200
    assert "hardware price unknown" in html and '<span class="unknown">unknown</span>' in html
    assert 'id="figure-tornado"' not in html  # no tornado without on-prem's NPV: the reason instead


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("utilization_pct", "150"),
        ("idle_pct", "-1"),
        ("hardware_capex_usd", "abc"),
        ("discount_pct", "nan"),
        ("quantity", "0"),
    ],
)
def test_bad_numbers_are_form_errors_and_write_nothing(proc_client, param, value):
    site = build_site(2)["site"]
    before = row_counts()
    query = re.sub(rf"{param}=[^&]*&?", "", QUERY)
    response = proc_client.get(f"/tco/?site={site.pk}&{query}&{param}={value}")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error" role="alert"' in html and 'id="answer"' not in html
    assert row_counts() == before


def test_empty_form_and_post_refused(proc_client):
    assert proc_client.get("/tco/").status_code == 200
    assert proc_client.post("/tco/", {}).status_code == 405
