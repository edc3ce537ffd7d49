"""Site dashboard charts (server-built Plotly, local plotly-basic.min.js), the floor plan and the site list."""

import json
import re
from pathlib import Path

import pytest

from planner.models import CapacityReport
from racks.models import Rack
from tests.web.conftest import build_site

pytestmark = pytest.mark.django_db


def figures(html: str) -> dict[str, dict]:
    return {
        name: json.loads(body)
        for name, body in re.findall(r'<script type="application/json" id="figure-(\w+)">(.*?)</script>', html, re.S)
    }


def test_dashboard_draws_four_charts_with_local_plotly(small_site, fac_client):
    html = fac_client.get(f"/sites/{small_site['site'].pk}/").content.decode()
    assert '<script src="/static/vendor/plotly-basic.min.js"></script>' in html
    assert "cdn" not in html.lower()
    figs = figures(html)
    assert set(figs) == {"headroom", "density", "heat", "history"}
    assert {t["name"] for t in figs["headroom"]["data"]} == {"Hall 1"}
    assert figs["density"]["data"][0]["y"] == [0, 0, 2, 0, 0, 0, 0]  # two racks of 10.2 kW: the 10-20 kW band
    history = figs["history"]["data"]
    assert [t["name"] for t in history] == ["IT load", "Power capacity", "Air heat", "Liquid heat"]
    assert history[0]["x"] == ["2025-01-09", "2025-01-10"]
    for fig_id in ("headroom", "density", "heat", "history"):
        assert f'data-figure="figure-{fig_id}"' in html


def test_history_has_an_empty_state(small_site, fac_client):
    CapacityReport.objects.all().delete()
    html = fac_client.get(f"/sites/{small_site['site'].pk}/").content.decode()
    assert "history" not in figures(html)
    assert "No nightly capacity report yet" in html


def test_empty_site_dashboard(fac_client, db):
    from racks.models import Site

    site = Site.objects.create(name="Empty", slug="empty")
    html = fac_client.get(f"/sites/{site.pk}/").content.decode()
    assert figures(html) == {}
    assert "Nothing to draw yet" in html and "No rooms yet." in html


def test_floor_plan_draws_every_rack_by_row_and_position_with_a_legend(db, fac_client):
    s = build_site(10)
    html = fac_client.get(f"/rooms/{s['room'].pk}/").content.decode()
    for rack in s["racks"]:
        assert f'href="/racks/{rack.pk}/" style="grid-column:{rack.position};' in html
    assert html.count('class="fp-row"') == 2
    legend = re.findall(r'<span class="count">\((\d+)\)</span>', html)
    assert sum(int(n) for n in legend) == 10
    # Every rack holds one 10.2 kW DGX H100: the "≤ 10 kW" band is empty, the "10-20 kW" band has them all.
    assert '10-20 kW (containment) <span class="count">(10)</span>' in html


@pytest.mark.parametrize("metric", ["kw", "power_pct", "cooling_pct", "floor_pct", "free_u"])
def test_floor_plan_metrics(small_site, fac_client, metric):
    html = fac_client.get(f"/rooms/{small_site['room'].pk}/?metric={metric}").content.decode()
    assert f'<option value="{metric}" selected>' in html
    assert html.count('class="fp-rack"') == 2


def test_floor_plan_values(small_site, fac_client):
    # 10.2 kW on 36.23 kW per side; air heat at the published 11.2999 kW (38,557 BTU/h, reference §1.3) of
    # 25 kW (hot aisle, no door): 45 %.
    rack = small_site["racks"][1]
    html = fac_client.get(f"/rooms/{small_site['room'].pk}/?metric=power_pct").content.decode()
    assert f"Rack {rack.name}, Power used 28 %" in html
    html = fac_client.get(f"/rooms/{small_site['room'].pk}/?metric=cooling_pct").content.decode()
    assert f"Rack {rack.name}, Cooling used 45 %" in html
    html = fac_client.get(f"/rooms/{small_site['room'].pk}/?metric=free_u").content.decode()
    assert f"Rack {rack.name}, Free space 34 U" in html


def test_unknown_metric_falls_back_to_kw(small_site, fac_client):
    html = fac_client.get(f"/rooms/{small_site['room'].pk}/?metric=nope").content.decode()
    assert '<option value="kw" selected>' in html


def test_names_are_escaped_everywhere(small_site, fac_client):
    rack = small_site["racks"][0]
    Rack.objects.filter(pk=rack.pk).update(name='<img src=x onerror="alert(1)">')
    for url in (f"/rooms/{small_site['room'].pk}/", f"/racks/{rack.pk}/", f"/sites/{small_site['site'].pk}/"):
        html = fac_client.get(url).content.decode()
        assert "<img src=x" not in html, url
    small_site["room"].name = "</script><script>alert(1)</script>"
    small_site["room"].save()
    html = fac_client.get(f"/sites/{small_site['site'].pk}/").content.decode()
    assert "</script><script>alert(1)" not in html
    assert figures(html)["headroom"]["data"][0]["name"] == "</script><script>alert(1)</script>"


def test_site_list_headline(db, fac_client):
    s = build_site(4)
    html = fac_client.get("/").content.decode()
    assert f'href="/sites/{s["site"].pk}/"' in html
    # 4 x 10.2 kW of IT load against 4 racks x 36.23 kW (smaller side), capped by nothing (5,000 kW utility).
    assert "40.8 / 145" in html
    # Air: 4 x 11.2999 = 45.2 kW (published heat output, reference §1.3) over CRAH 600 + door 50 kW usable.
    assert "45.2 / 650" in html


JS_BUDGET_BYTES = 1_500_000  # issue #16: the dashboard's first load stays under 1.5 MB of JavaScript


def test_dashboard_javascript_under_budget(small_site, fac_client):
    """Every script the dashboard loads, summed: the Plotly partial bundle (1,191,749 bytes) + planner.js."""
    from django.contrib.staticfiles import finders

    html = fac_client.get(f"/sites/{small_site['site'].pk}/").content.decode()
    srcs = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)
    assert "/static/vendor/plotly-basic.min.js" in srcs
    total = 0
    for src in srcs:
        assert src.startswith("/static/"), src  # no CDN, nothing from another origin
        path = finders.find(src.removeprefix("/static/"))
        assert path, src
        total += Path(path).stat().st_size
    inline = sum(len(s) for s in re.findall(r"<script>(.*?)</script>", html, re.S))
    assert 1_190_000 < total + inline < JS_BUDGET_BYTES, total + inline
