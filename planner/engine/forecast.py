"""Run-out forecast: when does a resource run out, from the trend of its history?

Pure Python (no Django). The nightly reports give one point per day per dimension: the *installed* load.
The trend is the least-squares slope of the last ``window`` points (in units per day, x in calendar days so
gaps between reports count). Planned nodes are already committed: their load is added to the current
(last observed) load before the trend is projected. The resource runs out on the first whole day on which
``current + planned + slope x days >= capacity``.

    history 100, 110, 120 kW on consecutive days, capacity 200 kW, nothing planned
    -> slope 10 kW/day, (200 - 120) / 10 = 8 days -> runs out 8 days after the last point.

No run-out date (None) when the trend is flat or decreasing, when there are fewer than two days of history,
or when the capacity is unlimited. When the committed load already reaches the capacity, the resource ran
out on the last day of the history.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta

DEFAULT_WINDOW = 30
# A slope smaller than this (units per day) is flat: it would take more than ~2,700 years to use one unit.
FLAT_SLOPE = 1e-6

# Statuses of a forecast.
EXHAUSTED = "exhausted"  # committed load already at or above capacity: ran out on the last day
TREND = "trend"  # growing: run_out_day is where the trend meets capacity
FLAT = "flat"  # flat or decreasing: never at this trend
INSUFFICIENT = "insufficient_history"  # fewer than two days of history
UNLIMITED = "unlimited"  # no capacity limit (e.g. a site without a utility limit)
NONE = "none"  # no capacity and no load: nothing to forecast


@dataclass(frozen=True, slots=True)
class RunOut:
    """The forecast of one dimension. Loads and capacity share one unit (kW, U or kg)."""

    dimension: str
    status: str
    capacity: float | None
    current_load: float  # last observed (installed) load
    planned: float  # load of planned nodes, counted as committed
    committed: float  # current_load + planned
    slope_per_day: float | None
    intercept: float | None  # trend value at the last day (for drawing the line)
    points: int  # history points used
    last_day: date | None
    run_out_day: date | None
    days_to_run_out: float | None

    def to_dict(self) -> dict:
        out = asdict(self)
        for key in ("last_day", "run_out_day"):
            out[key] = out[key].isoformat() if out[key] is not None else None
        return out


def least_squares(points: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    """Slope and intercept of the least-squares line through (x, y) points; None below two distinct x."""
    n = len(points)
    if n < 2:
        return None
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx <= 0:
        return None
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    slope = sxy / sxx
    return slope, mean_y - slope * mean_x


def clean_history(history: Iterable[tuple[date, float]], window: int = DEFAULT_WINDOW) -> list[tuple[date, float]]:
    """Sorted by day, one point per day (the last given wins), non-finite loads dropped, last ``window`` kept."""
    by_day: dict[date, float] = {}
    for day, load in history:
        if load is None or not math.isfinite(load):
            continue
        by_day[day] = float(load)
    points = sorted(by_day.items())
    return points[-window:] if window > 0 else points


def run_out(
    history: Iterable[tuple[date, float]],
    capacity: float | None,
    *,
    planned: float = 0.0,
    window: int = DEFAULT_WINDOW,
    dimension: str = "",
) -> RunOut:
    """Forecast the day ``capacity`` runs out, from the installed-load ``history`` plus ``planned`` load.

    ``history``: (day, installed load) pairs, any order; the last one is the current load.
    ``capacity``: None = unlimited.
    """
    points = clean_history(history, window)
    planned = max(float(planned or 0.0), 0.0)
    if not points:
        current, last_day = 0.0, None
    else:
        last_day, current = points[-1]
    committed = current + planned
    fit = None
    if len(points) >= 2:
        day0 = points[0][0]
        fit = least_squares([((d - day0).days, y) for d, y in points])
    slope = fit[0] if fit else None
    intercept = None
    if fit and last_day is not None:
        intercept = fit[1] + fit[0] * (last_day - points[0][0]).days

    def result(status: str, run_day: date | None = None, days: float | None = None) -> RunOut:
        return RunOut(
            dimension=dimension,
            status=status,
            capacity=capacity,
            current_load=current,
            planned=planned,
            committed=committed,
            slope_per_day=slope,
            intercept=intercept,
            points=len(points),
            last_day=last_day,
            run_out_day=run_day,
            days_to_run_out=days,
        )

    if capacity is None:
        return result(UNLIMITED)
    if capacity <= 0 and committed <= 0:
        return result(NONE)
    if committed >= capacity:
        return result(EXHAUSTED, last_day, 0.0)
    if slope is None or last_day is None:
        return result(INSUFFICIENT)
    if slope <= FLAT_SLOPE:
        return result(FLAT)
    days = (capacity - committed) / slope
    whole_days = math.ceil(days - 1e-9)
    try:
        run_day = last_day + timedelta(days=whole_days)
    except OverflowError:  # beyond year 9999: as good as never
        return result(FLAT)
    return result(TREND, run_day, days)


def forecast_line(forecast: RunOut, *, horizon_days: int = 365) -> list[tuple[date, float]]:
    """Two points of the projected committed load: from the last day to the run-out day (or the horizon)."""
    if forecast.last_day is None:
        return []
    slope = forecast.slope_per_day if forecast.slope_per_day is not None else 0.0
    slope = max(slope, 0.0)
    days = horizon_days
    if forecast.days_to_run_out is not None:
        days = max(math.ceil(forecast.days_to_run_out), 1)
    end = forecast.last_day + timedelta(days=days)
    return [(forecast.last_day, forecast.committed), (end, forecast.committed + slope * days)]
