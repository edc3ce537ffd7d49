"""Chromium: a facilities engineer runs a NetBox import from the page (dry run first) and reads its summary."""

import pytest

from racks.models import Rack, Site
from tests.browser.conftest import log_in, make_user
from tests.netbox.conftest import TEST_FIGURES
from tests.netbox.server import FakeNetBox, load_lists


@pytest.fixture
def netbox():
    fake = FakeNetBox(load_lists())
    fake.url = fake.start()
    yield fake
    fake.stop()


@pytest.mark.django_db(transaction=True)
def test_engineer_imports_from_netbox(new_page, shot, netbox):
    make_user("nbfac", "facilities")
    page = new_page()
    log_in(page, "nbfac")
    page.goto("/netbox/import/")
    page.get_by_label("NetBox URL").fill(netbox.url)
    page.get_by_label("API token").fill(netbox.token)
    page.get_by_label("Figures for device types NetBox lacks").fill(
        "\n".join(f"{k}: {{max_power_kw: {v['max_power_kw']}}}" for k, v in TEST_FIGURES.items())
    )
    assert page.get_by_label("Dry run (write nothing)").is_checked()
    page.get_by_role("button", name="Run import").click()
    page.wait_for_selector("#summary")
    summary = page.locator("#summary")
    assert "Dry run: nothing was written" in summary.inner_text()
    assert "Racks failing a rule today: 16" in summary.inner_text()
    assert Site.objects.count() == 0
    shot(page, "netbox-01-dry-run")
    page.get_by_label("Dry run (write nothing)").uncheck()
    page.get_by_role("button", name="Run import").click()
    page.wait_for_selector("#summary h2:has-text('Imported')")
    assert Rack.objects.count() == 16
    row = page.locator("#summary tr", has_text="fra1").last
    assert "item" in row.inner_text()
    page.get_by_role("link", name="A01-02").click()
    page.wait_for_url("**/racks/*/")
    assert "A01-02" in page.content()
    shot(page, "netbox-02-rack")
    fra1 = Site.objects.get(slug="fra1")
    page.goto(f"/sites/{fra1.pk}/checklist/")
    assert "floor rating" in page.content()
    assert not page.js_errors
