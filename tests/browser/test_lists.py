"""Issue 16 in a real browser: a 6-rack row with A+B PDUs and a liquid loop in three forms; a CSV import whose
bad line the preview names (nothing written), then a good file; a rack found from the header's search box; four
units reserved through feasibility and released as a set."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cooling.models import CoolingLoop
from planner.models import Reservation
from racks.models import Node, Pdu, PowerSource, Rack, Room, Row, Site
from tests.browser.conftest import log_in, make_user
from tests.web.conftest import build_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_row_of_six_racks_with_pdus_and_a_liquid_loop_in_three_forms(new_page, shot):
    make_user("engineer", "facilities")
    site = Site.objects.create(name="Hall site", slug="hall-site")
    PowerSource.objects.create(site=site, name="UPS-A", kind="ups", capacity_kw=800)
    PowerSource.objects.create(site=site, name="UPS-B", kind="ups", capacity_kw=800)
    room = Room.objects.create(site=site, name="Hall 1", floor_type="slab", floor_rated_load_kg_m2=1224)
    page = new_page()
    log_in(page, "engineer")

    # Form 1: the row
    page.goto(f"/rows/new/?room={room.pk}")
    page.fill("[name=name]", "R1")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/rooms/{room.pk}/")
    row = Row.objects.get(room=room, name="R1")

    # Form 2: six racks with an A and a B PDU each
    page.get_by_role("link", name="Add racks… (a row of racks with PDUs) to R1").click()
    page.wait_for_url(f"**/rows/{row.pk}/racks/bulk/")
    expect(page.locator("[name=first_position]")).to_have_value("1")
    page.fill("[name=count]", "6")
    page.fill("[name=name_prefix]", "R1-")
    page.fill("[name=max_load_kg]", "1400")
    page.fill("[name=empty_weight_kg]", "150")
    page.fill("[name=pdu_current_a]", "63")
    page.select_option("[name=source_a]", label="UPS-A")
    page.select_option("[name=source_b]", label="UPS-B")
    shot(page, "issue16-bulk-racks-form")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/rooms/{room.pk}/")
    expect(page.locator(".messages")).to_contain_text("Created 6 racks in row R1: R1-01 to R1-06")

    # Form 3: a direct-liquid loop serving the six racks (ticked in the room's checkbox list)
    page.goto(f"/cooling-loops/new/?site={site.pk}&room={room.pk}")
    page.fill("[name=name]", "CDU-1")
    page.select_option("[name=kind]", "direct_liquid")
    page.fill("[name=unit_capacity_kw]", "400")
    page.fill("[name=units]", "2")
    page.fill("[name=redundant_units]", "1")
    page.fill("[name=supply_temp_c]", "30")
    page.select_option("[name=fluid]", "pg25")
    for n in range(1, 7):
        page.get_by_label(f"R1 / R1-0{n}").check()
    shot(page, "issue16-loop-checkboxes")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/sites/*/**")

    racks = Rack.objects.filter(row=row).order_by("position")
    assert [(r.name, r.position) for r in racks] == [(f"R1-0{i}", i) for i in range(1, 7)]
    assert Pdu.objects.filter(rack__row=row).count() == 12
    assert set(Pdu.objects.filter(rack__row=row, side="B").values_list("source__name", flat=True)) == {"UPS-B"}
    assert CoolingLoop.objects.get(name="CDU-1").racks.count() == 6
    assert not page.js_errors


def test_import_racks_with_a_bad_line_then_a_good_file(new_page, shot, tmp_path):
    make_user("engineer", "facilities")
    s = build_site(2)
    row = s["rows"][0]
    good = "row,name,position,max_load_kg,empty_weight_kg\n" + "".join(
        f"{row.pk},CSV-{i},{30 + i},1400,150\n" for i in range(1, 5)
    )
    bad = good.replace("CSV-2,32,1400", "CSV-2,32,heavy")
    (tmp_path / "bad.csv").write_text(bad)
    (tmp_path / "good.csv").write_text(good)
    before = Rack.objects.count()
    page = new_page()
    log_in(page, "engineer")
    page.goto("/lists/racks/")
    page.get_by_role("link", name="Import…").click()
    page.get_by_label("CSV or XLSX file").set_input_files(str(tmp_path / "bad.csv"))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#import-errors")).to_contain_text("Nothing was written: 1 line is bad")
    expect(page.locator("#import-errors")).to_contain_text("Line 3: max_load_kg")
    shot(page, "issue16-import-bad-line")
    assert Rack.objects.count() == before
    page.get_by_label("CSV or XLSX file").set_input_files(str(tmp_path / "good.csv"))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#import-preview")).to_contain_text("all 4 lines are good")
    assert Rack.objects.count() == before
    page.get_by_role("button", name="Import 4 lines").click()
    page.wait_for_url("**/lists/racks/")
    expect(page.locator(".messages")).to_contain_text("4 created")
    assert Rack.objects.count() == before + 4
    assert not page.js_errors


def test_search_a_rack_from_the_header(new_page):
    make_user("engineer", "facilities")
    s = build_site(3)
    page = new_page()
    log_in(page, "engineer")
    box = page.get_by_label("Quick find")
    box.fill("K02")
    box.press("Enter")
    page.wait_for_url("**/search/?q=K02")
    page.get_by_role("link", name="Hall site / Hall 1 / R1 / K02").click()
    page.wait_for_url(f"**/racks/{s['racks'][2].pk}/")
    expect(page.locator("h1")).to_contain_text("Rack K02")


def test_reserve_four_units_through_feasibility_and_release_them_as_a_set(new_page, shot):
    make_user("engineer", "facilities")
    s = build_site(4)
    page = new_page()
    log_in(page, "engineer")
    page.goto(f"/sites/{s['site'].pk}/")
    page.get_by_role("link", name="Feasibility", exact=True).last.click()
    page.wait_for_url("**/feasibility/?site=*")
    expect(page.get_by_text("This field is required")).to_have_count(0)  # the 400 of the bug
    page.select_option("[name=model]", "cpu-2u")
    page.fill("[name=quantity]", "4")
    page.get_by_role("button", name="Ask").click()
    page.get_by_role("button", name="Reserve these 4 placements as planned nodes").click()
    page.wait_for_url("**/reservations/*/")
    reservation = Reservation.objects.get()
    expect(page.locator("#reservation-status")).to_have_text("held")
    assert Node.objects.filter(status="planned").count() == 4
    page.goto("/reservations/")
    expect(page.locator(f"#reservation-{reservation.pk}")).to_contain_text("4 \u00d7 ")
    shot(page, "issue16-reservations")
    page.locator(f"#reservation-{reservation.pk}").get_by_role("button", name="Release all 4").click()
    page.wait_for_url(f"**/reservations/{reservation.pk}/")
    expect(page.locator("#reservation-status")).to_have_text("released")
    expect(page.locator("#history")).to_contain_text("deleted")
    assert Node.objects.filter(status="planned").count() == 0
    assert not page.js_errors
