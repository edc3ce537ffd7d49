"""Issue 16 lists: search, filters, sorting, CSV/XLSX export, bulk edit and delete (atomic, confirmed), the
per-resource import with its dry-run preview, the global search and the reservations page."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from planner.models import Reservation
from racks.models import Node, Pdu, Rack
from tests.web.conftest import build_site

pytestmark = pytest.mark.django_db


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_racks_list_searches_filters_sorts_and_exports(fac_client):
    s = build_site(6)
    build_site(2, name="Other site")
    r = fac_client.get("/lists/racks/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "8 in all." in html
    r = fac_client.get(f"/lists/racks/?site={s['site'].pk}&q=K0&sort=-name&_export=csv")
    rows = _csv_rows(r)
    assert rows[0][:4] == ["Name", "Site", "Room", "Row"]
    # 6 racks of the site, K05 first (sorted by name, descending); the other site's K00/K01 are filtered out
    assert [row[0] for row in rows[1:]] == ["K05", "K04", "K03", "K02", "K01", "K00"]
    assert {row[1] for row in rows[1:]} == {"Hall site"}
    assert rows[1][-2:] == ["2", "1"]  # K05: two PDUs, one node
    r = fac_client.get("/lists/racks/?_export=xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert fac_client.get("/lists/racks/?_export=pdf").status_code == 400
    assert fac_client.get("/lists/nope/").status_code == 404


def test_pagination_and_per_page(fac_client):
    build_site(10)
    html = fac_client.get("/lists/racks/?per_page=4&page=2").content.decode()
    assert "Page 2 of 3 · 10 in all" in html  # 10 racks, 4 per page: pages of 4, 4, 2


def test_bulk_edit_racks_is_atomic_and_checks_capacity(fac_client, proc_client):
    s = build_site(4)
    racks = s["racks"]
    ids = [racks[0].pk, racks[1].pk]
    url = "/lists/racks/bulk-edit/"
    r = fac_client.post(url, {"selected": ids})
    assert r.status_code == 200 and "Edit 2 racks" in r.content.decode()
    r = fac_client.post(url, {"selected": ids, "apply": "1", "max_load_kg": "1600"})
    assert r.status_code == 302
    assert sorted(Rack.objects.filter(pk__in=ids).values_list("max_load_kg", flat=True)) == [1600, 1600]
    # a frame rating below the DGX H100's 130.45 kg makes RACK_LOAD fail on racks with nodes: refused, then confirmed
    r = fac_client.post(url, {"selected": ids, "apply": "1", "max_load_kg": "100"})
    assert r.status_code == 409 and "RACK_LOAD" in r.content.decode()
    assert sorted(Rack.objects.filter(pk__in=ids).values_list("max_load_kg", flat=True)) == [1600, 1600]
    r = fac_client.post(url, {"selected": ids, "apply": "1", "max_load_kg": "100", "confirm": "true"})
    assert r.status_code == 302
    # a bad value on one rack writes nothing
    r = fac_client.post(url, {"selected": ids, "apply": "1", "u_height": "0"})
    assert r.status_code == 400
    assert set(Rack.objects.filter(pk__in=ids).values_list("u_height", flat=True)) == {42}
    assert proc_client.post(url, {"selected": ids, "apply": "1", "max_load_kg": "1"}).status_code == 403


def test_bulk_delete_says_what_is_lost_and_needs_confirmation(fac_client):
    s = build_site(4)
    ids = [s["racks"][0].pk, s["racks"][1].pk]
    url = "/lists/racks/bulk-delete/"
    html = fac_client.post(url, {"selected": ids}).content.decode()
    assert "2 nodes will be deleted with them" in html and "K00 (1)" in html
    r = fac_client.post(url, {"selected": ids, "apply": "1", "sure": "1"})  # nodes, no confirm
    assert r.status_code == 409 and Rack.objects.filter(pk__in=ids).count() == 2
    r = fac_client.post(url, {"selected": ids, "apply": "1", "sure": "1", "confirm": "true"})
    assert r.status_code == 302 and not Rack.objects.filter(pk__in=ids).exists()
    assert Node.objects.filter(rack_id__in=ids).count() == 0
    # deleting a PDU side of a loaded rack loses capacity (POWER_REDUNDANCY warns, not fails: allowed), but the
    # UPS feeding PDUs cannot go (RESTRICT): refused whole, nothing deleted
    r = fac_client.post(
        "/lists/power-sources/bulk-delete/", {"selected": [s["ups"].pk], "apply": "1", "sure": "1", "confirm": "1"}
    )
    assert r.status_code == 409 and "in use" in r.content.decode()


def test_import_racks_preview_names_the_bad_line_and_writes_nothing(fac_client):
    s = build_site(2)
    row = s["rows"][0]
    good = "row,name,position,max_load_kg,empty_weight_kg\n" + "".join(
        f"{row.pk},IMP-{i},{20 + i},1400,150\n" for i in range(3)
    )
    bad = good.replace(f"{row.pk},IMP-1,21,1400,150", f"{row.pk},IMP-1,21,-5,150")
    before = Rack.objects.count()
    r = fac_client.post("/lists/racks/import/", {"document": SimpleUploadedFile("r.csv", bad.encode())})
    html = r.content.decode()
    assert r.status_code == 400 and "Nothing was written: 1 line is bad" in html
    assert "Line 3: max_load_kg" in html  # header is line 1, IMP-1 is line 3
    assert Rack.objects.count() == before
    r = fac_client.post("/lists/racks/import/", {"document": SimpleUploadedFile("r.csv", good.encode())})
    html = r.content.decode()
    assert r.status_code == 200 and "all 3 lines are good" in html and "3 to create" in html
    assert Rack.objects.count() == before  # a preview writes nothing
    content = html.split('name="content" value="')[1].split('"')[0]
    r = fac_client.post("/lists/racks/import/", {"content": content, "name": "r.csv"})
    assert r.status_code == 302 and Rack.objects.count() == before + 3
    assert sorted(Rack.objects.filter(name__startswith="IMP-").values_list("position", flat=True)) == [20, 21, 22]
    # an unknown column is named
    r = fac_client.post("/lists/racks/import/", {"document": SimpleUploadedFile("r.csv", b"row,colour\n1,red\n")})
    assert r.status_code == 400 and "Unknown column(s): colour" in r.content.decode()


def test_header_search_finds_a_rack(fac_client):
    s = build_site(3)
    html = fac_client.get("/").content.decode()
    assert 'action="/search/"' in html and 'name="q"' in html
    html = fac_client.get("/search/?q=k02").content.decode()
    assert f'href="/racks/{s["racks"][2].pk}/"' in html and "Hall site / Hall 1 / R1 / K02" in html
    assert "Nothing is named like" in fac_client.get("/search/?q=zzz").content.decode()


def test_reservations_page_installs_and_releases_a_set(fac_client, proc_client):
    s = build_site(4)
    r = fac_client.post("/feasibility/", {"site": s["site"].pk, "model": "cpu-2u", "quantity": 4})
    reservation = Reservation.objects.get()
    assert r["Location"] == f"/reservations/{reservation.pk}/"
    html = fac_client.get("/reservations/").content.decode()
    assert f"Reservation {reservation.pk}</a>: 4 \u00d7 " in html and "Release all 4" in html
    assert "Release all" not in proc_client.get("/reservations/").content.decode()
    assert proc_client.post(f"/reservations/{reservation.pk}/", {"action": "release"}).status_code == 403
    planned = Node.objects.filter(status="planned").count()
    assert planned == 4
    r = fac_client.post(f"/reservations/{reservation.pk}/", {"action": "release"})
    assert r.status_code == 302
    reservation.refresh_from_db()
    assert reservation.status == "released" and Node.objects.filter(status="planned").count() == 0
    html = fac_client.get(f"/reservations/{reservation.pk}/").content.decode()
    # history: the reservation created and changed, and its four nodes created and deleted (by the release)
    assert html.count("history-deleted") == 4 and "history-created" in html
    r = fac_client.post(f"/reservations/{reservation.pk}/", {"action": "install"})  # not held any more
    assert r.status_code == 302
    reservation.refresh_from_db()
    assert reservation.status == "released"
    assert Pdu.objects.count() == 8  # nothing else touched
