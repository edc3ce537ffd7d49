"""Power and combined retrofit plans on a legacy hall, through the API, the pages and feasibility (issue 14).

The legacy hall: one 208 V 30 A three-phase PDU per side, open aisles. Usable per side (reference §4.4 /
§4.6, S [S33]): usable_kw = V x A x sqrt(3) x derating x PF / 1000 = 208 x 30 x 1.7321 x 0.8 x 1.0 / 1000
= 8.646 kW. Four DGX B200 at 14.3 kW max each (§1.1 P [S2]) = 57.2 kW > 8.646 kW: POWER_RACK fails.
"""

import pytest
from django.test import Client

from racks.models import Node, PowerSource
from tests.web.conftest import build_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def fac_client(facilities_user) -> Client:
    client = Client()
    client.force_login(facilities_user)
    return client


LEGACY_PDU_KW = 208 * 30 * 3**0.5 * 0.8 * 1.0 / 1000  # 8.646 kW
TARGET_PDU_KW = 415 * 63 * 3**0.5 * 0.8 * 1.0 / 1000  # 36.228 kW (415 V 63 A, §4.6)
B200_X4_KW = 4 * 14.3  # 57.2 kW
POWER_KINDS = {"replace_pdus", "add_pdus", "busway_tap_off", "upstream_capacity", "utility_upgrade"}


def legacy_hall(**site_fields):
    """build_site(2) turned legacy: 208 V 30 A three-phase PDUs, raised floor, open aisles, no nodes. Rack 0 has a 50 kW
    rear door (57.2 - 50 = 7.2 kW <= 10 kW open-aisle limit: air passes), rack 1 none (57.2 > 10: fails)."""
    s = build_site(2)
    for field, value in site_fields.items():
        setattr(s["site"], field, value)
    s["site"].save()
    for rack in s["racks"]:
        for p in rack.pdus.all():
            p.phases, p.voltage_v, p.current_a = 3, 208.0, 30.0
            p.save()
    for row in s["rows"]:
        row.containment = "none"
        row.save()
    s["room"].floor_type = "raised"  # no tile rating recorded: FLOOR_POINT warns, never fails
    s["room"].save()
    Node.objects.all().delete()
    return s


def test_worked_figures():
    assert abs(LEGACY_PDU_KW - 8.646) < 1e-3 and abs(TARGET_PDU_KW - 36.228) < 1e-3
    assert abs(B200_X4_KW / TARGET_PDU_KW - 1.579) < 1e-3  # -> 2 PDUs per side


def test_combined_plan_for_a_rack_failing_power_and_air(api, fac_client):
    s = legacy_hall()
    rack = s["racks"][1]
    body = api.get(f"/api/v1/racks/{rack.pk}/retrofits/?model=dgx-b200&quantity=4").json()
    options = body["options"]
    first = options[0]
    # POWER_RACK and COOLING_AIR_RACK fail; the combination resolves both, re-checked on one rack
    assert first["kind"] == "combined" and first["combines"] == ["replace_pdus", "rear_door_active"]
    assert {"POWER_RACK", "COOLING_AIR_RACK"} <= set(first["resolves"]) and first["still_failing"] == []
    assert first["pdus_per_side"] == 2 and first["pdu_usable_kw"] == pytest.approx(TARGET_PDU_KW)
    assert not any(o["recommended"] and not o["resolves"] for o in options)
    full = [i for i, o in enumerate(options) if o["resolves_all_failing"]]
    partial = [i for i, o in enumerate(options) if not o["resolves_all_failing"]]
    assert max(full) < min(partial)
    # the same options in the same order for a target load of the same kW, and on the rack page
    by_target = api.get(f"/api/v1/racks/{rack.pk}/retrofits/?target_kw={B200_X4_KW}").json()["options"]
    assert by_target[0]["kind"] == "combined" and "POWER_RACK" in by_target[0]["resolves"]
    page = fac_client.get(f"/racks/{rack.pk}/?model=dgx-b200&quantity=4")
    assert page.status_code == 200
    rows = page.context["retrofits"]
    assert [(o["kind"], o["combines"]) for o in rows["applicable"] + rows["other"]] == [
        (o["kind"], o["combines"]) for o in options
    ]
    html = page.content.decode()
    assert "Replace rack PDUs + Active rear-door heat exchanger" in html
    page = fac_client.get(f"/racks/{rack.pk}/?target_kw={B200_X4_KW}")
    rows = page.context["retrofits"]
    assert [(o["kind"], o["combines"]) for o in rows["applicable"] + rows["other"]] == [
        (o["kind"], o["combines"]) for o in by_target
    ]


def test_rack_page_plan_form_rejects_bad_input(fac_client):
    s = legacy_hall()
    rack = s["racks"][1]
    for query in ("target_kw=nan", "target_kw=-1", "model=nope&quantity=1", "model=dgx-b200&target_kw=5", "bogus=1"):
        assert fac_client.get(f"/racks/{rack.pk}/?{query}").status_code == 400, query
    html = fac_client.get(f"/racks/{rack.pk}/?bogus=1").content.decode()
    assert "Unknown parameter(s): bogus." in html
    html = fac_client.get(f"/racks/{rack.pk}/?target_kw=nan").content.decode()
    assert 'role="alert"' in html and "Retrofit options for" not in html
    html = fac_client.get(f"/racks/{rack.pk}/").content.decode()
    assert "Plan a retrofit" in html and "Choose a model and a quantity" in html  # the empty state


def test_add_pdus_on_the_existing_ups(api):
    # the UPS (4,000 kW) has the headroom: add n = ceil((57.2 - 8.646) / 8.646) = 6 PDUs per side of 208 V 30 A
    s = legacy_hall()
    rack = s["racks"][0]
    options = api.get(f"/api/v1/racks/{rack.pk}/retrofits/?model=dgx-b200&quantity=4").json()["options"]
    kinds = {o["kind"]: o for o in options if o["kind"] != "combined"}
    add = kinds["add_pdus"]
    assert add["applicable"] and add["resolves"] == ["POWER_RACK"] and add["pdus_added_per_side"] == {"A": 6, "B": 6}
    # rack 0 fails only POWER_RACK (its rear door carries the air): the first option resolves it, no combination
    assert options[0]["kind"] == "replace_pdus" and options[0]["resolves"] == ["POWER_RACK"]
    assert not any(o["kind"] == "combined" for o in options)


def test_busway_tap_off_on_the_site_busway(api):
    # a 400 kW busway under the utility, derated 0.8 (derate_distribution, §4.5): 400 x 0.8 = 320 kW usable,
    # nothing on it yet: headroom 320 kW >= 57.2 kW
    s = legacy_hall(derate_distribution=True)
    utility = PowerSource.objects.get(site=s["site"], kind="utility")
    PowerSource.objects.create(site=s["site"], name="Busway-1", kind="busway", capacity_kw=400, parent=utility)
    rack = s["racks"][0]
    options = api.get(f"/api/v1/racks/{rack.pk}/retrofits/?model=dgx-b200&quantity=4").json()["options"]
    tap = next(o for o in options if o["kind"] == "busway_tap_off")
    assert tap["applicable"] and tap["resolves"] == ["POWER_RACK"] and tap["busways"] == ["Busway-1", "Busway-1"]
    assert "320.00 kW headroom" in tap["notes"] and tap["pdus_per_side"] == 2
    assert "re-checked by the engine" in tap["notes"]
    # the placement check answers the same options in the same order
    body = api.post(
        "/api/v1/placements/check/", {"rack": rack.pk, "model": "dgx-b200", "quantity": 4}, format="json"
    ).json()
    assert [(o["kind"], o["combines"]) for o in body["retrofits"]] == [(o["kind"], o["combines"]) for o in options]


def test_feasibility_offers_power_and_combined_retrofits(api, fac_client):
    # 8 x DGX B200 on the legacy hall: nothing fits (14.3 kW > 8.646 kW per side). Rack 0 (row R1) is bound
    # by POWER_RACK alone: a PDU replacement unlocks 4; rack 1 (row R2) by POWER_RACK and COOLING_AIR_RACK:
    # the combined plan unlocks 4 more.
    s = legacy_hall()
    body = api.post(
        "/api/v1/feasibility/", {"site": s["site"].pk, "model": "dgx-b200", "quantity": 8}, format="json"
    ).json()
    assert body["placed"] == 0 and body["binding"]["POWER_RACK"] == 2
    by_row = {r["row_name"]: r for r in body["retrofits"]}
    r1, r2 = by_row["R1"], by_row["R2"]
    assert r1["unlocks"] == 4 and r1["kind"] == "replace_pdus" and r1["resolves"] == ["POWER_RACK"]
    assert r1["still_failing"] == [] and r1["combines"] == []
    assert r2["unlocks"] == 4 and r2["kind"] == "combined" and r2["combines"] == ["replace_pdus", "rear_door_active"]
    assert set(r2["resolves"]) == {"COOLING_AIR_RACK", "POWER_RACK"} and r2["still_failing"] == []
    assert {"row", "row_name", "racks", "unlocks", "resolves", "kind", "capex_usd", "notes"} <= set(r1)
    html = fac_client.get(f"/feasibility/?site={s['site'].pk}&model=dgx-b200&quantity=8").content.decode()
    assert "Replace rack PDUs + Active rear-door heat exchanger" in html and "Replace rack PDUs</td>" in html
