"""Feasibility's energy and the TCO's on-prem energy use one PUE per site (engine.costs.site_pue): for the same
site and order they agree (issue 14: feasibility priced energy at PUE 1.0 where the TCO used 1.54).

Order: 2 x DGX B200 at max power, 2 x 14.3 = 28.6 kW (reference §1.1), 8,760 h a year.
"""

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def _both(api, site):
    body = {"site": site.id, "model": "dgx-b200", "quantity": 2}
    feas = api.post("/api/v1/feasibility/", body, format="json")
    assert feas.status_code == 200, feas.content
    tco = api.post("/api/v1/tco/", {**body, "horizon_years": 1, "utilization": 1.0}, format="json")
    assert tco.status_code == 200, tco.content
    onprem = next(o for o in tco.json()["options"] if o["option"] == "on_prem")
    return feas.json()["energy"], onprem


@pytest.mark.parametrize(
    ("design_pue", "expected_kwh"),
    [
        (None, 28.6 * 8760 * 1.54),  # no design PUE: the air fleet average, §7.1 S [S26]
        (1.3, 28.6 * 8760 * 1.3),
    ],
)
def test_feasibility_and_tco_energy_agree(proc_api, design_pue, expected_kwh):
    site = f.SiteFactory(design_pue=design_pue, energy_price_per_kwh=0.1)
    energy, onprem = _both(proc_api, site)
    assert energy["annual_kwh"] == pytest.approx(expected_kwh, rel=1e-6)
    assert onprem["energy_kwh"] == pytest.approx(energy["annual_kwh"], rel=1e-6)
    assert energy["annual_cost"] == pytest.approx(expected_kwh * 0.1, abs=0.01)
    assert f"PUE {energy['pue']:g}" in energy["basis"]


def test_feasibility_and_tco_energy_agree_with_the_idle_floor(proc_api):
    # Idle floor (engine.costs.facility_energy_kwh, the one formula): draw = idle + (1 - idle) x u
    # = 0.3 + 0.7 x 0.5 = 0.65 of max; 28.6 kW x 0.65 x 8,760 h x PUE 1.54 = 250,786.536 kWh a year.
    site = f.SiteFactory(design_pue=None, energy_price_per_kwh=0.1)
    body = {"site": site.id, "model": "dgx-b200", "quantity": 2, "utilization": 0.5, "idle_fraction": 0.3}
    feas = proc_api.post("/api/v1/feasibility/", body, format="json")
    assert feas.status_code == 200, feas.content
    tco = proc_api.post("/api/v1/tco/", {**body, "horizon_years": 1}, format="json")
    assert tco.status_code == 200, tco.content
    onprem = next(o for o in tco.json()["options"] if o["option"] == "on_prem")
    energy = feas.json()["energy"]
    assert energy["annual_kwh"] == pytest.approx(250_786.536, rel=1e-6)
    assert onprem["energy_kwh"] == pytest.approx(energy["annual_kwh"], rel=1e-6)
    assert "idle 30% of max" in energy["basis"]
    # without the idle floor (idle 0, the TCO's point figure when idle is unknown): 28.6 x 0.5 x 8760 x 1.54
    plain = proc_api.post("/api/v1/feasibility/", {**body, "idle_fraction": None}, format="json").json()["energy"]
    assert plain["annual_kwh"] == pytest.approx(28.6 * 0.5 * 8760 * 1.54, rel=1e-6)
