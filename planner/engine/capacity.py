"""Capacity roll-ups shared by every page, API answer and report: what "near a limit" means.

One threshold, ``used_share`` (settings.PLANNER_NEAR_LIMIT_SHARE, default 0.8): a dimension is near its
limit when its load uses at least that share of its capacity, i.e. its headroom is at most ``1 - used_share``
of the capacity. The dashboard, the floor plan and the nightly report all call ``is_near_limit``.
"""

from __future__ import annotations

DEFAULT_NEAR_LIMIT_SHARE = 0.8


def near_limit_headroom_share(used_share: float) -> float:
    """The headroom share at or below which a dimension is near its limit: ``1 - used_share`` (0.2 at 0.8)."""
    return round(1.0 - used_share, 12)


def is_near_limit(used_ratio: float | None, used_share: float = DEFAULT_NEAR_LIMIT_SHARE) -> bool:
    """True when ``used_ratio`` (load / capacity, or 1 - headroom / capacity) reaches ``used_share``.

    None (no capacity and no load) is never near a limit; an infinite ratio (load with no capacity) is.
    """
    return used_ratio is not None and used_ratio >= used_share - 1e-12
