"""PDU receptacles and branch breakers, node-model cords through the API; POWER_OUTLETS / POWER_PHASE answers."""

import pytest

from racks.models import NodeModel, Pdu
from tests import factories as f

pytestmark = pytest.mark.django_db


def _pdu_body(rack, **kw):
    body = {"rack": rack.id, "name": "P-new", "side": "A", "phases": 3, "voltage_v": 415, "current_a": 32}
    body.update(kw)
    return body


def test_catalogue_cords_from_the_reference(api):
    # §1.2 P [S1]: DGX H100/H200 "6 x locking C19/C20"; the reference names no cords for the others: null.
    data = {m["slug"]: m for m in api.get("/api/v1/node-models/?limit=100").data["results"]}
    for slug in ("dgx-h100", "dgx-h200"):
        assert (data[slug]["cord_count"], data[slug]["cord_receptacle"]) == (6, "C19")
    for slug in ("dgx-a100", "dgx-b200", "dgx-b300", "gb200-nvl72", "gb300-nvl72", "hgx-h100-8gpu", "cpu-2u"):
        assert (data[slug]["cord_count"], data[slug]["cord_receptacle"]) == (None, None)


def test_pdu_receptacles_and_branches_are_writable(api):
    rack = f.RackFactory()
    body = _pdu_body(rack, receptacles_c13=12, receptacles_c19=6, branch_breaker_a=20, branch_count=6)
    response = api.post("/api/v1/pdus/", body, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["receptacles_c19"], response.data["receptacles_iec60309"]) == (6, None)
    pdu = Pdu.objects.get(pk=response.data["id"])
    assert (pdu.receptacles_c13, pdu.branch_breaker_a, pdu.branch_count) == (12, 20.0, 6)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"receptacles_c19": -1}, "receptacles_c19"),
        ({"receptacles_c13": -4}, "receptacles_c13"),
        ({"receptacles_iec60309": -1}, "receptacles_iec60309"),
        ({"branch_count": 0, "branch_breaker_a": 20}, "branch_count"),
        ({"branch_breaker_a": -20, "branch_count": 6}, "branch_breaker_a"),
        ({"branch_count": 6}, "branch_count"),  # a branch count without its rating
    ],
)
def test_bad_pdu_circuit_fields_answer_400_and_write_nothing(api, extra, field):
    rack = f.RackFactory()
    before = Pdu.objects.count()
    response = api.post("/api/v1/pdus/", _pdu_body(rack, **extra), format="json")
    assert response.status_code == 400, response.data
    assert field in response.data["errors"], response.data
    assert Pdu.objects.count() == before


@pytest.mark.parametrize(
    ("body", "field"), [({"cord_count": -2}, "cord_count"), ({"cord_receptacle": "C7"}, "cord_receptacle")]
)
def test_bad_cords_answer_400(api, body, field):
    model = NodeModel.objects.get(slug="dgx-b200")
    response = api.patch(f"/api/v1/node-models/{model.id}/", body, format="json")
    assert response.status_code == 400, response.data
    assert field in response.data["errors"]
    model.refresh_from_db()
    assert model.cord_count is None


def _rack_with(c19, **pdu):
    rack = f.RackFactory(u_height=42, max_load_kg=2000)
    for side in ("A", "B"):
        f.PduFactory(rack=rack, name=f"PDU-{side}", side=side, current_a=32.0, receptacles_c19=c19, **pdu)
    return rack


def _checks(api, rack, quantity=1):
    response = api.post(
        "/api/v1/placements/check/", {"rack": rack.id, "model": "dgx-h100", "quantity": quantity}, format="json"
    )
    assert response.status_code == 200, response.data
    return {c["code"]: c for c in response.data["checks"]}


def test_check_outlets_fail_and_clean(api):
    # Two H100: 2 x 3 = 6 C19 cords per side (A+B split) > 4 receptacles -> fail; 8 receptacles -> ok.
    checks = _checks(api, _rack_with(4), quantity=2)
    assert checks["POWER_OUTLETS"]["status"] == "fail"
    assert (checks["POWER_OUTLETS"]["value"], checks["POWER_OUTLETS"]["limit"]) == (6, 4)
    checks = _checks(api, _rack_with(8), quantity=2)
    assert checks["POWER_OUTLETS"]["status"] == "ok"


def test_check_outlets_not_checked_without_receptacle_data(api):
    checks = _checks(api, _rack_with(None))
    assert checks["POWER_OUTLETS"]["status"] == "ok"
    assert checks["POWER_OUTLETS"]["message"].startswith("not checked")


def test_check_phase_and_branch_currents(api):
    # 415 V 3-phase 32 A, one H100: 3 cords per side of 10.2 / 3 = 3.4 kW, one per phase:
    # 3400 / (415 / sqrt(3) = 239.60 V) = 14.19 A <= 32 x 0.8 = 25.6 A; 16 A branches: 12.8 A < 14.19 A -> fail.
    checks = _checks(api, _rack_with(8, branch_breaker_a=16.0, branch_count=6))
    phase = checks["POWER_PHASE"]
    assert phase["status"] == "fail" and phase["value"] == pytest.approx(14.19, abs=0.01)
    assert phase["limit"] == pytest.approx(12.8)
    # 20 A branches: 20 x 0.8 = 16 A >= 14.19 A -> ok; the tightest is the branch (14.19 / 16 > 14.19 / 25.6).
    checks = _checks(api, _rack_with(8, branch_breaker_a=20.0, branch_count=6))
    assert checks["POWER_PHASE"]["status"] == "ok" and checks["POWER_PHASE"]["limit"] == pytest.approx(16.0)
