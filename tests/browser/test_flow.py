"""The engineer's whole flow in a real browser: log in, build a site through the forms, place a DGX H100 with
the wizard, see an over-limit placement refused with the rule and its arithmetic, and see the dashboard's
charts drawn. A screenshot of each page goes to tests/screenshots/."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from planner.models import CapacityReport
from racks.models import Node, Rack, Site
from tests.browser.conftest import WIDE, log_in, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def field(page, label: str):
    """A form field by its label (required fields carry a visual " *", hidden from assistive technology)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def fill_form(page, values: dict) -> None:
    for label, value in values.items():
        control = field(page, label)
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(label=str(value))
        else:
            control.fill(str(value))


def save(page) -> None:
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    expect(page.locator(".messages li.success")).to_be_visible()


def test_engineer_builds_a_site_and_places_a_dgx(new_page, shot):
    make_user("engineer", "facilities")
    page = new_page()
    page.goto("/accounts/login/")
    shot(page, "01-login")
    log_in(page, "engineer")
    shot(page, "02-sites-empty")

    # Site, room, row, rack through the forms.
    page.get_by_role("link", name="New site").click()
    fill_form(
        page, {"Name": "Ashburn 1", "Slug (used in URLs and the API)": "ashburn-1", "Utility capacity (kW)": 2000}
    )
    shot(page, "03-site-form")
    save(page)
    site = Site.objects.get(slug="ashburn-1")
    assert page.url.endswith(f"/sites/{site.pk}/")
    page.get_by_role("link", name="Add room").click()
    fill_form(page, {"Name": "Hall A", "Floor type": "Slab", "Uniform floor rating (kg/m²)": 1224})
    save(page)
    page.get_by_role("link", name="Add row").click()
    fill_form(page, {"Name": "R1", "Containment": "Hot-aisle containment"})
    save(page)
    page.get_by_role("link", name="Add rack to R1").click()
    fill_form(
        page,
        {"Name": "R1-01", "Position in the row": 1, "Frame load rating (kg)": 1400, "Empty frame weight (kg)": 150},
    )
    shot(page, "04-rack-form")
    save(page)
    rack = Rack.objects.get(name="R1-01")
    assert page.url.endswith(f"/racks/{rack.pk}/")

    # Two PDUs, one per side: 415 V 3-phase 63 A = 36.23 kW usable at 0.8.
    for side in "AB":
        page.get_by_role("link", name="Add PDU").click()
        fill_form(page, {"Name": f"PDU-{side}", "Feed side": side, "Voltage (V)": 415, "Breaker rating (A)": 63})
        save(page)
    expect(page.get_by_text("Side A · 72.46 kW usable")).to_have_count(0)
    expect(page.locator(".side h3").first).to_contain_text("36.23 kW usable")

    # A room air loop.
    page.get_by_role("link", name="Ashburn 1").click()
    page.get_by_role("link", name="Add cooling loop").click()
    fill_form(
        page,
        {
            "Room": "Hall A",
            "Name": "CRAH-1",
            "Kind": "CRAH / CRAC (room air)",
            "Capacity of one unit (kW)": 100,
            "Units installed": 3,
            "Redundant units": 1,
            "Supply temperature (°C)": 22,
            "Design ΔT (K)": 12,
            "Fluid": "Air",
        },
    )
    shot(page, "05-cooling-loop-form")
    save(page)

    # Place a DGX H100 with the wizard: the live check says it fits, then record it as planned.
    page.goto(f"/racks/{rack.pk}/")
    page.get_by_role("link", name="Place hardware here").first.click()
    page.get_by_label("Model").select_option("dgx-h100")
    result = page.locator("#check-result")
    expect(result.locator(".verdict-ok")).to_contain_text("Fits.")
    expect(result.locator('tr[data-code="POWER_RACK"]')).to_have_attribute("data-status", "ok")
    shot(page, "06-wizard-fits")
    page.get_by_role("button", name="Place").click()
    page.wait_for_url(f"**/racks/{rack.pk}/")
    expect(page.locator(".messages")).to_contain_text("Placed 1 x DGX H100 in R1-01 as planned (U1).")
    expect(page.locator("td.node.planned")).to_contain_text("dgx-h100-1")
    shot(page, "07-rack-elevation")
    assert Node.objects.filter(rack=rack, model__slug="dgx-h100", status="planned").count() == 1

    # Over the limit: three more (4 x 10.2 = 40.8 kW) break POWER_RACK; the page says why.
    page.get_by_role("link", name="Place hardware here").first.click()
    page.get_by_label("Model").select_option("dgx-h100")
    page.get_by_label("Quantity").fill("3")
    power = result.locator('tr[data-code="POWER_RACK"]')
    expect(power).to_have_attribute("data-status", "fail")
    expect(power.locator("td.message")).to_contain_text(re.compile(r"40\.80? kW load > 36\.23 kW usable"))
    expect(result.locator(".verdict-fail")).to_contain_text("POWER_RACK")
    shot(page, "08-wizard-over-limit")
    page.get_by_role("button", name="Place").click()
    expect(page.locator("[role=alert]").first).to_contain_text("Not placed")
    expect(page.locator('tr[data-code="POWER_RACK"] .status')).to_contain_text("fail")
    shot(page, "09-place-refused")
    assert Node.objects.filter(rack=rack).count() == 1

    # The dashboard draws its charts (Plotly puts an <svg> in each container), history from the reports.
    for days in range(3):
        CapacityReport.objects.create(
            site=site,
            day=datetime.date(2025, 3, 1) + datetime.timedelta(days=days),
            it_load_kw=10.2 * days,
            power_capacity_kw=72.46,
            air_heat_kw=10.2 * days,
        )
    page.goto(f"/sites/{site.pk}/")
    for chart in ("headroom", "density", "heat", "history"):
        expect(page.locator(f"#chart-{chart} svg").first).to_be_attached()
    shot(page, "10-dashboard")

    # The floor plan: rack tiles coloured by a metric, keyboard-reachable, open the rack.
    page.get_by_role("link", name="Hall A").first.click()
    page.get_by_label("Colour racks by").select_option("power_pct")
    page.wait_for_url("**metric=power_pct")
    tile = page.get_by_role("link", name=re.compile("Rack R1-01, Power used 28 %"))
    expect(tile).to_be_visible()
    shot(page, "11-floor-plan")
    tile.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/racks/{rack.pk}/")
    assert page.js_errors == []


def test_wide_screen_and_procurement_view(new_page, shot):
    from django.core.management import call_command

    call_command("seed_demo", "--no-users", verbosity=0)
    make_user("buyer", "procurement")
    site = Site.objects.get(slug="demo-campus")
    for days in range(5):
        CapacityReport.objects.create(
            site=site,
            day=datetime.date(2025, 3, 1) + datetime.timedelta(days=days),
            it_load_kw=300 + 10 * days,
            power_capacity_kw=1587,
            air_heat_kw=200 + 5 * days,
            liquid_heat_kw=100 + 5 * days,
        )
    page = new_page(WIDE)
    log_in(page, "buyer")
    shot(page, "20-sites-wide")
    page.goto(f"/sites/{site.pk}/")
    for chart in ("headroom", "density", "heat", "history"):
        expect(page.locator(f"#chart-{chart} svg").first).to_be_attached()
    expect(page.get_by_role("link", name="Edit site")).to_have_count(0)
    shot(page, "21-dashboard-wide")
    room = site.rooms.get(name="AI Hall")
    page.goto(f"/rooms/{room.pk}/?metric=cooling_pct")
    shot(page, "22-floor-plan-wide")
    rack = Rack.objects.get(name="A1-04")
    page.goto(f"/racks/{rack.pk}/")
    expect(page.get_by_role("link", name="Edit rack")).to_have_count(0)
    shot(page, "23-rack-procurement")
    page.get_by_role("link", name="Check a placement here").click()
    page.get_by_label("Model").select_option("dgx-b200")
    page.get_by_label("Quantity").fill("2")
    expect(page.locator('#check-result tr[data-code="SPACE"]')).to_have_attribute("data-status", "ok")
    expect(page.locator("#commit-form")).to_have_count(0)
    shot(page, "24-wizard-procurement")
    page.goto(f"/feasibility/?site={site.pk}&model=gb200-nvl72&quantity=8")
    expect(page.locator("#answer")).to_contain_text("of 8 fit now")
    expect(page.get_by_role("button", name=re.compile("Reserve"))).to_have_count(0)
    shot(page, "25-feasibility-procurement")
    page.goto("/catalogue/")
    page.get_by_text("Sources and notes").first.click()
    shot(page, "26-catalogue-wide")
    assert page.js_errors == []


def test_laptop_pages_of_the_demo(new_page, shot):
    from django.core.management import call_command

    call_command("seed_demo", "--no-users", verbosity=0)
    make_user("engineer", "facilities")
    site = Site.objects.get(slug="demo-campus")
    page = new_page()
    log_in(page, "engineer")
    shot(page, "30-sites-laptop")
    page.goto(f"/sites/{site.pk}/")
    expect(page.locator("#chart-history-empty")).to_contain_text("No nightly capacity report yet")
    expect(page.locator("#chart-headroom svg").first).to_be_attached()
    shot(page, "31-dashboard-laptop")
    # The N-1 tile links to the resilience page; the demo's single points of failure are listed there.
    page.locator("#n1-spof-count").click()
    page.wait_for_url(f"**/sites/{site.pk}/resilience/")
    expect(page.locator("#spof-table")).to_be_visible()
    expect(page.locator("#spof-table")).to_contain_text("Legacy CRAH")
    shot(page, "31b-resilience-laptop")
    legacy = site.rooms.get(name="Legacy Hall")
    page.goto(f"/rooms/{legacy.pk}/?metric=free_u")
    shot(page, "32-floor-plan-laptop")
    page.goto(f"/place/?site={site.pk}&model=dgx-h100&quantity=6&suggest=1")
    expect(page.locator("#suggestion")).to_contain_text("Suggested racks")
    shot(page, "33-wizard-suggest")
    rack = Rack.objects.get(name="A1-05")
    page.goto(f"/racks/{rack.pk}/edit/")
    field(page, "Height (U)").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.has-error")).to_contain_text("greater than or equal to 1")
    shot(page, "34-form-error")
    page.goto(f"/racks/{rack.pk}/delete/")
    expect(page.locator("body")).to_contain_text("still holds 1 node")
    shot(page, "35-delete-confirm")
    assert page.js_errors == []
