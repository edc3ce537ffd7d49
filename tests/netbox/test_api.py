"""POST /api/v1/netbox/dry-run/: the same summary as the command, typed, writing nothing."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from racks.models import Site
from tests.netbox.conftest import TEST_FIGURES
from tests.netbox.test_import import README_COUNTS, everything


@pytest.fixture
def api(facilities_user):
    c = APIClient()
    c.force_authenticate(facilities_user)
    return c


@pytest.mark.django_db
def test_dry_run_endpoint(api, netbox, procurement_user, django_assert_max_num_queries):
    body = {"url": netbox.url, "token": netbox.token, "figures": TEST_FIGURES}
    r = api.post("/api/v1/netbox/dry-run/", body, format="json")
    assert r.status_code == 400 and "NETBOX_URLS" in str(r.json())  # the server reads only listed NetBox URLs
    with override_settings(NETBOX_URLS=[netbox.url]):
        before = everything()
        r = api.post("/api/v1/netbox/dry-run/", body, format="json")
        assert r.status_code == 200, r.json()
        data = r.json()
        assert data["dry_run"] and data["counts"] == README_COUNTS and len(data["failing_racks"]) == 16
        assert everything() == before and Site.objects.count() == 0
        r = api.post("/api/v1/netbox/dry-run/", {**body, "figures": {}}, format="json")
        assert r.status_code == 400 and any("lacks power-ports" in e for e in r.json()["errors"]["netbox"])
        r = api.post("/api/v1/netbox/dry-run/", {**body, "token": "wrong"}, format="json")
        assert r.status_code == 400 and "403" in r.json()["detail"]
        proc = APIClient()
        proc.force_authenticate(procurement_user)
        assert proc.post("/api/v1/netbox/dry-run/", body, format="json").status_code == 403
        assert APIClient().post("/api/v1/netbox/dry-run/", body, format="json").status_code in (401, 403)
