"""Nothing moves to another site (or room) while the old one still refers to it (issue 12, point 2).

Two sites, Alpha and Beta. Alpha's UPS feeds a PDU of rack R-A1; Alpha's liquid loop (room Hall A1) lists that
rack. Each move that would leave a reference across sites or rooms is tried through the API, the web form and
the Django admin: each answers 400 (the admin: its form error) naming the conflict, and nothing changes, the
site budget tokens and the audit history included. The clean moves beside them still succeed.
"""

from __future__ import annotations

import html
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cooling.models import CoolingLoop
from planner import transfer
from racks.models import Pdu, PowerSource, Rack, Room, Row, Site
from tests import factories as f

pytestmark = pytest.mark.django_db

MODELS = (Site, Room, Row, Rack, PowerSource, Pdu, CoolingLoop)


@pytest.fixture
def w():
    alpha = f.SiteFactory(name="Alpha", slug="alpha")
    beta = f.SiteFactory(name="Beta", slug="beta")
    hall_a1 = f.RoomFactory(site=alpha, name="Hall A1")
    hall_a2 = f.RoomFactory(site=alpha, name="Hall A2")
    hall_b1 = f.RoomFactory(site=beta, name="Hall B1")
    row_a1 = f.RowFactory(room=hall_a1, name="Row A1")
    row_a2 = f.RowFactory(room=hall_a2, name="Row A2")
    row_b1 = f.RowFactory(room=hall_b1, name="Row B1")
    ups_a = f.PowerSourceFactory(site=alpha, name="UPS-A", capacity_kw=4)
    spare_a = f.PowerSourceFactory(site=alpha, name="Spare-A", capacity_kw=100)
    ups_b = f.PowerSourceFactory(site=beta, name="UPS-B", capacity_kw=500)
    rack = f.RackFactory(row=row_a1, name="R-A1")
    pdu = f.PduFactory(rack=rack, name="PDU-A1", source=ups_a)
    loose = f.RackFactory(row=row_a1, name="R-A1-loose")  # no loop lists it; its PDU has no source
    f.PduFactory(rack=loose, name="PDU-loose", source=None)
    neighbour = f.RackFactory(row=row_a1, name="R-A1-next")
    other_room_rack = f.RackFactory(row=row_a2, name="R-A2")
    beta_rack = f.RackFactory(row=row_b1, name="R-B1")
    cdu = f.CoolingLoopFactory(
        site=alpha, room=hall_a1, name="CDU-A", kind="direct_liquid", fluid="water", unit_capacity_kw=200
    )
    cdu.racks.add(rack)
    return locals()


def snapshot() -> dict:
    """Every row of the physical model, the loop links, each site's budget token and the audit row counts."""
    state = {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}
    state["links"] = sorted(CoolingLoop.racks.through.objects.values_list("coolingloop_id", "rack_id"))
    state["history"] = {model.__name__: model.history.count() for model in MODELS}
    return state


def form_data(obj, **changes) -> dict:
    """The object's editable fields as a browser would post them, with ``changes``."""
    data = model_to_dict(obj)
    data.update(changes)
    out = {}
    for key, value in data.items():
        if isinstance(value, (list, tuple)):
            out[key] = [getattr(v, "pk", v) for v in value]
        elif hasattr(value, "pk"):
            out[key] = value.pk
        else:
            out[key] = "" if value is None else value
    return out


def api_data(obj, **changes) -> dict:
    return {key: (None if value == "" else value) for key, value in form_data(obj, **changes).items()}


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def web(facilities_user) -> Client:
    client = Client()
    client.force_login(facilities_user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def errors_of(response) -> dict:
    """Field errors of a 400 in the API's one error shape (``{status, code, detail, errors}``)."""
    return response.json()["errors"]


def flat(errors) -> str:
    """Every message of an error structure (dicts and lists of strings), as one text."""
    if isinstance(errors, dict):
        return " | ".join(flat(v) for v in errors.values())
    if isinstance(errors, (list, tuple)):
        return " | ".join(flat(v) for v in errors)
    return str(errors)


ADMIN_URL = {
    PowerSource: "/admin/racks/powersource/{}/change/",
    Rack: "/admin/racks/rack/{}/change/",
    Row: "/admin/racks/row/{}/change/",
    Room: "/admin/racks/room/{}/change/",
    Pdu: "/admin/racks/pdu/{}/change/",
    CoolingLoop: "/admin/cooling/coolingloop/{}/change/",
}
WEB_KIND = {PowerSource: "power-sources", Rack: "racks", Row: "rows", Room: "rooms", Pdu: "pdus",
            CoolingLoop: "cooling-loops"}  # fmt: skip


def rack_inline(rack) -> dict:
    """The rack admin's PDU inline, unchanged."""
    pdus = list(rack.pdus.order_by("pk"))
    data = {
        "pdus-TOTAL_FORMS": len(pdus),
        "pdus-INITIAL_FORMS": len(pdus),
        "pdus-MIN_NUM_FORMS": 0,
        "pdus-MAX_NUM_FORMS": 1000,
    }
    for i, pdu in enumerate(pdus):
        for key, value in form_data(pdu).items():
            data[f"pdus-{i}-{key}"] = value
    return data


def via_admin(client, obj, **changes):
    data = form_data(obj, **changes)
    if isinstance(obj, Rack):
        data.update(rack_inline(obj))
    return client.post(ADMIN_URL[type(obj)].format(obj.pk), {**data, "_save": "Save"})


def via_web(client, obj, **changes):
    return client.post(f"/{WEB_KIND[type(obj)]}/{obj.pk}/edit/", form_data(obj, **changes))


def assert_admin_refused(response, *needles):
    assert response.status_code == 200, response.status_code  # the admin re-shows the form with its errors
    page = text(response)
    assert "Please correct the error" in page
    for needle in needles:
        assert needle in page, needle


# --- a power source moved to another site -------------------------------------------------------------------

SOURCE_CONFLICT = ('Power source "UPS-A" cannot belong to site "Beta"', 'PDU "PDU-A1" of rack "R-A1" (site "Alpha")')


def test_source_feeding_pdus_cannot_move_api(api, w):
    before = snapshot()
    r = api.patch(f"/api/v1/power-sources/{w['ups_a'].pk}/", {"site": w["beta"].pk}, format="json")
    assert r.status_code == 400, r.data
    assert all(needle in flat(errors_of(r)["site"]) for needle in SOURCE_CONFLICT), r.data
    assert snapshot() == before


def test_source_feeding_pdus_cannot_move_web(web, w):
    before = snapshot()
    r = via_web(web, w["ups_a"], site=w["beta"])
    assert r.status_code == 400
    assert all(needle in text(r) for needle in SOURCE_CONFLICT)
    assert snapshot() == before


def test_source_feeding_pdus_cannot_move_admin(admin_client, w):
    before = snapshot()
    assert_admin_refused(via_admin(admin_client, w["ups_a"], site=w["beta"]), *SOURCE_CONFLICT)
    assert snapshot() == before


def test_source_with_children_cannot_move(api, w):
    panel = f.PowerSourceFactory(site=w["alpha"], name="Panel-A", kind="panel", parent=w["spare_a"])
    before = snapshot()
    r = api.patch(f"/api/v1/power-sources/{w['spare_a'].pk}/", {"site": w["beta"].pk}, format="json")
    assert r.status_code == 400
    assert f'power source "{panel}" (site "Alpha")' in flat(errors_of(r)["site"])
    assert snapshot() == before


def test_parent_of_another_site_is_refused_everywhere(api, admin_client, w):
    before = snapshot()
    r = api.patch(f"/api/v1/power-sources/{w['spare_a'].pk}/", {"parent": w["ups_b"].pk}, format="json")
    assert r.status_code == 400
    assert 'Parent "UPS-B" is a power source of site "Beta", not of site "Alpha"' in flat(errors_of(r)["parent"])
    assert_admin_refused(via_admin(admin_client, w["spare_a"], parent=w["ups_b"]), 'Parent "UPS-B"')
    with pytest.raises(ValidationError) as exc:
        PowerSource(site=w["alpha"], name="X", kind="panel", capacity_kw=1, parent=w["ups_b"]).full_clean()
    assert "parent" in exc.value.message_dict
    assert snapshot() == before


def test_a_parent_loop_is_still_refused(api, w):
    panel = f.PowerSourceFactory(site=w["alpha"], name="Panel-A", kind="panel", parent=w["spare_a"])
    r = api.patch(f"/api/v1/power-sources/{w['spare_a'].pk}/", {"parent": panel.pk}, format="json")
    assert r.status_code == 400 and "loop" in flat(errors_of(r)["parent"])


def test_source_with_nothing_attached_moves(api, web, admin_client, w):
    r = api.patch(f"/api/v1/power-sources/{w['spare_a'].pk}/", {"site": w["beta"].pk}, format="json")
    assert r.status_code == 200, r.data
    assert PowerSource.objects.get(pk=w["spare_a"].pk).site_id == w["beta"].pk
    r = via_web(web, PowerSource.objects.get(pk=w["spare_a"].pk), site=w["alpha"])
    assert r.status_code == 302
    r = via_admin(admin_client, PowerSource.objects.get(pk=w["spare_a"].pk), site=w["beta"])
    assert r.status_code == 302
    assert PowerSource.objects.get(pk=w["spare_a"].pk).site_id == w["beta"].pk


def test_the_4kw_ups_keeps_binding(api, w):
    """The reported case: 10 kW was accepted behind a 4 kW UPS once it had moved away. It cannot move, so its
    PDU's rack is still checked against it."""
    api.patch(f"/api/v1/power-sources/{w['ups_a'].pk}/", {"site": w["beta"].pk}, format="json")
    r = api.post("/api/v1/placements/check/", {"rack": w["rack"].pk, "model": "dgx-h100"}, format="json")
    upstream = [c for c in r.data["checks"] if c["code"] == "POWER_UPSTREAM"]
    assert upstream and upstream[0]["status"] == "fail", r.data["checks"]


# --- a rack moved to another site's row (or another room) ---------------------------------------------------

RACK_CONFLICT = (
    'Rack "R-A1" cannot move to row "Row B1" (room "Hall B1", site "Beta")',
    'PDU "PDU-A1" of rack "R-A1" is fed by power source "UPS-A" of site "Alpha"',
    'cooling loop "CDU-A" of site "Alpha", room "Hall A1" serves it',
)


def test_wired_rack_cannot_move_to_another_site_api(api, w):
    before = snapshot()
    r = api.patch(f"/api/v1/racks/{w['rack'].pk}/", {"row": w["row_b1"].pk}, format="json")
    assert r.status_code == 400, r.data
    assert all(needle in flat(errors_of(r)["row"]) for needle in RACK_CONFLICT), r.data
    assert snapshot() == before


def test_wired_rack_cannot_move_to_another_site_admin(admin_client, w):
    before = snapshot()
    assert_admin_refused(via_admin(admin_client, w["rack"], row=w["row_b1"]), *RACK_CONFLICT)
    assert snapshot() == before


def test_wired_rack_cannot_move_web(web, w):
    before = snapshot()
    # The page offers only its own site's rows: another site's row is refused as an invalid choice ...
    r = via_web(web, w["rack"], row=w["row_b1"])
    assert r.status_code == 400 and "Select a valid choice" in text(r)
    # ... and a row of another room, with the loop of the old room listing the rack, names the conflict.
    r = via_web(web, w["rack"], row=w["row_a2"])
    assert r.status_code == 400
    page = text(r)
    assert 'Rack "R-A1" cannot move to row "Row A2" (room "Hall A2", site "Alpha")' in page
    assert 'cooling loop "CDU-A" of site "Alpha", room "Hall A1" serves it' in page
    assert "PDU-A1" not in page.split("cannot move", 1)[1].split("Re-point", 1)[0]  # same site: the PDU may stay
    assert snapshot() == before


def test_unwired_rack_moves_to_another_site(api, web, admin_client, w):
    r = api.patch(f"/api/v1/racks/{w['loose'].pk}/", {"row": w["row_b1"].pk}, format="json")
    assert r.status_code == 200, r.data
    assert Rack.objects.get(pk=w["loose"].pk).row_id == w["row_b1"].pk
    r = via_admin(admin_client, Rack.objects.get(pk=w["loose"].pk), row=w["row_a1"])
    assert r.status_code == 302, text(r)
    r = via_web(web, Rack.objects.get(pk=w["loose"].pk), row=w["row_a2"])
    assert r.status_code == 302
    assert Rack.objects.get(pk=w["loose"].pk).row_id == w["row_a2"].pk


def test_rack_moves_once_unwired_then_rewired(api, w):
    """The way to move a wired rack: clear its PDUs' source and loop, move it, wire it in the new site."""
    assert api.patch(f"/api/v1/pdus/{w['pdu'].pk}/", {"source": None}, format="json").status_code == 200
    assert api.patch(f"/api/v1/cooling-loops/{w['cdu'].pk}/", {"racks": []}, format="json").status_code == 200
    assert api.patch(f"/api/v1/racks/{w['rack'].pk}/", {"row": w["row_b1"].pk}, format="json").status_code == 200
    r = api.patch(f"/api/v1/pdus/{w['pdu'].pk}/", {"source": w["ups_b"].pk}, format="json")
    assert r.status_code == 200, r.data


# --- a row or a room moved to another site ------------------------------------------------------------------


def test_row_cannot_move_to_another_site(api, web, admin_client, w):
    before = snapshot()
    needles = (
        'Row "Row A1" cannot move to room "Hall B1" of site "Beta"',
        'PDU "PDU-A1" of rack "R-A1" is fed by power source "UPS-A" of site "Alpha"',
        'cooling loop "CDU-A"',
    )
    r = api.patch(f"/api/v1/rows/{w['row_a1'].pk}/", {"room": w["hall_b1"].pk}, format="json")
    assert r.status_code == 400 and all(n in flat(errors_of(r)["room"]) for n in needles), r.data
    assert_admin_refused(via_admin(admin_client, w["row_a1"], room=w["hall_b1"]), *needles)
    r = via_web(web, w["row_a1"], room=w["hall_a2"])  # the page offers its own site's rooms
    assert r.status_code == 400 and 'Row "Row A1" cannot move to room "Hall A2"' in text(r)
    assert snapshot() == before
    r = api.patch(f"/api/v1/rows/{w['row_a2'].pk}/", {"room": w["hall_b1"].pk}, format="json")
    assert r.status_code == 200, r.data  # nothing of Alpha refers to Row A2's rack


def test_room_cannot_move_to_another_site(api, web, admin_client, w):
    before = snapshot()
    needles = ('Room "Hall A1" cannot move to site "Beta"', 'PDU "PDU-A1"', 'cooling loop "CDU-A" of site "Alpha"')
    r = api.patch(f"/api/v1/rooms/{w['hall_a1'].pk}/", {"site": w["beta"].pk}, format="json")
    assert r.status_code == 400 and all(n in flat(errors_of(r)["site"]) for n in needles), r.data
    assert_admin_refused(via_admin(admin_client, w["hall_a1"], site=w["beta"]), *needles)
    r = via_web(web, w["hall_a1"], site=w["beta"])
    assert r.status_code == 400 and all(n in text(r) for n in needles)
    assert snapshot() == before
    r = api.patch(f"/api/v1/rooms/{w['hall_a2'].pk}/", {"site": w["beta"].pk}, format="json")
    assert r.status_code == 200, r.data


def test_room_with_its_own_loop_cannot_move(api, w):
    crah = f.CoolingLoopFactory(site=w["alpha"], room=w["hall_a2"], name="CRAH-A2")
    r = api.patch(f"/api/v1/rooms/{w['hall_a2'].pk}/", {"site": w["beta"].pk}, format="json")
    assert r.status_code == 400 and f'cooling loop "{crah}" of site "Alpha", room "Hall A2"' in flat(
        errors_of(r)["site"]
    )


# --- a PDU fed from another site ----------------------------------------------------------------------------


def test_pdu_source_of_another_site_is_refused_by_the_model(w):
    pdu = Pdu(rack=w["loose"], name="PDU-X", side="B", voltage_v=415, current_a=32, source=w["ups_b"])
    with pytest.raises(ValidationError) as exc:
        pdu.full_clean()
    assert 'Power source "UPS-B" belongs to site "Beta", but rack "R-A1-loose" is in site "Alpha"' in flat(
        exc.value.message_dict["source"]
    )
    before = snapshot()
    with pytest.raises(ValidationError), transaction.atomic():
        pdu.save()  # the write-time guard: no path (shell, import, script) writes it
    with pytest.raises(ValidationError), transaction.atomic():
        _save(Pdu.objects.get(pk=w["pdu"].pk), source=w["ups_b"])  # an existing PDU re-pointed
    assert snapshot() == before


def _save(obj, **fields):
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()


def test_pdu_source_of_another_site_is_refused_api_web_admin(api, web, admin_client, w):
    before = snapshot()
    needle = 'Power source "UPS-B" belongs to site "Beta", but rack "R-A1" is in site "Alpha"'
    r = api.patch(f"/api/v1/pdus/{w['pdu'].pk}/", {"source": w["ups_b"].pk}, format="json")
    assert r.status_code == 400 and needle in flat(errors_of(r)["source"]), r.data
    assert_admin_refused(via_admin(admin_client, w["pdu"], source=w["ups_b"]), needle)
    r = via_web(web, w["pdu"], source=w["ups_b"])
    assert r.status_code == 400  # the page offers only its site's sources
    assert snapshot() == before
    r = api.patch(f"/api/v1/pdus/{w['pdu'].pk}/", {"source": w["spare_a"].pk}, format="json")
    assert r.status_code == 200, r.data


# --- a cooling loop and its racks ---------------------------------------------------------------------------

LOOP_CONFLICT = (
    'Cooling loop "CDU-A" can serve only racks of its site "Beta"',
    'rack "R-A1" (room "Hall A1", site "Alpha")',
)


def test_loop_serving_racks_cannot_move_api(api, w):
    before = snapshot()
    r = api.patch(f"/api/v1/cooling-loops/{w['cdu'].pk}/", {"site": w["beta"].pk, "room": None}, format="json")
    assert r.status_code == 400, r.data
    assert all(n in flat(errors_of(r)["racks"]) for n in LOOP_CONFLICT), r.data
    r = api.patch(f"/api/v1/cooling-loops/{w['cdu'].pk}/", {"room": w["hall_a2"].pk}, format="json")
    assert r.status_code == 400
    assert 'can serve only racks of its room "Hall A2" of site "Alpha", not rack "R-A1"' in flat(errors_of(r)["racks"])
    r = api.patch(f"/api/v1/cooling-loops/{w['cdu'].pk}/", {"site": w["beta"].pk}, format="json")
    assert r.status_code == 400 and 'Room "Hall A1" is in site "Alpha"' in flat(errors_of(r)["room"])
    assert snapshot() == before


def test_loop_serving_racks_cannot_move_web_admin(web, admin_client, w):
    before = snapshot()
    r = via_web(web, w["cdu"], site=w["beta"], room=None)
    assert r.status_code == 400 and all(n in text(r) for n in LOOP_CONFLICT)
    assert_admin_refused(via_admin(admin_client, w["cdu"], site=w["beta"], room=None), *LOOP_CONFLICT)
    assert snapshot() == before


def test_rack_of_another_room_or_site_cannot_join_a_loop(api, web, admin_client, w):
    cdu = w["cdu"]
    before = snapshot()
    for rack, where in (
        (w["other_room_rack"], 'room "Hall A2", site "Alpha"'),
        (w["beta_rack"], 'room "Hall B1", site "Beta"'),
    ):
        needle = f'rack "{rack}" ({where}'
        r = api.patch(f"/api/v1/cooling-loops/{cdu.pk}/", {"racks": [w["rack"].pk, rack.pk]}, format="json")
        assert r.status_code == 400 and needle in flat(errors_of(r)["racks"]), r.data
        assert_admin_refused(via_admin(admin_client, cdu, racks=[w["rack"], rack]), needle)
        # (m2m writes run in an atomic block without a savepoint: give each its own, as a request would have)
        with pytest.raises(ValidationError), transaction.atomic():
            cdu.racks.add(rack)
        with pytest.raises(ValidationError) as exc, transaction.atomic():
            rack.cooling_loops.add(cdu)  # the reverse side
        assert 'cannot be served by cooling loop "CDU-A"' in flat(exc.value.message_dict)
    r = via_web(web, cdu, racks=[w["rack"], w["other_room_rack"]])
    assert r.status_code == 400 and 'rack "R-A2" (room "Hall A2", site "Alpha")' in text(r)
    assert snapshot() == before


def test_loop_with_racks_in_its_room_still_saves(api, web, admin_client, w):
    cdu = w["cdu"]
    r = api.patch(f"/api/v1/cooling-loops/{cdu.pk}/", {"racks": [w["rack"].pk, w["neighbour"].pk]}, format="json")
    assert r.status_code == 200, r.data
    r = via_web(web, CoolingLoop.objects.get(pk=cdu.pk), racks=[w["neighbour"]])
    assert r.status_code == 302
    r = via_admin(admin_client, CoolingLoop.objects.get(pk=cdu.pk), racks=[w["rack"], w["loose"]])
    assert r.status_code == 302, text(r)
    w["neighbour"].cooling_loops.add(cdu)
    assert set(cdu.racks.values_list("name", flat=True)) == {"R-A1", "R-A1-loose", "R-A1-next"}
    # Moved to Beta with its racks replaced by Beta's in the same request: the racks given are checked.
    r = api.patch(
        f"/api/v1/cooling-loops/{cdu.pk}/",
        {"site": w["beta"].pk, "room": w["hall_b1"].pk, "racks": [w["beta_rack"].pk]},
        format="json",
    )
    assert r.status_code == 200, r.data
    assert list(cdu.racks.values_list("name", flat=True)) == ["R-B1"]
    # A site-wide loop (no room) may list racks of any room of its site.
    site_loop = f.CoolingLoopFactory(site=w["alpha"], room=None, name="Site loop", kind="direct_liquid", fluid="water")
    r = api.patch(
        f"/api/v1/cooling-loops/{site_loop.pk}/", {"racks": [w["rack"].pk, w["other_room_rack"].pk]}, format="json"
    )
    assert r.status_code == 200, r.data


# --- the site import ----------------------------------------------------------------------------------------


def test_import_of_a_document_wiring_across_rooms_is_refused(w):
    doc = transfer.export_site(w["alpha"])
    loop = next(loop for loop in doc["cooling_loops"] if loop["name"] == "CDU-A")
    loop["racks"].append(["Hall A2", "Row A2", "R-A2"])  # a loop of Hall A1 listing a rack of Hall A2
    before = snapshot()
    with pytest.raises(transfer.ImportFailed) as exc:
        transfer.import_site(doc, name="Gamma", slug="gamma")
    assert exc.value.path == "cooling_loops[0]"
    assert 'rack "R-A2" (room "Hall A2"' in flat(exc.value.errors)
    with pytest.raises(CommandError) as cmd:
        call_command("import_site", "-", "--name", "Gamma", stdin=io.StringIO(json.dumps(doc)), stdout=io.StringIO())
    assert 'rack "R-A2" (room "Hall A2"' in str(cmd.value)
    assert snapshot() == before
    loop["racks"].pop()
    assert transfer.import_site(doc, name="Gamma", slug="gamma").site.name == "Gamma"  # the clean document


# --- bounded ------------------------------------------------------------------------------------------------


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_checks_take_a_fixed_number_of_queries(w):
    """The same number of queries whatever the number of PDUs, racks or links."""
    rack, row, room, ups, cdu = w["rack"], w["row_a1"], w["hall_a1"], w["ups_a"], w["cdu"]
    rack.row, row.room, room.site, ups.site, cdu.site, cdu.room = (
        w["row_b1"],
        w["hall_b1"],
        w["beta"],
        w["beta"],
        w["beta"],
        None,
    )
    small = [_queries(lambda o=o: o.scope_errors(lock=True)) for o in (rack, row, room, ups, cdu)]
    for i in range(12):
        extra = f.RackFactory(row=w["row_a1"], name=f"X{i}")
        f.PduFactory(rack=extra, name=f"XA{i}", source=w["ups_a"])
        f.PduFactory(rack=extra, name=f"XB{i}", side="B", source=w["ups_a"])
        CoolingLoop.objects.get(pk=cdu.pk).racks.add(extra)
    large = [_queries(lambda o=o: o.scope_errors(lock=True)) for o in (rack, row, room, ups, cdu)]
    assert small == large
    assert max(large) <= 5
