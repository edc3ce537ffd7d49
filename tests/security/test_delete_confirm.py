"""Deleting a site, room, row or rack that still holds nodes needs an explicit confirmation, over the API
(``?confirm=true``) and in the browser (the confirm checkbox): without it the answer is 409 naming the node
count and nothing is deleted. Confirmed, the object goes with its nodes, and the audit history keeps every
deleted record. An empty object needs no confirmation; procurement may delete nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from racks.models import Node, Rack, Room, Row, Site
from tests import factories as f
from tests.security.conftest import powered_site, row_counts

pytestmark = pytest.mark.django_db

MODELS = {"sites": Site, "rooms": Room, "rows": Row, "racks": Rack}
KINDS = list(MODELS)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def estate():
    """A site with two racks in one row: three nodes in the first rack, one in the second, and a second,
    untouched site with a node (it must survive every delete here)."""
    world = powered_site(racks=2)
    first, second = world["racks"]
    nodes = [f.NodeFactory(rack=first, u_position=u) for u in (1, 3, 5)] + [f.NodeFactory(rack=second, u_position=1)]
    other = powered_site()
    bystander = f.NodeFactory(rack=other["racks"][0], u_position=1)
    holders = {"sites": world["site"], "rooms": world["room"], "rows": world["row"], "racks": first}
    held = {
        "sites": nodes,
        "rooms": nodes,
        "rows": nodes,
        "racks": nodes[:3],
    }
    racks = {"sites": [first, second], "rooms": [first, second], "rows": [first, second], "racks": [first]}
    return {"holders": holders, "held": held, "racks": racks, "bystander": bystander}


def empty_holder(kind: str):
    """An object of ``kind`` with no node anywhere under it."""
    rack = f.RackFactory()
    return {"sites": rack.row.room.site, "rooms": rack.row.room, "rows": rack.row, "racks": rack}[kind]


def web_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def history_of(model, pk):
    return list(model.history.filter(id=pk).order_by("history_date", "history_id"))


def assert_deleted_with_history(kind, holder, nodes, racks, user, bystander):
    model = MODELS[kind]
    assert not model.objects.filter(pk=holder.pk).exists()
    assert not Node.objects.filter(pk__in=[n.pk for n in nodes]).exists()
    assert Node.objects.filter(pk=bystander.pk).exists(), "a node elsewhere was deleted"
    # The audit history keeps the deleted records: a final "-" entry with the last values, by this user.
    holder_history = history_of(model, holder.pk)
    assert holder_history and holder_history[-1].history_type == "-"
    assert holder_history[-1].name == holder.name
    assert holder_history[-1].history_user_id == user.pk
    for node in nodes:
        entries = history_of(Node, node.pk)
        assert entries[0].history_type == "+" and entries[-1].history_type == "-", entries
        assert entries[-1].name == node.name and entries[-1].rack_id == node.rack_id
    for rack in racks:  # the racks under the holder are gone too, and remembered
        assert not Rack.objects.filter(pk=rack.pk).exists()
        assert history_of(Rack, rack.pk)[-1].history_type == "-"


# ----------------------------------------------------------------------------------------------------------- API


@pytest.mark.parametrize("kind", KINDS)
def test_api_delete_of_a_holder_is_409_naming_the_node_count(api, estate, kind):
    holder, nodes = estate["holders"][kind], estate["held"][kind]
    before = row_counts()
    for query in ("", "?confirm=false", "?confirm=", "?confirm=no", "?confirm=0"):
        response = api.delete(f"/api/v1/{kind}/{holder.pk}/{query}")
        assert response.status_code == 409, (query, response.content)
        body = response.json()
        assert body["node_count"] == len(nodes)
        assert f"still holds {len(nodes)} node(s)" in body["detail"] and "?confirm=true" in body["detail"]
        assert str(holder) in body["detail"]
    assert row_counts() == before


@pytest.mark.parametrize("confirm", ["true", "True", "1", "yes"])
@pytest.mark.parametrize("kind", KINDS)
def test_api_delete_confirmed_deletes_the_nodes_and_keeps_history(api, facilities_user, estate, kind, confirm):
    holder, nodes = estate["holders"][kind], estate["held"][kind]
    node_total = Node.objects.count()
    response = api.delete(f"/api/v1/{kind}/{holder.pk}/?confirm={confirm}")
    assert response.status_code == 204, response.content
    assert Node.objects.count() == node_total - len(nodes)
    racks = estate["racks"][kind]
    assert_deleted_with_history(kind, holder, nodes, racks, facilities_user, estate["bystander"])
    # The deleted object's history is still served by the API, newest first, with who deleted it.
    history = api.get(f"/api/v1/{kind}/{holder.pk}/history/")
    assert history.status_code == 200, history.content
    newest = history.json()["results"][0]
    assert newest["type"] == "deleted" and newest["user"] == facilities_user.username


@pytest.mark.parametrize("kind", KINDS)
def test_api_delete_of_an_empty_object_needs_no_confirmation(api, facilities_user, kind):
    holder = empty_holder(kind)
    response = api.delete(f"/api/v1/{kind}/{holder.pk}/")
    assert response.status_code == 204, response.content
    assert not MODELS[kind].objects.filter(pk=holder.pk).exists()
    assert history_of(MODELS[kind], holder.pk)[-1].history_type == "-"


@pytest.mark.parametrize("kind", KINDS)
def test_api_procurement_may_not_delete(proc_api, estate, kind):
    before = row_counts()
    for holder in (estate["holders"][kind], empty_holder(kind)):
        before = row_counts()
        for query in ("", "?confirm=true"):
            response = proc_api.delete(f"/api/v1/{kind}/{holder.pk}/{query}")
            assert response.status_code == 403, (query, response.content)
            assert response.json()["detail"]
        assert row_counts() == before


# ----------------------------------------------------------------------------------------------------------- web


@pytest.mark.parametrize("kind", KINDS)
def test_web_delete_page_warns_of_the_nodes(facilities_user, estate, kind):
    holder, nodes = estate["holders"][kind], estate["held"][kind]
    page = web_client(facilities_user).get(f"/{kind}/{holder.pk}/delete/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"still holds {len(nodes)} node" in text and 'name="confirm"' in text


@pytest.mark.parametrize("kind", KINDS)
def test_web_delete_of_a_holder_without_the_checkbox_is_409(facilities_user, estate, kind):
    holder, nodes = estate["holders"][kind], estate["held"][kind]
    client = web_client(facilities_user)
    before = row_counts()
    for data in ({}, {"confirm": ""}, {"confirm": "false"}):
        response = client.post(f"/{kind}/{holder.pk}/delete/", data)
        assert response.status_code == 409, data
        text = response.content.decode()
        assert f"still holds {len(nodes)} node(s)" in text and "Tick the box" in text, text[:2000]
    assert row_counts() == before


@pytest.mark.parametrize("kind", KINDS)
def test_web_delete_with_the_checkbox_deletes_the_nodes_and_keeps_history(facilities_user, estate, kind):
    holder, nodes = estate["holders"][kind], estate["held"][kind]
    node_total = Node.objects.count()
    response = web_client(facilities_user).post(f"/{kind}/{holder.pk}/delete/", {"confirm": "true"})
    assert response.status_code == 302, response.content[:2000]
    assert Node.objects.count() == node_total - len(nodes)
    racks = estate["racks"][kind]
    assert_deleted_with_history(kind, holder, nodes, racks, facilities_user, estate["bystander"])


@pytest.mark.parametrize("kind", KINDS)
def test_web_delete_of_an_empty_object_needs_no_confirmation(facilities_user, kind):
    holder = empty_holder(kind)
    response = web_client(facilities_user).post(f"/{kind}/{holder.pk}/delete/")
    assert response.status_code == 302
    assert not MODELS[kind].objects.filter(pk=holder.pk).exists()
    assert history_of(MODELS[kind], holder.pk)[-1].history_type == "-"


@pytest.mark.parametrize("kind", KINDS)
def test_web_procurement_may_not_delete(procurement_user, estate, kind):
    client = web_client(procurement_user)
    for holder in (estate["holders"][kind], empty_holder(kind)):
        before = row_counts()
        for data in ({}, {"confirm": "true"}):
            assert client.post(f"/{kind}/{holder.pk}/delete/", data).status_code == 403
        assert client.get(f"/{kind}/{holder.pk}/delete/").status_code == 403
        assert row_counts() == before
