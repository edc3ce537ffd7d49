"""Workload and site-selection pages in a real browser (issue 17): create a workload through its form, rank
the sites for it, see the table with its reasons and both Plotly charts drawn."""

import re

import pytest
from playwright.sync_api import expect

from planner.models import Workload
from racks.models import Site
from tests.browser.conftest import log_in, make_user
from tests.security.conftest import powered_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_workload_form_and_site_selection(new_page, shot):
    make_user("planner", "facilities")
    for name, code, lat, lon in (("Frankfurt", "DE", 50.11, 8.68), ("Virginia", "US", 39.04, -77.49)):
        site = powered_site(racks=2)["site"]
        Site.objects.filter(pk=site.pk).update(name=name, jurisdiction=code, latitude=lat, longitude=lon)
    page = new_page()
    log_in(page, "planner")
    page.get_by_role("link", name="Workloads").click()
    expect(page.get_by_text("No workloads yet")).to_be_visible()
    page.get_by_role("link", name="New workload").click()
    page.get_by_label(re.compile(r"^Name")).fill("EU chat")
    page.get_by_label(re.compile(r"^Model")).select_option(label="DGX B200")
    page.get_by_label("Systems").fill("2")
    page.get_by_label("Latency budget, p99 RTT (ms)").fill("20")
    page.get_by_label("User regions").fill("Frankfurt; 50.11; 8.68; 1")
    page.get_by_label("Allowed jurisdictions").fill("DE, FR")
    shot(page, "ai-01-workload-form")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    workload = Workload.objects.get(name="EU chat")
    assert page.url.endswith(f"/workloads/{workload.pk}/")
    expect(page.locator("#throughput")).to_contain_text("MLPerf Inference v5.1")
    shot(page, "ai-02-workload-detail")

    page.get_by_role("link", name="Where can it run?").click()
    page.get_by_label("Hardware price per system (USD)").fill("400000")
    page.get_by_role("button", name="Rank").click()
    page.wait_for_load_state()
    rows = page.locator("#options tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Frankfurt")
    expect(rows.nth(1)).to_contain_text("jurisdiction US not in allowed DE, FR")
    expect(page.locator("#chart-cost .main-svg").first).to_be_visible()
    expect(page.locator("#chart-latency .main-svg").first).to_be_visible()
    shot(page, "ai-03-site-selection")
    assert page.js_errors == []
