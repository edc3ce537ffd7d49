"""Run-out forecast on synthetic history with known answers (pure Python, no database)."""

from datetime import date, timedelta

import pytest

from planner.engine import forecast as fc

D0 = date(2026, 1, 1)


def days(*loads, start=D0, step=1):
    return [(start + timedelta(days=i * step), load) for i, load in enumerate(loads)]


def test_linear_growth_runs_out_eight_days_after_the_last_point():
    # 100, 110, 120 kW on consecutive days: +10 kW/day; (200 - 120) / 10 = 8 days.
    result = fc.run_out(days(100, 110, 120), 200.0, dimension="power")
    assert result.status == fc.TREND
    assert result.slope_per_day == pytest.approx(10.0)
    assert result.days_to_run_out == pytest.approx(8.0)
    assert result.run_out_day == D0 + timedelta(days=2 + 8)
    assert result.committed == 120.0


def test_planned_load_counts_as_committed():
    # Same trend, 20 kW planned: (200 - 140) / 10 = 6 days.
    result = fc.run_out(days(100, 110, 120), 200.0, planned=20.0)
    assert result.committed == 140.0
    assert result.run_out_day == D0 + timedelta(days=8)


def test_calendar_gaps_count_as_days():
    # 100 then 120 kW two days apart (+10/day), then 130 one day later: slope of the least-squares line.
    pts = [(D0, 100.0), (D0 + timedelta(days=2), 120.0), (D0 + timedelta(days=3), 130.0)]
    assert fc.least_squares([(0, 100), (2, 120), (3, 130)])[0] == pytest.approx(10.0)
    result = fc.run_out(pts, 180.0)
    assert result.run_out_day == D0 + timedelta(days=3 + 5)


def test_fractional_days_round_up_to_the_first_day_over_capacity():
    # +10/day from 120, capacity 195: 7.5 days -> the 8th day is the first at or over 195.
    result = fc.run_out(days(100, 110, 120), 195.0)
    assert result.days_to_run_out == pytest.approx(7.5)
    assert result.run_out_day == D0 + timedelta(days=2 + 8)


def test_least_squares_on_noisy_history():
    # y = 50 + 4x with symmetric noise: the slope is exactly 4.
    result = fc.run_out(days(50, 55, 58, 63, 66), 100.0)
    assert result.slope_per_day == pytest.approx(4.0)
    assert result.days_to_run_out == pytest.approx((100 - 66) / 4)


@pytest.mark.parametrize("loads", [(100, 100, 100), (120, 110, 100)])
def test_flat_or_decreasing_never_runs_out(loads):
    result = fc.run_out(days(*loads), 200.0)
    assert result.status == fc.FLAT
    assert result.run_out_day is None


def test_one_point_is_not_a_trend():
    result = fc.run_out(days(150), 200.0)
    assert result.status == fc.INSUFFICIENT
    assert result.run_out_day is None


def test_already_over_capacity_ran_out_on_the_last_day():
    result = fc.run_out(days(150, 160), 200.0, planned=50.0)
    assert result.status == fc.EXHAUSTED
    assert result.run_out_day == D0 + timedelta(days=1)
    assert result.days_to_run_out == 0.0


def test_unlimited_and_empty_dimensions():
    assert fc.run_out(days(1, 2), None).status == fc.UNLIMITED
    assert fc.run_out(days(0, 0), 0.0).status == fc.NONE


def test_window_keeps_the_last_points_only():
    # Old history was flat; the last three points grow by 10/day.
    history = days(100, 100, 100, 100, 110, 120)
    assert fc.run_out(history, 200.0, window=3).run_out_day == D0 + timedelta(days=5 + 8)
    assert fc.run_out(history, 200.0).slope_per_day < 10.0


def test_duplicates_and_order_do_not_matter():
    history = [
        (D0 + timedelta(days=2), 120.0),
        (D0, 100.0),
        (D0 + timedelta(days=1), 999.0),
        (D0 + timedelta(days=1), 110.0),
    ]
    assert fc.run_out(history, 200.0).run_out_day == D0 + timedelta(days=10)


def test_forecast_line_reaches_capacity_on_the_run_out_day():
    result = fc.run_out(days(100, 110, 120), 200.0)
    (d0, y0), (d1, y1) = fc.forecast_line(result)
    assert (d0, y0) == (D0 + timedelta(days=2), 120.0)
    assert d1 == result.run_out_day
    assert y1 == pytest.approx(200.0)


def test_to_dict_is_json_ready():
    out = fc.run_out(days(100, 110, 120), 200.0, dimension="power").to_dict()
    assert out["run_out_day"] == "2026-01-11"
    assert out["dimension"] == "power"
