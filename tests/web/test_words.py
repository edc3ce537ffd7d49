"""Words for people (issue #16 item 6): rule codes with their names, choices with their labels, citations
linked to the Sources page, no configuration keys or design-document references, retrofit advice in short
rows with details on demand."""

import io
import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from planner.engine.results import RULE_CODES
from planner.sources import cite, parse, sources
from planner.web import labels
from racks.models import Node, NodeModel, Rack

ROOT = Path(__file__).resolve().parents[2]


def test_every_rule_code_has_a_name_and_a_line_of_explanation():
    assert set(RULE_CODES) <= set(labels.RULES)
    for code in RULE_CODES:
        name, text = labels.RULES[code]
        assert name and text and "\n" not in text, code


def test_sources_are_parsed_with_sub_entries_titles_and_urls():
    md = (
        "## 10. Sources\n\n* [S1] NVIDIA, *DGX H100 User Guide*,\n"
        "  https://docs.example/h100.html — read from a copy.\n"
        "* [S2] Vendor page, https://a.example/b ; [S2b] second page, https://c.example/d\n"
        "  [S2c] indented sub-entry, no URL.\n## Sources (new)\n\n* [S101] = [S1] same guide again\n"
    )
    got = parse(md)
    assert list(got) == ["S1", "S2", "S2b", "S2c", "S101"]
    assert got["S1"].title == "DGX H100 User Guide" and got["S1"].urls == ("https://docs.example/h100.html",)
    assert got["S2"].urls == ("https://a.example/b",) and got["S2"].title == "Vendor page"
    assert got["S2b"].urls == ("https://c.example/d",)
    assert got["S2c"].text == "indented sub-entry, no URL." and got["S2c"].section == "Sources"
    assert got["S101"].section == "Sources (new)"


def test_every_tag_the_code_and_the_catalogue_cite_resolves():
    out = subprocess.run(
        ["grep", "-rhoE", r"\[S[0-9]+[a-z]?\]", "planner", "racks", "cooling", "--include=*.py", "--include=*.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    cited = {t[1:-1] for t in out} - {"S2", "S2b"}  # the docstring example of planner/sources.py
    assert len(cited) > 30
    assert sorted(cited - set(sources())) == []


def test_cite_links_known_tags_and_escapes_the_rest():
    html = cite("P [S54] <b>, unknown [S9999]")
    assert '<a href="/sources/#S54" title="' in html
    assert "&lt;b&gt;" in html and "[S9999]" in html and "/sources/#S9999" not in html


@pytest.mark.django_db
def test_sources_page_lists_every_entry_with_an_anchor(fac_client, proc_client):
    html = fac_client.get("/sources/").content.decode()
    assert html.count("<dt id=") == len(sources()) > 150
    assert '<dt id="S54">[S54]</dt>' in html
    assert 'href="https://docs.nvidia.com/dgx/dgxh100-user-guide/introduction-to-dgxh100.html"' in html
    assert proc_client.get("/sources/").status_code == 200


@pytest.mark.django_db
def test_catalogue_citations_link_to_their_entries(fac_client):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    html = fac_client.get("/catalogue/").content.decode()
    links = set(re.findall(r'href="/sources/#(S\d+[a-z]?)"', html))
    assert links and links <= set(sources())


@pytest.mark.django_db
def test_retrofit_advice_in_short_rows_and_words(fac_client):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    rack = Rack.objects.get(name="A1-06")
    b200 = NodeModel.objects.get(slug="dgx-b200")
    for i in range(2):
        Node.objects.create(rack=rack, model=b200, u_position=1 + 10 * i, name=f"b{i}")
    html = fac_client.get(f"/racks/{rack.pk}/").content.decode()
    table = html[html.index('<table class="data compact retrofits">') :]
    table = table[: table.index("</table>")]
    heads = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table)
    assert heads == ["What", "Resolves", "Still failing", "Cost (USD)", "Lead time"]
    assert table.count('<tr class="retrofit-row">') == table.count("<details>") >= 1
    assert "Rack air cooling <code>COOLING_AIR_RACK</code>" in table
    assert "DESIGN" not in html and "_capex_usd" not in html and "set in_row" not in html


def test_for_people_rewrites_keys_and_design_references():
    assert labels.for_people("capex 0; no sourced cost; set in_row_capex_usd_per_kw") == (
        "capex 0; cost not configured: no sourced figure (an administrator sets it in RETROFIT_CONFIG_JSON)"
    )
    assert labels.for_people("DESIGN rows default (containment none: 10 kW)") == (
        "planner default (containment none: 10 kW)"
    )
    assert labels.for_people("clean note") == "clean note"


def test_choices_show_their_labels():
    assert labels.choice_label("hot_aisle", "containment") == "Hot-aisle containment"
    assert labels.choice_label("direct_liquid", "loop_kind").startswith("Direct")
    assert labels.choice_label("weird", "containment") == "weird"
