"""Site selection's SLO arithmetic (issue 17): latency from great-circle distance, availability classes, and
the ranking order. Pure functions.

- Latency: round trip = 2 x great-circle km x route factor x 4.897 µs/km (standard SMF, n = 1.468, reference
  §13.3 C; 1,000 km round trip = 9.79 ms). The route factor (fibre path / great circle) has no primary source:
  1.3 ± 0.1 as a configurable assumption (§13.3 T [S132]), ``PLANNER_ROUTE_FACTOR``. The p99 of a workload's
  users is the round trip under which 99 % of them (by region share) fall.
- Availability: the target maps to the lowest Uptime tier whose quoted availability reaches it (§13.1, S
  [S130]: 99.671 / 99.741 / 99.982 / 99.995 %; observed values of a 2000s sample, not design guarantees). A
  site's own class comes from its N-1 sweep: no single point of failure = concurrently maintainable with no
  single point of failure, the Tier III / Rated 3 / Class 3 target (§13.2, P [S108]); with one, Tier I only.
  Tier II (N+1 components on one path) and Tier IV (fault tolerant, two active paths) are not told apart by
  the sweep, so neither is claimed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
FIBRE_US_PER_KM = 4.897  # one way, standard SMF n = 1.468: n / c (reference §13.3, C)
FIBRE_SOURCE = "4.897 µs/km one way (SMF n = 1.468, reference §13.3 C)"
P99 = 0.99

# (tier, quoted availability %) — reference §13.1, S [S130]
TIERS = ((1, 99.671), (2, 99.741), (3, 99.982), (4, 99.995))
TIER_SOURCE = "Uptime tiers I-IV 99.671 / 99.741 / 99.982 / 99.995 % (reference §13.1, S [S130])"
NO_SPOF_TIER = 3  # the N-1 sweep shows no single point of failure (§13.2 P [S108])
WITH_SPOF_TIER = 1


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on a sphere of the mean Earth radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def rtt_ms(distance_km: float, route_factor: float) -> float:
    """Round trip over fibre: 2 x km x route factor x 4.897 µs/km, in ms."""
    return 2 * distance_km * route_factor * FIBRE_US_PER_KM / 1000.0


def p99_ms(samples: list[tuple[float, float]]) -> float | None:
    """The round trip (ms) under which 99 % of users fall; ``samples`` are (rtt_ms, share) per region."""
    if not samples:
        return None
    total = sum(share for _, share in samples)
    if total <= 0:
        return None
    seen = 0.0
    for rtt, share in sorted(samples):
        seen += share / total
        if seen >= P99 - 1e-12:
            return rtt
    return max(rtt for rtt, _ in samples)


def required_tier(target_pct: float | None) -> int | None:
    """The lowest tier whose quoted availability reaches ``target_pct``; 0 = none needed; None = above every
    quoted class (no tier claims it)."""
    if target_pct is None:
        return 0
    for tier, pct in TIERS:
        if target_pct <= pct:
            return tier
    return None


def tier_pct(tier: int) -> float:
    return dict(TIERS)[tier]


@dataclass(frozen=True)
class Slo:
    latency_ms: float | None
    latency_ok: bool | None  # None: unknown (no coordinates or no regions)
    residency_ok: bool | None
    availability_ok: bool | None

    def kept(self) -> bool:
        return self.latency_ok is True and self.residency_ok is True and self.availability_ok is True

    def broken(self) -> bool:
        return False in (self.latency_ok, self.residency_ok, self.availability_ok)


def rank_key(slo: Slo, fits: bool | None, usd_per_million_tokens: float | None, days: float | None, name: str):
    """Order of the options: SLOs kept, then unknown, then broken (a broken one after every option that keeps
    them); within each, options that fit before those that may fit (bound) before those that do not; then the
    cost per million tokens (unknown last), then days to deploy, then name."""
    slo_rank = 0 if slo.kept() else (2 if slo.broken() else 1)
    fit_rank = {True: 0, None: 1, False: 2}[fits]
    cost = usd_per_million_tokens if usd_per_million_tokens is not None else math.inf
    return (slo_rank, fit_rank, cost, days if days is not None else math.inf, name)
