"""Sites gain location and governance (issue 17): validated, writable over the API, editable on the site form."""

import pytest

from racks.models import Site
from tests import factories as f

pytestmark = pytest.mark.django_db

GOVERNANCE = {
    "latitude": 50.1109,
    "longitude": 8.6821,
    "jurisdiction": "DE",
    "is_edge": False,
    "carbon_kg_per_kwh": 0.381,  # Germany, Ember via OWID 2023: 381 g/kWh (reference §14, S [S133])
    "carbon_source": "Ember via OWID",
    "carbon_year": 2023,
    "renewable_share": 0.55,
    "renewable_ppa": True,
    "energy_price_source": "Eurostat H2 2024 EU average (§14)",
    "grid_interconnect_kw": 20000,
    "grid_expansion_kw": 30000,
    "grid_expansion_date": "2028-06-30",
    "dora_register_entry": "RoI-B_02.01-0042",
    "dora_critical_function": True,
    "data_processing_country": "DE",
    "ai_rmf_govern_url": "https://example.com/evidence/govern",
    "ai_rmf_map_url": "",
    "ai_rmf_measure_url": "",
    "ai_rmf_manage_url": "https://example.com/evidence/manage",
}


def test_governance_fields_round_trip(api):
    created = api.post("/api/v1/sites/", {"name": "Frankfurt", "slug": "fra-1", **GOVERNANCE}, format="json")
    assert created.status_code == 201, created.data
    got = api.get(f"/api/v1/sites/{created.data['id']}/").json()
    for key, value in GOVERNANCE.items():
        assert got[key] == value, key
    patched = api.patch(
        f"/api/v1/sites/{got['id']}/", {"is_edge": True, "latitude": -33.9, "longitude": 151.2}, format="json"
    )
    assert patched.status_code == 200, patched.data
    assert (patched.data["is_edge"], patched.data["latitude"]) == (True, -33.9)


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"latitude": 90.5, "longitude": 0}, "latitude"),
        ({"latitude": 0, "longitude": -180.01}, "longitude"),
        ({"latitude": 10.0}, "longitude"),  # a pair, or neither
        ({"jurisdiction": "de"}, "jurisdiction"),
        ({"jurisdiction": "DEU"}, "jurisdiction"),
        ({"data_processing_country": "Germany"}, "data_processing_country"),
        ({"renewable_share": 1.2}, "renewable_share"),
        ({"carbon_year": 1800}, "carbon_year"),
        ({"grid_interconnect_kw": -1}, "grid_interconnect_kw"),
        ({"grid_expansion_kw": 5000}, "grid_expansion_date"),
        ({"ai_rmf_map_url": "not a link"}, "ai_rmf_map_url"),
    ],
)
def test_bad_governance_answers_400_and_writes_nothing(api, bad, field):
    site = f.SiteFactory()
    before = Site.objects.values().get(pk=site.pk)
    response = api.patch(f"/api/v1/sites/{site.pk}/", bad, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Site.objects.values().get(pk=site.pk) == before


def test_site_form_edits_governance(client, admin_user):
    site = f.SiteFactory(slug="edge-1")
    client.force_login(admin_user)
    page = client.get(f"/sites/{site.pk}/edit/")
    assert page.status_code == 200
    for name in ("latitude", "jurisdiction", "carbon_source", "dora_register_entry", "ai_rmf_govern_url"):
        assert f'name="{name}"' in page.content.decode()
    response = client.post(
        f"/sites/{site.pk}/edit/",
        {
            "name": site.name,
            "slug": site.slug,
            "power_derating": 0.8,
            "latitude": 52.37,
            "longitude": 4.9,
            "jurisdiction": "NL",
            "is_edge": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    site.refresh_from_db()
    assert (site.latitude, site.longitude, site.jurisdiction, site.is_edge) == (52.37, 4.9, "NL", True)
    bad = client.post(
        f"/sites/{site.pk}/edit/", {"name": site.name, "slug": site.slug, "power_derating": 0.8, "latitude": 95}
    )
    assert bad.status_code == 400  # the form again, with the error
    site.refresh_from_db()
    assert site.latitude == 52.37
