"""Roles in the browser: procurement reads everything and asks questions, never sees a write control and never
writes (403 on every write view, whatever the method); anonymous users go to the login page."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from racks.models import Node, Site

pytestmark = pytest.mark.django_db

WRITE_MARKERS = ("/edit/", "/delete/", "/new/", 'id="commit-form"', "Reserve these")


def read_pages(s):
    rack = s["racks"][0]
    return [
        "/",
        f"/sites/{s['site'].pk}/",
        f"/rooms/{s['room'].pk}/",
        f"/racks/{rack.pk}/",
        "/catalogue/",
        f"/place/?rack={rack.pk}&model=dgx-h100&quantity=1",
        f"/feasibility/?site={s['site'].pk}&model=dgx-h100&quantity=2",
    ]


def write_urls(s):
    rack = s["racks"][0]
    node = rack.nodes.get()
    return [
        "/sites/new/",
        f"/sites/{s['site'].pk}/edit/",
        f"/sites/{s['site'].pk}/delete/",
        f"/rooms/new/?site={s['site'].pk}",
        f"/rows/{s['rows'][0].pk}/edit/",
        f"/racks/{rack.pk}/delete/",
        f"/power-sources/{s['ups'].pk}/edit/",
        f"/pdus/new/?rack={rack.pk}",
        f"/cooling-loops/{s['cdu'].pk}/delete/",
        "/node-models/1/edit/",
        f"/nodes/{node.pk}/edit/",
        f"/nodes/{node.pk}/delete/",
    ]


def test_procurement_reads_every_page_without_write_controls(small_site, proc_client):
    for url in read_pages(small_site):
        response = proc_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for marker in WRITE_MARKERS:
            assert marker not in html, (url, marker)


def test_facilities_sees_write_controls(small_site, fac_client):
    html = fac_client.get(f"/racks/{small_site['racks'][0].pk}/").content.decode()
    assert "/racks/" in html and "/edit/" in html and "/delete/" in html
    html = fac_client.get(f"/place/?rack={small_site['racks'][0].pk}&model=dgx-h100&quantity=1").content.decode()
    assert 'id="commit-form"' in html


def test_procurement_gets_403_on_every_write_view_get_and_post(small_site, proc_client):
    for url in write_urls(small_site):
        assert proc_client.get(url).status_code == 403, url
        assert proc_client.post(url, {"name": "x", "confirm": "true"}).status_code == 403, url
    assert Site.objects.filter(pk=small_site["site"].pk).exists()
    assert Node.objects.filter(rack__row__room__site=small_site["site"]).count() == 2


def test_procurement_may_check_but_not_place(small_site, proc_client):
    rack = small_site["racks"][0]
    before = Node.objects.count()
    check = proc_client.get(f"/place/check/?rack={rack.pk}&model=dgx-h100&quantity=1")
    assert check.status_code == 200 and b'data-code="POWER_RACK"' in check.content
    response = proc_client.post("/place/", {"rack": rack.pk, "model": "dgx-h100", "quantity": 1, "status": "planned"})
    assert response.status_code == 403
    response = proc_client.post("/feasibility/", {"site": small_site["site"].pk, "model": "dgx-h100", "quantity": 1})
    assert response.status_code == 403
    assert Node.objects.count() == before


def test_anonymous_goes_to_login(small_site):
    client = Client()
    for url in [*read_pages(small_site), *write_urls(small_site), "/place/check/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    response = client.post("/place/", {"rack": small_site["racks"][0].pk, "model": "dgx-h100", "quantity": 1})
    assert response.status_code == 302


def test_user_without_role_gets_403(small_site):
    client = Client()
    client.force_login(User.objects.create_user("nobody", password="nobody-pass-123"))
    assert client.get("/").status_code == 403
    assert client.get(f"/racks/{small_site['racks'][0].pk}/").status_code == 403


def test_navigation_is_in_the_base_template(small_site, proc_client):
    html = proc_client.get("/").content.decode()
    for href in ('href="/"', 'href="/place/"', 'href="/feasibility/"', 'href="/catalogue/"', 'href="/reports/"'):
        assert href in html, href
    assert 'aria-current="page"' in html
