"""The overview figures agree with the engine, and the site list's SQL path agrees with the snapshot path."""

import io

import pytest
from django.core.management import call_command

from cooling.models import CoolingLoop
from planner import engine, selectors
from planner.web.headlines import headline_from_figures, site_headlines
from planner.web.metrics import figures_from_context
from racks.models import Site
from tests.web.conftest import build_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--no-users", stdout=io.StringIO())
    return Site.objects.get(slug="demo-campus")


def test_rack_figures_match_the_engine(demo):
    snapshot = selectors.site_snapshot(demo.pk)
    assert len(snapshot.contexts) == 30
    for ctx in snapshot.contexts.values():
        fig = figures_from_context(ctx)
        head = engine.rack_headroom(ctx).to_dict()
        checks = {c.code: c.status for c in engine.check_rack(ctx).checks}
        name = ctx.rack.name
        assert fig.kw == pytest.approx(head["power"]["load_kw"]), name
        assert fig.power_capacity_kw == pytest.approx(head["power"]["capacity_kw"]), name
        assert fig.air_kw == pytest.approx(head["cooling_air"]["load_kw"]), name
        assert fig.air_capacity_kw == pytest.approx(head["cooling_air"]["capacity_kw"]), name
        assert fig.liquid_kw == pytest.approx(head["cooling_liquid"]["load_kw"]), name
        assert fig.equipment_kg == pytest.approx(head["rack_load"]["load_kg"]), name
        assert fig.floor_kg_m2 == pytest.approx(head["floor"]["load_kg_m2"]), name
        assert fig.free_u == head["space"]["free_u"], name
        assert (
            (fig.power_ratio or 0) > 1 + 1e-9 if checks["POWER_RACK"] == "fail" else (fig.power_ratio or 0) <= 1 + 1e-9
        )
        assert (fig.air_kw > fig.air_capacity_kw + 1e-9) == (checks["COOLING_AIR_RACK"] == "fail"), name


def test_site_list_headline_matches_the_snapshot(demo, db):
    build_site(5, name="Second site")
    by_site = {h.site.pk: h for h in site_headlines()}
    assert len(by_site) == 2
    for site in Site.objects.all():
        snapshot = selectors.site_snapshot(site.pk)
        loops = [
            (lp.kind, engine.loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units))
            for lp in CoolingLoop.objects.filter(site=site)
        ]
        expected = headline_from_figures(site, [figures_from_context(c) for c in snapshot.contexts.values()], loops)
        got = by_site[site.pk]
        for field in (
            "rack_count",
            "it_load_kw",
            "usable_power_kw",
            "air_heat_kw",
            "air_capacity_kw",
            "liquid_heat_kw",
            "liquid_capacity_kw",
            "racks_near_limit",
        ):
            assert getattr(got, field) == pytest.approx(getattr(expected, field)), (site.name, field)
    demo_head = by_site[demo.pk]
    assert demo_head.rack_count == 30 and demo_head.liquid_heat_kw > 0 and demo_head.racks_near_limit > 0


def _liquid_model():
    from racks.models import NodeModel

    return NodeModel.objects.create(
        slug="test-dlc", vendor="T", name="DLC", u_height=2, max_power_kw=10, typical_power_kw=8, weight_kg=30,
        cooling="liquid", liquid_fraction=0.8,
    )  # fmt: skip


def test_headline_serves_liquid_by_the_selectors_tiers(db):
    """A rack listed by a CDU sends its liquid heat there; an unlisted one to its room's CDU, not the site's. The
    site list reads the same serving rules as the rack check (selectors), so both agree rack by rack:
    rack 1: 10 kW x 0.8 = 8 kW on the 10 kW listed CDU = 80 % (near a limit: >= 0.8 used);
    rack 2: 8 kW on the 20 kW room CDU = 40 %; the 100 kW site-wide CDU carries nothing."""
    from tests import factories as f

    site = f.SiteFactory()
    room = f.RoomFactory(site=site)
    row = f.RowFactory(room=room)
    r1, r2 = f.RackFactory(row=row), f.RackFactory(row=row)
    model = _liquid_model()
    for rack in (r1, r2):
        f.NodeFactory(rack=rack, model=model)
        f.PduFactory(rack=rack)  # 415 V x 63 A x sqrt(3) x 0.8 = 36.2 kW: power at 10 / 36.2 = 28 %, not near
    cdu = {"kind": "direct_liquid", "fluid": "water", "units": 1, "redundant_units": 0, "supply_temp_c": 30}
    f.CoolingLoopFactory(site=site, room=None, name="Site CDU", unit_capacity_kw=100, **cdu)
    f.CoolingLoopFactory(site=site, room=room, name="Room CDU", unit_capacity_kw=20, **cdu)
    f.CoolingLoopFactory(site=site, room=room, name="Listed CDU", unit_capacity_kw=10, **cdu).racks.set([r1])
    head = next(h for h in site_headlines() if h.site.pk == site.pk)
    snapshot = selectors.site_snapshot(site.pk)
    figures = {c.rack.rack_id: figures_from_context(c) for c in snapshot.contexts.values()}
    assert head.liquid_heat_kw == pytest.approx(16.0)  # 2 x 8 kW
    assert figures[r1.pk].liquid_loops == [pytest.approx((8.0, 10.0))]
    assert figures[r2.pk].liquid_loops == [pytest.approx((8.0, 20.0))]
    expected = headline_from_figures(
        site, list(figures.values()), [(lp.kind, lp.unit_capacity_kw) for lp in CoolingLoop.objects.filter(site=site)]
    )
    assert head.racks_near_limit == expected.racks_near_limit == 1  # rack 1 only (a site-wide CDU: none)
    assert head.liquid_capacity_kw == pytest.approx(expected.liquid_capacity_kw) == pytest.approx(130.0)
