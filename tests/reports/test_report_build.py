"""Report content on a small hand-checked site; reruns replace, never duplicate; fixed query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from planner import reports
from planner.models import CapacityReport
from racks.models import NodeModel
from tests import factories as f
from tests.reports.conftest import DAY, PDU_KW, previous_report

approx = pytest.approx


def test_totals_near_limit_and_risks_by_hand(small_site):
    report = reports.report_build(small_site.site.id, DAY)
    data, totals = report.data, report.data["totals"]

    # Power: three racks of one 18.40 kW side each (R2 has side A only, A+B racks count the smaller side).
    # Load at max power: H100 10.2 + A100 6.5 (planned) + 2 x CPU 1.5 = 19.7 kW.
    assert totals["power"]["capacity"] == approx(3 * PDU_KW, abs=1e-3)
    assert totals["power"]["load"] == approx(19.7)
    assert totals["power"]["planned"] == approx(6.5)
    assert totals["power"]["installed"] == approx(13.2)
    assert totals["power"]["headroom"] == approx(3 * PDU_KW - 19.7, abs=1e-3)
    assert totals["power"]["limit"] == approx(3 * PDU_KW, abs=1e-3)
    assert report.it_load_kw == approx(19.7)
    assert report.power_capacity_kw == approx(3 * PDU_KW, abs=1e-3)

    # Air: hot-aisle containment gives 25 kW per rack (75 kW) under a 2 x 100 kW CRAH room; all heat is air,
    # the H100's at its published heat output 11.2999 kW (reference §1.3): 11.2999 + 6.5 + 2 x 1.5 = 20.7999 kW.
    assert totals["cooling_air"]["capacity"] == approx(75.0)
    assert totals["cooling_air"]["load"] == approx(20.7999, abs=1e-3)
    assert totals["cooling_air"]["headroom"] == approx(75.0 - 20.7999, abs=1e-3)
    assert report.air_heat_kw == approx(20.7999, abs=1e-3)
    # Liquid: one 50 kW CDU, nothing on it.
    assert totals["cooling_liquid"]["capacity"] == approx(50.0)
    assert totals["cooling_liquid"]["load"] == approx(0.0)
    assert report.liquid_heat_kw == approx(0.0)
    # Space: 3 x 42 U; H100 8 U + A100 6 U (planned) + 2 x 2 U = 18 U used.
    assert totals["space"] == {
        **totals["space"],
        "capacity": 126.0,
        "load": 18.0,
        "planned": 6.0,
        "installed": 12.0,
        "headroom": 108.0,
    }
    # Rack load: 3 x 1,400 kg frames; 130.45 + 123.16 (planned) + 2 x 32 kg on them.
    assert totals["rack_load"]["capacity"] == approx(4200.0)
    assert totals["rack_load"]["load"] == approx(317.61)
    assert totals["rack_load"]["planned"] == approx(123.16)
    assert report.rack_count == 3 and report.node_count == 4 and data["planned_node_count"] == 1

    # Site headroom of the contract, rooms and rows nested.
    head = data["headroom"]
    assert [room["name"] for room in head["rooms"]] == ["Hall 1"]
    assert [row["name"] for row in head["rooms"][0]["rows"]] == ["Row A"]
    assert head["rooms"][0]["rows"][0]["rack_count"] == 3

    # Near a limit: only R1, on power: (18.40 - 16.7) / 18.40 = 9.2 % <= 10 %.
    assert [e["name"] for e in data["near_limit"]] == ["R1"]
    r1 = data["near_limit"][0]
    assert r1["worst"] == "power"
    assert r1["limits"] == {"power": approx((PDU_KW - 16.7) / PDU_KW, abs=1e-4)}
    assert r1["room_name"] == "Hall 1" and r1["row_name"] == "Row A"

    risks = data["risks"]
    assert [r["name"] for r in risks["single_feed"]["racks"]] == ["R2"]
    assert risks["single_feed"]["racks"][0]["side"] == "A"
    # DGX H100: 6 PSUs x 3.3 kW; one feed lost leaves 3 x 3.3 = 9.9 kW < 10.2 kW. A100 (9 >= 6.5), CPU fine.
    assert risks["psu_feed_loss"]["node_count"] == 1
    [h100] = risks["psu_feed_loss"]["by_model"]
    assert {k: v for k, v in h100.items() if k != "name"} == {
        "slug": "dgx-h100",
        "nodes": 1,
        "psu_count": 6,
        "powered_psus": 3,
        "powered_kw": 9.9,
        "max_power_kw": 10.2,
    }
    assert [r["name"] for r in risks["psu_feed_loss"]["racks"]] == ["R1"]
    # CDU 1 has no redundant unit but carries no liquid heat: COOLING_LIQUID_REDUNDANCY is ok on every rack, so
    # the report lists no loop (test_liquid_redundancy_from_the_rule has the loaded cases).
    assert risks["liquid_no_redundancy"] == {"count": 0, "loops": []}
    kinds = [r["kind"] for r in risks["top"]]
    assert {"single_feed", "psu_feed_loss", "near_limit"} <= set(kinds)

    # First report: nothing to compare with, and one day of history is no trend.
    assert data["changes"]["previous_day"] is None
    assert data["forecast"]["power"]["status"] == "insufficient_history"
    assert report.summary["near_limit_count"] == 1
    assert report.summary["totals"] == totals


def test_changes_and_forecast_from_history(small_site):
    site = small_site.site
    gone = {"rack": 999_999, "name": "R-old", "row_name": "Row A", "room_name": "Hall 1", "worst": "space",
            "worst_ratio": 0.0, "limits": {"space": 0.0}}  # fmt: skip
    previous_report(site, DAY - timedelta(days=2), installed={"power": 11.2, "space": 10.0})
    previous_report(
        site,
        DAY - timedelta(days=1),
        installed={"power": 12.2, "space": 11.0},
        load={"power": 18.7, "space": 17.0},
        nodes=3,
        racks=3,
        near_limit=[gone],
    )
    report = reports.report_build(site.id, DAY)
    changes, forecast = report.data["changes"], report.data["forecast"]

    assert changes["previous_day"] == (DAY - timedelta(days=1)).isoformat()
    assert changes["node_count_delta"] == 1
    assert changes["rack_count_delta"] == 0
    assert changes["totals"]["power"]["load"] == approx(1.0)
    assert changes["totals"]["power"]["installed"] == approx(1.0)
    assert [e["name"] for e in changes["near_limit_added"]] == ["R1"]
    assert [e["name"] for e in changes["near_limit_removed"]] == ["R-old"]

    # Power: installed 11.2, 12.2, 13.2 kW -> +1 kW/day; committed 13.2 + 6.5 planned = 19.7 kW;
    # (55.204 - 19.7) / 1 = 35.5 days -> the 36th day.
    power = forecast["power"]
    assert power["status"] == "trend"
    assert power["slope_per_day"] == approx(1.0)
    assert power["committed"] == approx(19.7)
    assert power["days_to_run_out"] == approx(3 * PDU_KW - 19.7, abs=1e-3)
    assert power["run_out_day"] == (DAY + timedelta(days=36)).isoformat()
    # Space: installed 10, 11, 12 U -> +1 U/day; committed 18 U of 126 -> 108 days.
    assert forecast["space"]["run_out_day"] == (DAY + timedelta(days=108)).isoformat()
    # No history for the others.
    assert forecast["rack_load"]["status"] == "insufficient_history"
    assert report.summary["earliest_run_out"] == {"dimension": "power", "day": power["run_out_day"]}


def test_rerun_same_day_replaces_the_report(small_site):
    site = small_site.site
    first = reports.report_build(site.id, DAY)
    f.NodeFactory(rack=small_site.r3, model=NodeModel.objects.get(slug="dgx-b200"), u_position=1, status="installed")
    second = reports.report_build(site.id, DAY)

    assert CapacityReport.objects.filter(site=site).count() == 1
    assert second.pk == first.pk
    second.refresh_from_db()
    assert second.node_count == 5
    assert second.it_load_kw == approx(19.7 + 14.3)
    assert second.updated_at >= first.updated_at
    assert second.created_at == first.created_at
    # The next day is a new report.
    reports.report_build(site.id, DAY + timedelta(days=1))
    assert CapacityReport.objects.filter(site=site).count() == 2


def _grow(site_small, racks: int) -> None:
    row = site_small.r1.row
    for i in range(racks):
        rack = f.RackFactory(row=row, name=f"X{i}", position=100 + i)
        for side in "AB":
            f.PduFactory(rack=rack, name=f"X{i}-{side}", side=side)
        f.NodeFactory(rack=rack, u_position=1, name=f"x{i}-1")
        f.NodeFactory(rack=rack, u_position=5, name=f"x{i}-2", status="installed")


def test_query_count_does_not_grow_with_the_site(small_site):
    site = small_site.site
    reports.report_build(site.id, DAY - timedelta(days=1))
    reports.report_build(site.id, DAY)
    with CaptureQueriesContext(connection) as small:
        reports.report_build(site.id, DAY)
    _grow(small_site, 12)
    with CaptureQueriesContext(connection) as big:
        reports.report_build(site.id, DAY)
    assert len(big) == len(small), [q["sql"][:120] for q in big.captured_queries]
    assert len(small) <= 20


def test_unknown_site_raises(db):
    from racks.models import Site

    with pytest.raises(Site.DoesNotExist):
        reports.report_build(987_654, DAY)


def test_report_mailed_on_commit_when_recipients_are_set(
    small_site, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.REPORT_EMAIL_RECIPIENTS = ["ops@example.com"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = reports.report_build(small_site.site.id, DAY)
    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["ops@example.com"]
    assert mail.subject == f"Capacity report Small {DAY.isoformat()}"
    assert "Power" in mail.body and "Top risks" in mail.body
    assert mail.attachments[0][0] == reports.report_filename(report, "csv")


def test_no_mail_without_recipients(small_site, settings, mailoutbox, django_capture_on_commit_callbacks):
    settings.REPORT_EMAIL_RECIPIENTS = []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        reports.report_build(small_site.site.id, DAY)
    assert callbacks == [] and mailoutbox == []


@pytest.mark.parametrize(
    ("units", "redundant", "listed"),
    [
        (1, 0, True),  # one 50 kW unit, no spare: losing it leaves 0 kW < 8 kW liquid heat -> warn, listed
        (2, 0, False),  # two 50 kW units, no spare: losing one leaves 50 kW >= 8 kW -> ok (no false alarm)
        (2, 1, False),  # N+1: the spare is out already -> ok
    ],
)
def test_liquid_redundancy_from_the_rule(db, units, redundant, listed):
    """The report's loop list is the engine's COOLING_LIQUID_REDUNDANCY verdict, not a count of spare units.
    One 10 kW node at 80 % liquid: 8 kW of liquid heat on the rack's only CDU."""
    from planner import selectors
    from planner.engine import check_rack

    site = f.SiteFactory()
    room = f.RoomFactory(site=site)
    rack = f.RackFactory(row=f.RowFactory(room=room))
    f.PduFactory(rack=rack)
    model = NodeModel.objects.create(
        slug="dlc-test", vendor="T", name="DLC", u_height=2, max_power_kw=10, typical_power_kw=8, weight_kg=30,
        cooling="liquid", liquid_fraction=0.8,
    )  # fmt: skip
    f.NodeFactory(rack=rack, model=model)
    f.CoolingLoopFactory(
        site=site, room=room, name="CDU", kind="direct_liquid", fluid="water", unit_capacity_kw=50, units=units,
        redundant_units=redundant, supply_temp_c=30,
    )  # fmt: skip
    report = reports.report_build(site.id, DAY)
    loops = report.data["risks"]["liquid_no_redundancy"]["loops"]
    rule = {c.code: c.status for c in check_rack(selectors.rack_context(rack.pk)).checks}["COOLING_LIQUID_REDUNDANCY"]
    assert (rule == "warn") is listed
    if listed:
        assert [(lp["name"], lp["racks_at_risk"], lp["usable_kw"]) for lp in loops] == [("CDU", 1, 50.0)]
        assert any(r["kind"] == "liquid_no_redundancy" for r in report.data["risks"]["top"])
    else:
        assert loops == []
