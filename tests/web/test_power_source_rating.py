"""The site page shows a power source's rating and the usable kW every rule reads (kVA x PF, derating)."""

import pytest

from racks.models import PowerSource
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_dashboard_shows_kva_rating_and_usable_kw(fac_client):
    site = f.SiteFactory(power_derating=0.8, derate_distribution=True)
    f.PowerSourceFactory(site=site, name="UPS-K", kind="ups", capacity_kw=None, capacity_kva=500.0, power_factor=0.9)
    f.PowerSourceFactory(site=site, name="PNL-D", kind="panel", capacity_kw=250.0)
    html = fac_client.get(f"/sites/{site.pk}/").content.decode()
    # UPS: 500 kVA x 0.9 = 450 kW (a UPS is not derated). Panel: 250 x 0.8 = 200 kW (site derates distribution).
    assert "500.0 kVA \N{MULTIPLICATION SIGN} PF 0.90" in html and '<td class="num">450.0</td>' in html
    assert "250.0 kW \N{MULTIPLICATION SIGN} 0.80 continuous" in html and '<td class="num">200.0</td>' in html


def test_source_form_takes_kva_and_refuses_kw_above_kva_times_pf(fac_client):
    site = f.SiteFactory()
    url = f"/power-sources/new/?site={site.pk}"
    bad = fac_client.post(
        url,
        {"site": site.pk, "name": "U1", "kind": "ups", "capacity_kw": 460, "capacity_kva": 500, "power_factor": 0.9},
    )
    assert bad.status_code == 400 and "500 kVA x 0.9 = 450 kW" in bad.content.decode()
    assert not PowerSource.objects.filter(site=site).exists()
    ok = fac_client.post(url, {"site": site.pk, "name": "U1", "kind": "ups", "capacity_kva": 500, "power_factor": 0.9})
    assert ok.status_code == 302
    assert PowerSource.objects.get(site=site).capacity_kva == 500


def test_admin_forms_carry_the_new_fields(admin_user):
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    fields = {
        "/admin/racks/powersource/add/": ("capacity_kva", "power_factor", "listed_continuous_100"),
        "/admin/racks/site/add/": ("derate_distribution",),
        "/admin/racks/nodemodel/add/": ("heat_output_kw",),
        "/admin/cooling/coolingloop/add/": ("approach_c",),
    }
    for url, names in fields.items():
        html = client.get(url).content.decode()
        for name in names:
            assert f'name="{name}"' in html, (url, name)
