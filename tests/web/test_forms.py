"""Create, edit and delete through the forms: valid input saves, invalid input says why in the API's words,
and deleting something that still holds nodes needs an explicit confirmation."""

import html

import pytest

from cooling.models import CoolingLoop
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_create_the_whole_chain_through_the_forms(fac_client):
    r = fac_client.post("/sites/new/", {"name": "Ashburn 1", "slug": "ashburn-1", "power_derating": 0.8})
    site = Site.objects.get(slug="ashburn-1")
    assert r.status_code == 302 and r["Location"] == f"/sites/{site.pk}/"
    r = fac_client.post(
        f"/rooms/new/?site={site.pk}",
        {
            "site": site.pk,
            "name": "Hall A",
            "floor_type": "slab",
            "floor_rated_load_kg_m2": 1224,
            "floor_load_method": "footprint",
        },
    )
    room = Room.objects.get(site=site)
    assert r["Location"] == f"/rooms/{room.pk}/"
    r = fac_client.post(
        f"/rows/new/?room={room.pk}",
        {"room": room.pk, "name": "R1", "aisle_width_mm": 1200, "containment": "hot_aisle"},
    )
    row = Row.objects.get(room=room)
    r = fac_client.post(
        f"/racks/new/?row={row.pk}",
        {
            "row": row.pk,
            "name": "R1-01",
            "position": 1,
            "u_height": 42,
            "width_mm": 600,
            "depth_mm": 1200,
            "max_load_kg": 1400,
            "empty_weight_kg": 150,
        },
    )
    rack = Rack.objects.get(row=row)
    assert r["Location"] == f"/racks/{rack.pk}/"
    r = fac_client.post(
        f"/power-sources/new/?site={site.pk}", {"site": site.pk, "name": "UPS-A", "kind": "ups", "capacity_kw": 500}
    )
    ups = PowerSource.objects.get(site=site)
    for side in "AB":
        r = fac_client.post(
            f"/pdus/new/?rack={rack.pk}",
            {
                "rack": rack.pk,
                "name": f"PDU-{side}",
                "side": side,
                "phases": 3,
                "voltage_v": 415,
                "current_a": 63,
                "power_factor": 1.0,
                "source": ups.pk,
            },
        )
        assert r.status_code == 302, r.content.decode()[:2000]
    r = fac_client.post(
        f"/cooling-loops/new/?site={site.pk}",
        {
            "site": site.pk,
            "room": room.pk,
            "name": "CRAH",
            "kind": "crah",
            "unit_capacity_kw": 100,
            "units": 3,
            "redundant_units": 1,
            "supply_temp_c": 22,
            "delta_t_c": 12,
            "fluid": "air",
        },
    )
    assert r.status_code == 302
    assert Pdu.objects.filter(rack=rack).count() == 2
    assert CoolingLoop.objects.get(site=site).room == room
    # The rack page shows the PDUs by side with their usable kW (415 V x 63 A x sqrt(3) x 0.8 = 36.23 kW).
    html = fac_client.get(f"/racks/{rack.pk}/").content.decode()
    assert "Side A" in html and "Side B" in html and "36.23 kW" in html


def test_invalid_input_says_why_like_the_api(fac_client):
    site = f.SiteFactory()
    room = f.RoomFactory(site=site)
    r = fac_client.post(
        f"/cooling-loops/new/?site={site.pk}",
        {
            "site": site.pk,
            "room": room.pk,
            "name": "CDU",
            "kind": "direct_liquid",
            "unit_capacity_kw": 400,
            "units": 2,
            "redundant_units": 2,
            "supply_temp_c": 30,
            "delta_t_c": 10,
            "fluid": "air",
        },
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert "Must be fewer than units (2)" in html  # the serializer's words
    assert "A liquid loop needs a liquid fluid" in html
    assert 'aria-invalid="true"' in html
    assert not CoolingLoop.objects.exists()

    r = fac_client.post("/sites/new/", {"name": "X", "slug": "x", "power_derating": 1.5})
    assert r.status_code == 400 and "less than or equal to 1" in r.content.decode()
    r = fac_client.post("/sites/new/", {"name": "Y", "slug": "not a slug", "power_derating": 0.8})
    assert r.status_code == 400 and "slug" in r.content.decode().lower()

    r = fac_client.post(
        "/node-models/new/",
        {
            "slug": "box",
            "vendor": "V",
            "name": "Box",
            "u_height": 2,
            "max_power_kw": 1,
            "typical_power_kw": 2,
            "weight_kg": 20,
            "cooling": "air",
            "liquid_fraction": 0.5,
            "psu_count": 2,
            "psu_rating_kw": 1,
            "psus_required": 3,
        },
    )
    html = r.content.decode()
    assert r.status_code == 400
    for message in (
        "Cannot exceed psu_count.",
        "Cannot exceed max_power_kw.",
        "An air-cooled model has liquid_fraction 0.",
    ):
        assert message in html, message


def test_pdu_source_from_another_site_is_refused(fac_client):
    rack = f.RackFactory()
    other = f.PowerSourceFactory()
    r = fac_client.post(
        "/pdus/new/",
        {
            "rack": rack.pk,
            "name": "PDU-A",
            "side": "A",
            "phases": 3,
            "voltage_v": 415,
            "current_a": 63,
            "power_factor": 1.0,
            "source": other.pk,
        },
    )
    assert r.status_code == 400
    page = html.unescape(r.content.decode())
    assert f'Power source "{other}" belongs to site "{other.site}", but rack "{rack}" is in site' in page


def test_rack_cannot_shrink_below_its_nodes(fac_client):
    node = f.NodeFactory(model=NodeModel.objects.get(slug="dgx-h100"), u_position=30)
    rack = node.rack
    r = fac_client.post(
        f"/racks/{rack.pk}/edit/",
        {
            "row": rack.row_id,
            "name": rack.name,
            "position": rack.position,
            "u_height": 20,
            "width_mm": 600,
            "depth_mm": 1200,
            "max_load_kg": 1400,
            "empty_weight_kg": 150,
        },
    )
    assert r.status_code == 400 and "Nodes occupy up to U37" in r.content.decode()
    rack.refresh_from_db()
    assert rack.u_height == 42


def test_delete_with_nodes_needs_confirmation(fac_client):
    node = f.NodeFactory()
    rack = node.rack
    page = fac_client.get(f"/racks/{rack.pk}/delete/").content.decode()
    assert "still holds 1 node" in page and 'name="confirm"' in page
    r = fac_client.post(f"/racks/{rack.pk}/delete/")
    assert r.status_code == 409 and "Tick the box" in r.content.decode()
    assert Rack.objects.filter(pk=rack.pk).exists()
    r = fac_client.post(f"/racks/{rack.pk}/delete/", {"confirm": "true"})
    assert r.status_code == 302
    assert not Rack.objects.filter(pk=rack.pk).exists() and not Node.objects.exists()


def test_delete_without_nodes_needs_no_tick(fac_client):
    row = f.RowFactory()
    r = fac_client.post(f"/rows/{row.pk}/delete/")
    assert r.status_code == 302 and r["Location"] == f"/rooms/{row.room_id}/"
    assert not Row.objects.filter(pk=row.pk).exists()


def test_protected_objects_say_what_uses_them(fac_client):
    rack = f.RackFactory()
    pdu = f.PduFactory(rack=rack, source=f.PowerSourceFactory(site=rack.row.room.site))
    r = fac_client.post(f"/power-sources/{pdu.source_id}/delete/")
    assert r.status_code == 409 and "still in use" in r.content.decode()
    model = NodeModel.objects.get(slug="cpu-2u")
    f.NodeFactory(model=model)
    r = fac_client.post(f"/node-models/{model.pk}/delete/")
    assert r.status_code == 409
    assert NodeModel.objects.filter(pk=model.pk).exists()


def test_edit_keeps_values_and_saves(fac_client):
    site = f.SiteFactory(name="Old")
    form = fac_client.get(f"/sites/{site.pk}/edit/").content.decode()
    assert 'value="Old"' in form and "Utility capacity (kW)" in form
    r = fac_client.post(
        f"/sites/{site.pk}/edit/", {"name": "New", "slug": site.slug, "power_derating": 1.0, "design_pue": 1.3}
    )
    assert r.status_code == 302
    site.refresh_from_db()
    assert (site.name, site.power_derating, site.design_pue) == ("New", 1.0, 1.3)


def test_unknown_kind_is_404(fac_client):
    assert fac_client.get("/widgets/new/").status_code == 404


def test_delete_a_whole_site_with_its_power_chain(fac_client, db):
    from tests.web.conftest import build_site

    s = build_site(3)
    r = fac_client.post(f"/sites/{s['site'].pk}/delete/")
    assert r.status_code == 409  # three nodes: needs the tick
    r = fac_client.post(f"/sites/{s['site'].pk}/delete/", {"confirm": "true"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert not Site.objects.exists() and not PowerSource.objects.exists() and not Node.objects.exists()


def test_model_clean_form_and_api_say_the_same(fac_client, api):
    """One copy of each cross-row invariant, in the model's clean(): the model itself, the page and the API refuse
    the same node model in the same words (a 2-PSU model needing 3 PSUs)."""
    from django.core.exceptions import ValidationError

    body = {
        "slug": "box3",
        "vendor": "V",
        "name": "Box3",
        "u_height": 2,
        "max_power_kw": 2,
        "typical_power_kw": 1,
        "weight_kg": 20,
        "cooling": "air",
        "liquid_fraction": 0,
        "psu_count": 2,
        "psu_rating_kw": 1,
        "psus_required": 3,
    }
    with pytest.raises(ValidationError) as exc:
        NodeModel(**body).full_clean()
    assert exc.value.message_dict["psus_required"] == ["Cannot exceed psu_count."]
    page = fac_client.post("/node-models/new/", body)
    assert page.status_code == 400 and "Cannot exceed psu_count." in page.content.decode()
    assert "onstraint" not in page.content.decode()  # the model's words, not the check constraint's name
    r = api.post("/api/v1/node-models/", body, format="json")
    assert r.status_code == 400 and r.json()["errors"]["psus_required"] == ["Cannot exceed psu_count."]
    body["psus_required"] = 2  # the clean case saves everywhere
    NodeModel(**{**body, "slug": "box4", "name": "Box4"}).full_clean()
    assert api.post("/api/v1/node-models/", body, format="json").status_code == 201


def test_form_applies_the_apis_input_bounds(fac_client):
    f.SiteFactory(name="Hall")
    r = fac_client.post(
        "/sites/new/", {"name": "X\u202e", "slug": "x", "power_derating": 0.8, "utility_capacity_kw": 1e13}
    )
    page = r.content.decode()
    assert r.status_code == 400 and "Invisible Unicode" in page and "Must be between" in page
    r = fac_client.post("/sites/new/", {"name": "hall", "slug": "hall2", "power_derating": 0.8})
    assert r.status_code == 400 and "regardless of case" in r.content.decode()
    assert fac_client.post("/sites/new/", {"name": "Hall 2", "slug": "hall2", "power_derating": 0.8}).status_code == 302
