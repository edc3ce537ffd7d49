"""Procurement's TCO page in Chromium: log in as a procurement user, open TCO from the navigation, ask, and see
the comparison and the tornado drawn by Plotly (SVG inside their containers); a bad number is a form error; nothing
is written. Screenshots go to tests/screenshots/."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, make_user
from tests.security.conftest import row_counts
from tests.web.conftest import build_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_procurement_compares_an_order(new_page, shot):
    make_user("buyer", "procurement")
    site = build_site(2, name="Ashburn TCO")["site"]
    before = row_counts()
    page = new_page()
    log_in(page, "buyer")
    page.get_by_role("link", name="TCO", exact=True).click()
    page.wait_for_url("**/tco/")
    page.get_by_label("Site", exact=True).select_option(label=site.name)
    page.get_by_label("Model", exact=True).select_option(value="dgx-b200")
    page.get_by_label("Quantity", exact=True).fill("4")
    page.get_by_label("Horizon (years)").fill("3")
    page.get_by_label("Utilisation (%)").fill("70")
    page.get_by_label("Idle draw (% of max)").fill("30")
    page.get_by_label("GPUs per system").fill("8")
    page.get_by_label("Hardware price (USD)").fill("2000000")
    page.get_by_label("Retrofit capex (USD)").fill("50000")
    page.get_by_label("Discount rate (%/year)").fill("8")
    page.get_by_label("Your cloud price (USD/GPU-h)").fill("6")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_load_state()
    expect(page.locator("#answer")).to_be_visible()
    # Plotly drew both charts: their containers hold SVG
    expect(page.locator("#chart-comparison svg.main-svg").first).to_be_visible()
    expect(page.locator("#chart-tornado svg.main-svg").first).to_be_visible()
    assert page.locator("#chart-comparison .bars path").count() > 0
    assert page.locator("#chart-tornado .bars path").count() > 0
    expect(page.locator("#tco-table")).to_contain_text("On-premises")
    expect(page.locator("#break-even")).to_contain_text("on-prem beats it")
    assert page.js_errors == []
    shot(page, "tco-answer")

    # a bad number: the form says so beside the field, no answer, still nothing written
    page.get_by_label("Utilisation (%)").fill("150")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_load_state()
    expect(page.locator(".field .error").first).to_be_visible()
    expect(page.locator("#answer")).to_have_count(0)
    shot(page, "tco-bad-input")
    assert row_counts() == before
