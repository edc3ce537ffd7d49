"""Reservations: feasibility commit all or nothing, partial on request, idempotent, installed/released as a set."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from planner import planning, selectors
from planner.models import Reservation
from racks.models import Node, NodeModel, Site

FEAS = "/api/v1/feasibility/"


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    return Site.objects.get(slug="demo-campus")


def _fits(site: Site, slug: str, quantity: int) -> int:
    """How many units the engine places (independent of the API)."""
    spec = selectors.node_model_spec(NodeModel.objects.get(slug=slug))
    return len(planning.plan_feasibility(selectors.site_snapshot(site.pk), spec, quantity).placements)


@pytest.mark.django_db
def test_commit_that_fits_makes_one_reservation_listed_under_reservations(api, demo):
    before = Node.objects.count()
    response = api.post(FEAS, {"site": demo.id, "model": "cpu-2u", "quantity": 3, "commit": True}, format="json")
    assert response.status_code == 200, response.content
    reservation = response.json()["reservation"]
    assert (reservation["status"], reservation["quantity"], reservation["requested"]) == ("held", 3, 3)
    assert len(reservation["nodes"]) == 3 and reservation["created_by"] == "fac"
    assert Node.objects.count() == before + 3
    listed = api.get(f"/api/v1/reservations/?site={demo.id}").json()
    assert [r["id"] for r in listed["results"]] == [reservation["id"]]


@pytest.mark.django_db
def test_an_order_that_does_not_fit_reserves_nothing(api, demo):
    placed = _fits(demo, "dgx-b200", 32)
    assert 0 < placed < 32  # the demo takes part of the order
    before = Node.objects.count()
    refused = api.post(FEAS, {"site": demo.id, "model": "dgx-b200", "quantity": 32, "commit": True}, format="json")
    assert refused.status_code == 409, refused.content
    body = refused.json()
    assert body["code"] == "does_not_fit" and body["binding"] and body["placed"] == placed
    assert "partial" in body["detail"]
    assert Node.objects.count() == before and Reservation.objects.count() == 0
    partial = api.post(
        FEAS, {"site": demo.id, "model": "dgx-b200", "quantity": 32, "commit": True, "partial": True}, format="json"
    )
    assert partial.status_code == 200, partial.content
    assert partial.json()["reservation"]["quantity"] == placed
    assert Node.objects.count() == before + placed


@pytest.mark.django_db
def test_nothing_fits_is_409_even_when_partial(api, demo):
    site = Site.objects.create(name="Empty", slug="empty")
    response = api.post(
        FEAS, {"site": site.id, "model": "cpu-2u", "quantity": 1, "commit": True, "partial": True}, format="json"
    )
    assert response.status_code == 409 and "nothing fits" in response.json()["detail"]
    assert Reservation.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["yes", "true", 1, "1", None])
def test_commit_and_partial_are_strict_booleans(api, demo, value):
    for field in ("commit", "partial"):
        body = {"site": demo.id, "model": "cpu-2u", "quantity": 1, field: value}
        response = api.post(FEAS, body, format="json")
        assert response.status_code == 400 and field in response.json()["errors"], response.content
    assert Reservation.objects.count() == 0


@pytest.mark.django_db
def test_idempotency_key_returns_the_same_reservation(api, demo):
    body = {"site": demo.id, "model": "cpu-2u", "quantity": 2, "commit": True}
    first = api.post(FEAS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-17")
    again = api.post(FEAS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-17")
    assert first.status_code == again.status_code == 200
    assert first.json()["reservation"]["id"] == again.json()["reservation"]["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Reservation.objects.count() == 1 and Node.objects.filter(reservations__isnull=False).count() == 2
    other = api.post(FEAS, {**body, "quantity": 3}, format="json", HTTP_IDEMPOTENCY_KEY="order-17")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    fresh = api.post(FEAS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-18")
    assert fresh.json()["reservation"]["id"] != first.json()["reservation"]["id"]


@pytest.mark.django_db
def test_an_expired_key_reserves_again(api, demo):
    from datetime import timedelta

    from django.utils import timezone

    body = {"site": demo.id, "model": "cpu-2u", "quantity": 1, "commit": True}
    first = api.post(FEAS, body, format="json", HTTP_IDEMPOTENCY_KEY="k").json()["reservation"]["id"]
    Reservation.objects.filter(pk=first).update(created_at=timezone.now() - timedelta(hours=25))
    second = api.post(FEAS, body, format="json", HTTP_IDEMPOTENCY_KEY="k").json()["reservation"]["id"]
    assert second != first and Reservation.objects.count() == 2


@pytest.mark.django_db
def test_install_and_release_as_a_set(api, proc_api, demo):
    made = api.post(FEAS, {"site": demo.id, "model": "cpu-2u", "quantity": 2, "commit": True}, format="json").json()
    rid, node_ids = made["reservation"]["id"], made["reservation"]["nodes"]
    assert proc_api.post(f"/api/v1/reservations/{rid}/install/").status_code == 403
    installed = api.post(f"/api/v1/reservations/{rid}/install/")
    assert installed.status_code == 200 and installed.json()["status"] == "installed"
    assert set(Node.objects.filter(pk__in=node_ids).values_list("status", flat=True)) == {"installed"}
    assert api.post(f"/api/v1/reservations/{rid}/release/").status_code == 409  # installed: no longer held

    other = api.post(FEAS, {"site": demo.id, "model": "cpu-2u", "quantity": 2, "commit": True}, format="json").json()
    oid, other_nodes = other["reservation"]["id"], other["reservation"]["nodes"]
    released = api.post(f"/api/v1/reservations/{oid}/release/")
    assert released.status_code == 200 and released.json()["status"] == "released"
    assert released.json()["nodes"] == [] and not Node.objects.filter(pk__in=other_nodes).exists()
    assert api.post(f"/api/v1/reservations/{oid}/install/").status_code == 409
    assert api.post("/api/v1/reservations/999999/release/").status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_parallel_identical_commits_with_one_key_reserve_once(facilities_user):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    site = Site.objects.get(slug="demo-campus")
    key = Token.objects.create(user=facilities_user).key
    before = Node.objects.count()
    n_clients = 4
    barrier = threading.Barrier(n_clients)
    answers, lock = [], threading.Lock()

    def worker():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        try:
            barrier.wait(timeout=10)
            response = client.post(
                FEAS,
                {"site": site.id, "model": "cpu-2u", "quantity": 2, "commit": True},
                format="json",
                HTTP_IDEMPOTENCY_KEY="parallel-1",
            )
            answer = (response.status_code, response.json().get("reservation", {}).get("id"))
        except Exception as exc:  # the test must show it
            answer = (type(exc).__name__, str(exc))
        finally:
            connections.close_all()
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=worker) for _ in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(answers) == n_clients, answers
    assert {status for status, _ in answers} == {200}, answers
    assert len({rid for _, rid in answers}) == 1, answers
    assert Reservation.objects.count() == 1
    assert Node.objects.count() == before + 2
