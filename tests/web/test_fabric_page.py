"""The room's fabric page: switches, leaf ports per rail and reach, the same figures as the placement check."""

from __future__ import annotations

from tests.api.test_fabric import _fabric, _room


def test_fabric_page_shows_switches_ports_and_reach(db, api, fac_client, django_assert_num_queries):
    site, racks = _room()
    _fabric(api, site, racks)
    room = racks["A1"].row.room
    with django_assert_num_queries(12):  # as the empty page (tests/web/test_queries.py): constant in rows
        response = fac_client.get(f"/rooms/{room.pk}/fabric/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("leaf-") >= 8
    # B1: 1.2 + 2.4 = 3.6 m route, + 2 m slack = 5.6 m -> multimode SR4, 16.5 W per link (reference §11.4).
    assert '3.6</td><td class="num">5.6</td><td>multimode SR4 optics</td><td class="num">16.5' in html
    # 8 rails x 32 node-facing ports, none used yet
    assert html.count('<td class="num">0</td><td class="num">32</td><td class="num">32</td>') == 8


def test_fabric_page_empty_and_missing(db, fac_client):
    _site, racks = _room()
    room = racks["A1"].row.room
    response = fac_client.get(f"/rooms/{room.pk}/fabric/")
    assert response.status_code == 200 and "No fabric serves a rack of this room." in response.content.decode()
    assert fac_client.get("/rooms/999999/fabric/").status_code == 404
