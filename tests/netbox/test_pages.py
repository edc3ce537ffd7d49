"""The import page, the per-site checklist and the device-type page (Django test client)."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from planner.netbox.service import netbox_import
from racks.models import NodeModel, PowerSource, Rack, Room, Site
from tests.netbox.conftest import TEST_FIGURES

YAML = Path(__file__).resolve().parent / "yaml"
FIGURES = "\n".join(f"{k}: {{max_power_kw: {v['max_power_kw']}}}" for k, v in TEST_FIGURES.items())


@pytest.fixture
def fac(facilities_user):
    c = Client()
    c.force_login(facilities_user)
    return c


@pytest.fixture
def proc(procurement_user):
    c = Client()
    c.force_login(procurement_user)
    return c


def form(netbox, **kw):
    return {"url": netbox.url, "token": netbox.token, "row_from": "location", "figures": FIGURES, **kw}


@pytest.mark.django_db
def test_import_page_dry_run_then_import(fac, netbox):
    assert fac.get("/netbox/import/").status_code == 200
    r = fac.post("/netbox/import/", form(netbox, dry_run="on"))
    text = r.content.decode()
    assert r.status_code == 200 and "Dry run: nothing was written" in text
    assert "Racks failing a rule today: 16" in text and Site.objects.count() == 0
    r = fac.post("/netbox/import/", form(netbox))
    assert r.status_code == 200 and "Imported" in r.content.decode() and Rack.objects.count() == 16


@pytest.mark.django_db
def test_import_page_refusals_are_400_and_write_nothing(fac, proc, netbox):
    r = fac.post("/netbox/import/", form(netbox, figures=""))
    assert r.status_code == 400 and "lacks power-ports" in r.content.decode()
    r = fac.post("/netbox/import/", form(netbox, token="wrong"))
    assert r.status_code == 400 and "403" in r.content.decode()
    r = fac.post("/netbox/import/", form(netbox, row_from="name", row_pattern="(no-row-group"))
    assert r.status_code == 400
    assert proc.get("/netbox/import/").status_code == 403
    assert proc.post("/netbox/import/", form(netbox)).status_code == 403
    anonymous = Client().post("/netbox/import/", form(netbox))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert proc.post("/catalogue/device-types/", {}).status_code == 403
    assert Site.objects.count() == 0


@pytest.mark.django_db
def test_checklist_lists_what_netbox_lacks_until_entered(fac, netbox, django_assert_num_queries):
    netbox_import(client_or_url=netbox.url, token=netbox.token, figures=TEST_FIGURES)
    site = Site.objects.get(slug="fra1")
    with django_assert_num_queries(11):  # session, user, groups, site, 7 reads of the checklist
        r = fac.get(f"/sites/{site.pk}/checklist/")
    text = r.content.decode()
    assert r.status_code == 200
    assert text.count("<td>floor rating</td>") == 2 and text.count("<td>power source capacity</td>") == 2
    assert "room air cooling" in text and "utility capacity" in text
    Room.objects.filter(site=site).update(floor_rated_load_kg_m2=1224)
    PowerSource.objects.filter(site=site).update(capacity_kw=800)
    text = fac.get(f"/sites/{site.pk}/checklist/").content.decode()
    assert "<td>floor rating</td>" not in text and "<td>power source capacity</td>" not in text


@pytest.mark.django_db
def test_checklist_query_count_does_not_grow_with_the_site(fac, netbox, django_assert_num_queries):
    netbox_import(client_or_url=netbox.url, token=netbox.token, figures=TEST_FIGURES)
    small, large = Site.objects.get(slug="ams1"), Site.objects.get(slug="fra1")  # 4 and 12 racks
    with django_assert_num_queries(11):
        fac.get(f"/sites/{small.pk}/checklist/")
    with django_assert_num_queries(11):
        fac.get(f"/sites/{large.pk}/checklist/")


@pytest.mark.django_db
def test_device_types_page(fac, proc):
    upload = SimpleUploadedFile("acme-gx8.yaml", (YAML / "acme-gx8.yaml").read_bytes())
    r = fac.post("/catalogue/device-types/", {"files": [upload], "dry_run": "on"})
    assert r.status_code == 200 and "Dry run" in r.content.decode() and not NodeModel.objects.filter(slug="acme-gx8")
    upload = SimpleUploadedFile("acme-gx8.yaml", (YAML / "acme-gx8.yaml").read_bytes())
    r = fac.post("/catalogue/device-types/", {"files": [upload]})
    assert r.status_code == 200 and NodeModel.objects.filter(slug="acme-gx8").exists()
    r = fac.post("/catalogue/device-types/", {"text": (YAML / "acme-noweight.yaml").read_text()})
    assert r.status_code == 400 and "refused: lacks weight" in r.content.decode()
    assert fac.post("/catalogue/device-types/", {}).status_code == 400
    assert proc.get("/catalogue/device-types/").status_code == 403


@pytest.mark.django_db
def test_posts_without_the_csrf_token_are_refused(facilities_user, netbox):
    client = Client(enforce_csrf_checks=True)
    client.force_login(facilities_user)
    assert client.post("/netbox/import/", form(netbox)).status_code == 403
    upload = SimpleUploadedFile("acme-gx8.yaml", (YAML / "acme-gx8.yaml").read_bytes())
    assert client.post("/catalogue/device-types/", {"files": [upload]}).status_code == 403
    assert Site.objects.count() == 0 and not NodeModel.objects.filter(slug="acme-gx8").exists()
