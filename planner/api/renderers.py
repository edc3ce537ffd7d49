"""JSON out, with money to cents and without binary float noise (``31667750.400000002`` -> ``31667750.4``).

Rounding happens once, here, at the edge: the engine keeps full precision for its arithmetic, and every
response (questions, CRUD, errors) is rounded the same way.
"""

from __future__ import annotations

from rest_framework.renderers import JSONRenderer

SIGNIFICANT_DIGITS = 12  # far above any measured input, far below float noise (~16-17 digits)


def is_money_key(key: str) -> bool:
    """Amounts of money: ``*_usd`` (the contract's suffix) and the site-currency ``*_cost`` / ``*_cost_delta``."""
    return key.endswith(("_usd", "_cost", "_cost_delta"))


def _round(value, money: bool):
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return value
        return round(value, 2) + 0.0 if money else float(f"{value:.{SIGNIFICANT_DIGITS}g}") + 0.0
    if isinstance(value, dict):
        return {k: _round(v, is_money_key(k) if isinstance(k, str) else False) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_round(v, money) for v in value]
    return value


def round_for_json(data):
    """``data`` with every float rounded: money to cents, other numbers to 12 significant digits."""
    return _round(data, False)


class RoundingJSONRenderer(JSONRenderer):
    """Rounds (above), and puts any hand-built error body into the one error shape."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code >= 400 and data is not None:
            from planner.api.exceptions import normalize_error

            data = normalize_error(data, response.status_code)
        return super().render(round_for_json(data), accepted_media_type, renderer_context)
