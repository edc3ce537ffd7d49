"""The History section of object pages: who changed what and when (field, old -> new), newest first, bounded,
the same entries as the API's ``<resource>/{id}/history/``, and every name escaped."""

import html
import re

import pytest
from django.contrib.auth.models import Group, User

from planner.selectors.history import trail_history
from racks.models import Node, NodeModel
from tests.conftest import _token_client
from tests.web.conftest import build_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    return build_site(2, name="History site")


def _history(response) -> str:
    """The History section of a page (its HTML, still escaped)."""
    assert response.status_code == 200, response.status_code
    text = response.content.decode()
    start = text.index('id="history"')
    return text[start : text.index("</section>", start)]


def _plain(section: str) -> str:
    """The section's visible text: screen-reader-only words and tags dropped, entities decoded, whitespace
    collapsed."""
    section = re.sub(r'<span class="sr-only">[^<]*</span>', " ", section)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section)).split())


def test_rack_page_shows_who_changed_which_field(site, api, fac_client):
    rack = site["racks"][0]
    assert api.patch(f"/api/v1/racks/{rack.pk}/", {"max_load_kg": 1500}, format="json").status_code == 200
    section = _history(fac_client.get(f"/racks/{rack.pk}/"))
    text = _plain(section)
    assert "fac" in text
    assert "max_load_kg 1400 → 1500" in text
    assert text.index("changed") < text.index("created")  # newest first
    assert f'href="/api/v1/racks/{rack.pk}/history/"' in section


def test_rack_page_shows_its_nodes_changed_and_deleted(site, api, fac_client):
    rack = site["racks"][0]
    node = rack.nodes.get()
    assert api.patch(f"/api/v1/nodes/{node.pk}/", {"status": "planned"}, format="json").status_code == 200
    assert api.delete(f"/api/v1/nodes/{node.pk}/").status_code == 204
    text = _plain(_history(fac_client.get(f"/racks/{rack.pk}/")))
    assert "Node dgx-h100-1 deleted" in text
    assert "Node dgx-h100-1 changed status installed → planned" in text
    assert text.index("deleted") < text.index("changed")


def test_site_and_room_pages(site, api, fac_client):
    assert api.patch(f"/api/v1/sites/{site['site'].pk}/", {"country": "NL"}, format="json").status_code == 200
    text = _plain(_history(fac_client.get(f"/sites/{site['site'].pk}/")))
    assert "fac" in text and "country empty → NL" in text
    room = site["room"]
    assert api.patch(f"/api/v1/rooms/{room.pk}/", {"floor_rated_load_kg_m2": 1500}, format="json").status_code == 200
    text = _plain(_history(fac_client.get(f"/rooms/{room.pk}/")))
    assert "floor_rated_load_kg_m2 1224 → 1500" in text


EDIT_PAGES = {
    "rows": (lambda s: s["rows"][0], [{"aisle_width_mm": 1500}], "aisle_width_mm 1200 → 1500"),
    "pdus": (lambda s: s["racks"][0].pdus.get(side="A"), [{"current_a": 32}], "current_a 63 → 32"),
    "power-sources": (lambda s: s["ups"], [{"capacity_kw": 3000}], "capacity_kw 4000 → 3000"),
    "cooling-loops": (lambda s: s["cdu"], [{"units": 3}], "units 2 → 3"),
    # The catalogue is loaded by a migration (no history record): its first change is the baseline.
    "node-models": (
        lambda s: NodeModel.objects.get(slug="cpu-2u"),
        [{"weight_kg": 31}, {"weight_kg": 32.5}],
        "weight_kg 31 → 32.5",
    ),
}


@pytest.mark.parametrize("kind", sorted(EDIT_PAGES))
def test_edit_pages_show_the_objects_history(site, api, fac_client, kind):
    get, patches, expected = EDIT_PAGES[kind]
    obj = get(site)
    for patch in patches:
        response = api.patch(f"/api/v1/{kind}/{obj.pk}/", patch, format="json")
        assert response.status_code == 200, response.data
    section = _history(fac_client.get(f"/{kind}/{obj.pk}/edit/"))
    text = _plain(section)
    assert "fac" in text and expected in text
    assert f'href="/api/v1/{kind}/{obj.pk}/history/"' in section


def test_node_edit_page(site, api, fac_client):
    node = site["racks"][0].nodes.get()
    assert api.patch(f"/api/v1/nodes/{node.pk}/", {"name": "gpu-1"}, format="json").status_code == 200
    text = _plain(_history(fac_client.get(f"/nodes/{node.pk}/edit/")))
    assert "fac" in text and "name dgx-h100-1 → gpu-1" in text


def test_readers_see_history_too(site, api, proc_client):
    rack = site["racks"][0]
    api.patch(f"/api/v1/racks/{rack.pk}/", {"max_load_kg": 1500}, format="json")
    assert "max_load_kg 1400 → 1500" in _plain(_history(proc_client.get(f"/racks/{rack.pk}/")))


def test_names_are_escaped(site, fac_client):
    rack = site["racks"][0]
    evil = User.objects.create_user(username="<script>alert('u')</script>", password="evil-pass-123")
    evil.groups.add(Group.objects.get(name="facilities"))
    client = _token_client(evil)
    assert (
        client.patch(f"/api/v1/racks/{rack.pk}/", {"name": "<script>alert(1)</script>"}, format="json").status_code
        == 200
    )
    page = fac_client.get(f"/racks/{rack.pk}/")
    section = _history(page)
    assert "<script>" not in section
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert "&lt;script&gt;alert(&#x27;u&#x27;)&lt;/script&gt;" in section
    assert "<script>alert" not in page.content.decode()


def test_history_is_bounded_with_a_link_to_the_api(site, api, fac_client):
    rack = site["racks"][0]
    for kg in range(1401, 1426):  # 25 changes
        assert api.patch(f"/api/v1/racks/{rack.pk}/", {"max_load_kg": kg}, format="json").status_code == 200
    section = _history(fac_client.get(f"/racks/{rack.pk}/"))
    assert section.split("<tbody>")[1].count("<tr>") == 20  # the 20 newest entries
    text = _plain(section)
    assert "max_load_kg 1424 → 1425" in text and "1401 → 1402" not in text
    assert "The last 20 changes" in text
    assert f"/api/v1/racks/{rack.pk}/history/" in section


def test_page_entries_match_the_api(site, api, proc_api, fac_client):
    row = site["rows"][0]
    api.patch(f"/api/v1/rows/{row.pk}/", {"containment": "cold_aisle", "aisle_width_mm": 1400}, format="json")
    entries = proc_api.get(f"/api/v1/rows/{row.pk}/history/").json()["results"]
    text = _plain(_history(fac_client.get(f"/rows/{row.pk}/edit/")))
    for change in entries[0]["changes"]:
        assert change["field"] in text
    assert "containment hot_aisle → cold_aisle" in text and "aisle_width_mm 1200 → 1400" in text


def test_trail_diffs_against_a_record_outside_the_window(site, api, django_assert_num_queries):
    """A node change whose previous record is older than the window still shows its fields (one more query)."""
    rack = site["racks"][0]
    node = rack.nodes.get()
    api.patch(f"/api/v1/nodes/{node.pk}/", {"name": "renamed"}, format="json")
    with django_assert_num_queries(2):
        entries, more = trail_history(Node.history.filter(rack_id=rack.pk), 1)
    assert more is True
    assert entries[0]["type"] == "changed"
    assert [(c["field"], c["old"], c["new"]) for c in entries[0]["changes"]] == [("name", "dgx-h100-1", "renamed")]
    assert entries[0]["user"] == "fac"


def test_first_recorded_change_without_a_baseline(site, api, fac_client):
    """Catalogue models come from a data migration, which records no history: their first change has nothing
    to diff against, and the page says so instead of "no field changed"."""
    model = NodeModel.objects.get(slug="dgx-b200")
    model.history.all().delete()
    assert api.patch(f"/api/v1/node-models/{model.pk}/", {"weight_kg": 143}, format="json").status_code == 200
    text = _plain(_history(fac_client.get(f"/node-models/{model.pk}/edit/")))
    assert "earlier values were not recorded" in text


def test_pages_without_history_records_say_so(site, fac_client):
    """Rows made before history was recorded (e.g. bulk loads) leave an empty trail: the page says so."""
    row = site["rows"][0]
    row.history.all().delete()
    section = _history(fac_client.get(f"/rows/{row.pk}/edit/"))
    assert "No recorded change" in section
