"""``throughput-bases/`` (seeded from reference §12.2) and ``workloads/`` (issue 17)."""

import pytest

from planner.models import ThroughputBasis, Workload
from racks.models import NodeModel

pytestmark = pytest.mark.django_db


def test_mlperf_seed_scales_submissions_to_the_system():
    b200 = ThroughputBasis.objects.get(
        model__slug="dgx-b200", reference_workload="llama2-70b", scenario="server", mlperf_round="v5.1"
    )
    assert b200.tokens_per_s_per_system == 99123.0  # 8-GPU submission = one DGX B200 (§12.2, P* [S121])
    # v6.0: 4 x GB300 NVL72 (288 GPUs) DeepSeek-R1 Server 1,555,110 tok/s; one NVL72 = 1,555,110 x 72 / 288 = 388,777.5
    gb300 = ThroughputBasis.objects.get(
        model__slug="gb300-nvl72", reference_workload="deepseek-r1", scenario="server", mlperf_round="v6.0"
    )
    assert gb300.tokens_per_s_per_system == pytest.approx(388777.5)
    assert "S [S123]" in gb300.source


def test_throughput_api_lists_and_accepts_a_measurement(api, proc_api):
    listed = proc_api.get(
        f"/api/v1/throughput-bases/?model={NodeModel.objects.get(slug='dgx-h100').pk}&scenario=server"
    )
    assert listed.status_code == 200
    assert {r["mlperf_round"] for r in listed.json()["results"]} == {"v4.1"}  # v5.0 H100 has Offline only
    made = api.post(
        "/api/v1/throughput-bases/",
        {
            "model": "dgx-h100",
            "reference_workload": "llama2-70b",
            "scenario": "server",
            "kind": "measured",
            "tokens_per_s_per_system": 20000,
            "system": "lab rig 3",
            "round_date": "2026-11-01",
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    bad = api.post(
        "/api/v1/throughput-bases/",
        {"model": "dgx-h100", "reference_workload": "llama2-70b", "kind": "measured", "tokens_per_s_per_system": -1},
        format="json",
    )
    assert bad.status_code == 400 and "tokens_per_s_per_system" in bad.json()["errors"]
    denied = proc_api.post("/api/v1/throughput-bases/", {"model": "dgx-h100"}, format="json")
    assert denied.status_code == 403


REGIONS = [
    {"name": "Frankfurt", "latitude": 50.11, "longitude": 8.68, "share": 0.6},
    {"name": "Paris", "latitude": 48.86, "longitude": 2.35, "share": 0.4},
]


def test_workload_crud(api):
    made = api.post(
        "/api/v1/workloads/",
        {
            "name": "Chat EU",
            "kind": "inference",
            "model": "dgx-b200",
            "target_tokens_per_s": 500000,
            "reference_workload": "llama2-70b",
            "availability_target_pct": 99.982,
            "latency_p99_ms": 20,
            "user_regions": REGIONS,
            "residency": ["DE", "FR"],
            "growth_pct_per_quarter": 10,
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["model_slug"] == "dgx-b200"
    got = api.get(f"/api/v1/workloads/{made.json()['id']}/").json()
    assert got["user_regions"] == REGIONS and got["residency"] == ["DE", "FR"]
    patched = api.patch(f"/api/v1/workloads/{got['id']}/", {"latency_p99_ms": 30}, format="json")
    assert patched.status_code == 200 and patched.json()["latency_p99_ms"] == 30


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"quantity": 4, "target_tokens_per_s": 100}, "quantity"),  # both sizes
        ({}, "quantity"),  # no size
        ({"quantity": 4, "residency": ["de"]}, "residency"),
        ({"quantity": 4, "residency": "DE"}, "residency"),
        ({"quantity": 4, "user_regions": [{"name": "x", "latitude": 91, "longitude": 0, "share": 1}]}, "user_regions"),
        ({"quantity": 4, "user_regions": [{"name": "x", "latitude": 1, "longitude": 0, "share": 0.5}]}, "user_regions"),
        ({"quantity": 4, "availability_target_pct": 100.5}, "availability_target_pct"),
        ({"quantity": 4, "kind": "mining"}, "kind"),
    ],
)
def test_bad_workload_answers_400_and_writes_nothing(api, bad, field):
    response = api.post("/api/v1/workloads/", {"name": "W", "model": "dgx-b200", **bad}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not Workload.objects.exists()
