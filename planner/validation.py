"""Input rules shared by the API's fields and the pages' forms (no DRF, no forms here): one copy of each."""

from __future__ import annotations

# Units one feasibility question may ask about; larger numbers are typos or attacks.
MAX_QUANTITY = 10_000
# Units one placement (check or commit) may place in one rack.
MAX_PLACE_QUANTITY = 200

# Bidirectional embeddings, overrides and isolates (they make a name display as something else, "Trojan
# Source") and the Unicode line and paragraph separators (a line break by another name).
INVISIBLE_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029))

TEXT_MESSAGES = {
    "control_chars": "Control characters are not allowed.",
    "bidi_controls": "Invisible Unicode formatting characters (bidirectional overrides, line separators) "
    "are not allowed.",
}


def text_problem(value: str) -> str | None:
    """The key in ``TEXT_MESSAGES`` of what is wrong with a user-given text (names end up in pages, reports
    and CSV files), or None when it is clean."""
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        return "control_chars"
    if not INVISIBLE_CONTROLS.isdisjoint(value):
        return "bidi_controls"
    return None


def validate_clean_text(value: str) -> None:
    """A Django validator for :func:`text_problem` (forms and models)."""
    from django.core.exceptions import ValidationError

    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(TEXT_MESSAGES[problem], code=problem)
