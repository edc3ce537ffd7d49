"""The placement wizard, moving and removing nodes, and the feasibility page."""

import re

import pytest

from planner.models import Reservation
from racks.models import Node
from tests.web.conftest import build_site

pytestmark = pytest.mark.django_db

RULES = (
    "SPACE",
    "RACK_LOAD",
    "FLOOR_UNIFORM",
    "FLOOR_POINT",
    "FLOOR_ROLLING",
    "POWER_RACK",
    "POWER_REDUNDANCY",
    "POWER_UPSTREAM",
    "POWER_SITE",
    "PSU_FEED_LOSS",
    "POWER_OUTLETS",
    "POWER_PHASE",
    "COOLING_AIR_RACK",
    "COOLING_AIR_ROOM",
    "COOLING_AIRFLOW",
    "COOLING_LIQUID",
    "COOLING_LIQUID_REDUNDANCY",
    "COOLING_FLOW",
    "COOLING_TEMPERATURE",
    "FABRIC_PORTS",
    "FABRIC_REACH",
)


def statuses(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-code="([A-Z_]+)" data-status="(\w+)"', html))


def test_wizard_shows_every_rule_with_its_arithmetic(small_site, fac_client):
    rack = small_site["racks"][1]
    html = fac_client.get(f"/place/?rack={rack.pk}&model=dgx-h100&quantity=1").content.decode()
    assert set(statuses(html)) == set(RULES)
    assert "✓ Fits." in html and "at U9" in html
    # Two DGX H100 at 10.2 kW against 36.23 kW on the smaller side.
    assert re.search(r"20\.40? kW load &lt;= 36\.23 kW usable", html)


def test_over_limit_check_names_the_failing_rules_and_retrofits(small_site, fac_client):
    rack = small_site["racks"][1]
    html = fac_client.get(f"/place/check/?rack={rack.pk}&model=dgx-h100&quantity=3").content.decode()
    st = statuses(html)
    assert st["POWER_RACK"] == "fail" and st["COOLING_AIR_RACK"] == "fail" and st["SPACE"] == "ok"
    assert re.search(r"40\.80? kW load &gt; 36\.23 kW usable", html)
    assert "Does not fit." in html
    assert "Retrofit options that would unlock it" in html
    assert "<html" not in html  # a fragment


def test_commit_as_planned_and_installed(small_site, fac_client):
    rack = small_site["racks"][1]
    r = fac_client.post("/place/", {"rack": rack.pk, "model": "dgx-h100", "quantity": 1, "status": "planned"})
    assert r.status_code == 302 and r["Location"] == f"/racks/{rack.pk}/"
    node = Node.objects.filter(rack=rack).latest("id")
    assert (node.status, node.u_position, node.name) == ("planned", 9, "dgx-h100-2")
    page = fac_client.get(r["Location"]).content.decode()
    assert "Placed 1 x DGX H100 in K01 as planned (U9)." in page
    r = fac_client.post(
        "/place/", {"rack": rack.pk, "model": "cpu-2u", "quantity": 1, "status": "installed", "name": "web-1"}
    )
    assert r.status_code == 302
    assert Node.objects.get(rack=rack, name="web-1").status == "installed"


def test_commit_over_limit_is_409_with_the_failing_rules_and_writes_nothing(small_site, fac_client):
    rack = small_site["racks"][1]
    before = Node.objects.count()
    r = fac_client.post("/place/", {"rack": rack.pk, "model": "dgx-h100", "quantity": 3, "status": "planned"})
    assert r.status_code == 409
    html = r.content.decode()
    assert "Not placed:" in html and "<code>POWER_RACK</code>" in html
    assert statuses(html)["POWER_RACK"] == "fail"
    assert Node.objects.count() == before


def test_invalid_wizard_input_is_400_with_the_api_message(small_site, fac_client):
    rack = small_site["racks"][1]
    r = fac_client.post("/place/", {"rack": rack.pk, "model": "dgx-h100", "quantity": 0})
    assert r.status_code == 400 and "greater than or equal to 1" in r.content.decode()
    html = fac_client.get(f"/place/?rack={rack.pk}&model=dgx-h100&quantity=2&u_position=5").content.decode()
    assert "Give u_position only when placing one unit." in html
    r = fac_client.post("/place/", {"rack": rack.pk, "model": "cpu-2u", "quantity": 2, "name": "x"})
    assert r.status_code == 400 and "only when placing one unit" in r.content.decode()


def test_rack_link_preselects_the_rack_without_errors(small_site, fac_client):
    rack = small_site["racks"][1]
    html = fac_client.get(f"/place/?rack={rack.pk}").content.decode()
    assert f'<option value="{rack.pk}" selected>' in html
    assert "This field is required" not in html


def test_suggest_racks_uses_the_feasibility_plan(small_site, fac_client):
    site = small_site["site"]
    html = fac_client.get(f"/place/?site={site.pk}&model=dgx-h100&quantity=2&suggest=1").content.decode()
    assert "Suggested racks" in html and "This field is required" not in html
    assert re.search(r'href="/place/\?rack=\d+&amp;model=dgx-h100&amp;quantity=\d"', html)


def test_move_a_node_and_refuse_a_move_that_breaks_a_rule(small_site, fac_client):
    rack0, rack1 = small_site["racks"]
    node = rack0.nodes.get()
    form = {"rack": rack0.pk, "u_position": 20, "name": "moved", "status": "installed"}
    r = fac_client.post(f"/nodes/{node.pk}/edit/", form)
    assert r.status_code == 302
    node.refresh_from_db()
    assert (node.u_position, node.name) == (20, "moved")
    # Rack 1 (hot aisle, no rear door: 25 kW of air) takes a second DGX H100 (20.4 kW); a third moved in makes
    # 30.6 kW of air and breaks COOLING_AIR_RACK.
    r = fac_client.post("/place/", {"rack": rack1.pk, "model": "dgx-h100", "quantity": 1, "status": "planned"})
    assert r.status_code == 302
    r = fac_client.post(f"/nodes/{node.pk}/edit/", {**form, "rack": rack1.pk, "u_position": 30})
    assert r.status_code == 409
    html = r.content.decode()
    assert "Not moved:" in html and statuses(html)["COOLING_AIR_RACK"] == "fail"
    node.refresh_from_db()
    assert node.rack_id == rack0.pk


def test_remove_a_node(small_site, fac_client):
    node = small_site["racks"][0].nodes.get()
    assert "Delete node" in fac_client.get(f"/nodes/{node.pk}/delete/").content.decode()
    r = fac_client.post(f"/nodes/{node.pk}/delete/")
    assert r.status_code == 302 and not Node.objects.filter(pk=node.pk).exists()


def test_feasibility_answers_procurement_and_reserves_for_facilities(db, proc_client, fac_client):
    s = build_site(4)
    url = f"/feasibility/?site={s['site'].pk}&model=dgx-h100&quantity=50"
    html = proc_client.get(url).content.decode()
    assert "of 50 fit now" in html and "What binds for the rest" in html
    assert "<code>POWER_RACK</code>" in html or "<code>COOLING_AIR_RACK</code>" in html
    assert "IT load at max power" in html and "510.0 kW" in html  # 50 x 10.2 kW
    assert "Reserve these" not in html
    before = Node.objects.count()
    r = fac_client.post("/feasibility/", {"site": s["site"].pk, "model": "dgx-h100", "quantity": 3})
    reservation = Reservation.objects.get()  # one reservation holds the set (issue 16)
    assert r.status_code == 302 and r["Location"] == f"/reservations/{reservation.pk}/"
    assert reservation.quantity == 3 and reservation.nodes.count() == 3
    assert Node.objects.count() == before + 3
    assert Node.objects.filter(status="planned").count() == 3


def test_feasibility_form_errors(fac_client, small_site):
    r = fac_client.get(f"/feasibility/?site={small_site['site'].pk}&model=nope&quantity=0")
    assert r.status_code == 400
    html = r.content.decode()
    assert "Select a valid choice" in html and "greater than or equal to 1" in html


def test_feasibility_link_with_only_a_site_is_a_blank_question_for_that_site(fac_client, small_site):
    # The dashboard's "Feasibility" button names the site only: the form opens with it chosen, not a 400.
    pk = small_site["site"].pk
    r = fac_client.get(f"/feasibility/?site={pk}")
    assert r.status_code == 200
    html = r.content.decode()
    assert re.search(rf'<option value="{pk}"[^>]*selected', html)
    assert "This field is required" not in html
    assert fac_client.get(f"/feasibility/?site={pk}&model=").status_code == 400  # a half-asked question


def test_page_and_api_offer_retrofits_for_a_power_only_failure(small_site, fac_client, api):
    # One 32 A single-phase PDU per side (230 V x 32 A x 0.8 = 5.89 kW) and 1 x H100 (10.2 kW): only
    # POWER_RACK fails. Before: the API offered retrofits (any rule failing), the page only for cooling rules.
    rack = small_site["racks"][1]
    for p in rack.pdus.all():
        p.phases, p.voltage_v, p.current_a = 1, 230.0, 32.0
        p.save()
    Node.objects.filter(rack=rack).delete()
    body = api.post("/api/v1/placements/check/", {"rack": rack.pk, "model": "dgx-h100"}, format="json").json()
    failing = [c["code"] for c in body["checks"] if c["status"] == "fail"]
    assert failing == ["POWER_RACK"]
    html = fac_client.get(f"/place/check/?rack={rack.pk}&model=dgx-h100&quantity=1").content.decode()
    assert bool(body["retrofits"]) is True
    assert "Retrofit options that would unlock it" in html


def _legacy_hall_rack(small_site):
    """A legacy-hall rack: one 208 V 30 A three-phase PDU per side (208 x 30 x sqrt(3) x 0.8 / 1000 =
    8.65 kW usable per side), open aisles, empty."""
    rack = small_site["racks"][1]
    for p in rack.pdus.all():
        p.phases, p.voltage_v, p.current_a = 3, 208.0, 30.0
        p.save()
    rack.row.containment = "none"
    rack.row.save()
    Node.objects.filter(rack=rack).delete()
    return rack


def test_legacy_hall_power_retrofit_first_on_api_and_page(small_site, fac_client, api):
    # 4 x DGX B200 = 4 x 14.3 = 57.2 kW > 8.65 kW per side (208 x 30 x sqrt(3) x 0.8 x PF 1.0 / 1000 = 8.646
    # kW): POWER_RACK fails, and the 10 kW open-aisle air limit: COOLING_AIR_RACK. No single option resolves
    # both, so the first option is a combined plan: replace the PDUs (n = ceil(57.2 / 36.228) = 2 of 415 V
    # 63 A per side) with a cooling option, re-checked together by the engine: both rules resolved.
    rack = _legacy_hall_rack(small_site)
    body = api.post(
        "/api/v1/placements/check/", {"rack": rack.pk, "model": "dgx-b200", "quantity": 4}, format="json"
    ).json()
    failing = [c["code"] for c in body["checks"] if c["status"] == "fail"]
    assert "POWER_RACK" in failing and "COOLING_AIR_RACK" in failing
    first = body["retrofits"][0]
    assert "POWER_RACK" in first["resolves"]
    assert first["kind"] == "combined" and first["combines"][0] == "replace_pdus"
    assert set(failing) <= set(first["resolves"]) and first["still_failing"] == []
    assert first["pdus_per_side"] == 2
    assert first["pdu_usable_kw"] == pytest.approx(415 * 63 * 3**0.5 * 0.8 / 1000)
    assert first["capex_usd"] is None and "unsourced" in first["notes"]
    assert "re-checked by the engine with both retrofits" in first["notes"]
    single = next(o for o in body["retrofits"] if o["kind"] == "replace_pdus")
    assert single["resolves"] == ["POWER_RACK"] and "COOLING_AIR_RACK" in single["still_failing"]
    for option in body["retrofits"]:
        assert not (option["recommended"] and not option["resolves"])
    get = api.get(f"/api/v1/racks/{rack.pk}/retrofits/?model=dgx-b200&quantity=4").json()
    api_kinds = [(o["kind"], o["combines"]) for o in body["retrofits"]]
    assert [(o["kind"], o["combines"]) for o in get["options"]] == api_kinds
    response = fac_client.get(f"/place/check/?rack={rack.pk}&model=dgx-b200&quantity=4")
    rows = response.context["retrofits"]
    assert [(o["kind"], o["combines"]) for o in rows["applicable"] + rows["other"]] == api_kinds
    html = response.content.decode()
    assert "Replace rack PDUs + " in html
    assert html.index("Replace rack PDUs + ") < html.index("Replace rack PDUs</th>")


def test_rack_page_power_retrofit_for_the_installed_load(small_site, fac_client):
    # the same legacy rack with the 4 x DGX B200 already installed: the rack page's first option
    rack = _legacy_hall_rack(small_site)
    from racks.models import NodeModel

    b200 = NodeModel.objects.get(slug="dgx-b200")
    for i in range(4):
        Node.objects.create(rack=rack, model=b200, u_position=1 + 10 * i, name=f"b200-{i}", status="installed")
    response = fac_client.get(f"/racks/{rack.pk}/")
    rows = response.context["retrofits"]
    first = rows["applicable"][0]
    assert "POWER_RACK" in first["resolves"] and first["pdus_per_side"] == 2
    assert first["kind"] == "combined" and first["combines"][0] == "replace_pdus" and first["still_failing"] == []
    assert not any(o["recommended"] and not o["resolves"] for o in rows["applicable"] + rows["other"])


def test_clean_rack_offers_no_retrofit(small_site, fac_client, api):
    rack = small_site["racks"][1]
    body = api.post("/api/v1/placements/check/", {"rack": rack.pk, "model": "dgx-h100"}, format="json").json()
    assert [c for c in body["checks"] if c["status"] == "fail"] == []
    assert body["retrofits"] == []
    html = fac_client.get(f"/place/check/?rack={rack.pk}&model=dgx-h100&quantity=1").content.decode()
    assert "Fits" in html or "fits" in html
    assert "Retrofit options that would unlock it" not in html and "Replace rack PDUs" not in html
