"""Workload and site-selection pages (issue 17)."""

import pytest

from planner.models import Workload
from racks.models import NodeModel, Site
from tests.security.conftest import powered_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def fac_client(client, facilities_user):
    client.force_login(facilities_user)
    return client


def test_workload_create_edit_detail_list(fac_client):
    assert fac_client.get("/workloads/").status_code == 200
    assert "No workloads yet" in fac_client.get("/workloads/").content.decode()
    form = fac_client.get("/workloads/new/")
    assert form.status_code == 200 and 'name="user_regions_text"' in form.content.decode()
    model = NodeModel.objects.get(slug="dgx-b200")
    data = {
        "name": "Chat",
        "kind": "inference",
        "model": model.pk,
        "quantity": 2,
        "reference_workload": "llama2-70b",
        "scenario": "server",
        "availability_target_pct": 99.5,
        "latency_p99_ms": 20,
        "growth_pct_per_quarter": 5,
        "user_regions_text": "Frankfurt; 50.11; 8.68; 0.6\nParis; 48.86; 2.35; 0.4",
        "residency_text": "DE, FR",
    }
    made = fac_client.post("/workloads/new/", data)
    assert made.status_code == 302, made.content.decode()[:3000]
    w = Workload.objects.get(name="Chat")
    assert w.residency == ["DE", "FR"] and w.user_regions[1] == {
        "name": "Paris",
        "latitude": 48.86,
        "longitude": 2.35,
        "share": 0.4,
    }
    detail = fac_client.get(f"/workloads/{w.pk}/").content.decode()
    assert "99123" in detail.replace(",", "") and "MLPerf Inference v5.1" in detail
    edit = fac_client.get(f"/workloads/{w.pk}/edit/").content.decode()
    assert "Paris; 48.86; 2.35; 0.4" in edit
    bad = fac_client.post(f"/workloads/{w.pk}/edit/", {**data, "residency_text": "de", "user_regions_text": "x; 1"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "two capital letters" in page and "name; latitude; longitude; share" in page
    assert Workload.objects.get(pk=w.pk).residency == ["DE", "FR"]
    assert "Chat" in fac_client.get("/workloads/").content.decode()


def test_workload_form_is_for_writers(client, procurement_user):
    client.force_login(procurement_user)
    assert client.get("/workloads/").status_code == 200
    assert client.get("/workloads/new/").status_code == 403


def test_site_selection_page(client, procurement_user):
    site = powered_site(racks=2)["site"]
    Site.objects.filter(pk=site.pk).update(name="Frankfurt", jurisdiction="DE", latitude=50.11, longitude=8.68)
    w = Workload.objects.create(
        name="Chat",
        model=NodeModel.objects.get(slug="dgx-b200"),
        quantity=2,
        latency_p99_ms=20,
        user_regions=[{"name": "FRA", "latitude": 50.11, "longitude": 8.68, "share": 1.0}],
        residency=["DE"],
    )
    client.force_login(procurement_user)
    empty = client.get("/site-selection/")
    assert empty.status_code == 200 and "Choose a workload" in empty.content.decode()
    page = client.get(f"/site-selection/?workload={w.pk}&hardware_usd_per_system=400000&colocation=on")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="options"' in html and "Frankfurt" in html and "Colocation (CBRE average)" in html
    assert 'data-figure="figure-cost"' in html and 'data-figure="figure-latency"' in html
    assert client.get("/site-selection/?workload=99999").status_code == 400
