"""Serializer fields shared by the API."""

from __future__ import annotations

import math

from rest_framework import serializers

# Physical quantities in this domain stay far below this; larger numbers are typos or attacks.
MAX_ABS_VALUE = 1e12


class FiniteFloatField(serializers.FloatField):
    """A float that rejects NaN, infinities and absurd magnitudes, and folds -0.0 into 0.0."""

    default_error_messages = {
        "not_finite": "A finite number is required (not NaN or infinity).",
        "too_large": f"Must be between -{MAX_ABS_VALUE:g} and {MAX_ABS_VALUE:g}.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("not_finite")
        if abs(value) > MAX_ABS_VALUE:
            self.fail("too_large")
        return value + 0.0  # -0.0 + 0.0 == 0.0


class SafeIntegerField(serializers.IntegerField):
    """An integer that rejects booleans (JSON true is not 1 here)."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class SlugOrPkRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key given as an id, or as the target's slug (node models)."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist_slug": 'No object with slug "{slug}".',
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and not (data.isascii() and data.isdigit() and len(data) <= 18):
            queryset = self.get_queryset()
            try:
                return queryset.get(slug=data)
            except queryset.model.DoesNotExist:
                self.fail("does_not_exist_slug", slug=data[:100])
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type="bool")
        return super().to_internal_value(data)


# Bidirectional embeddings, overrides and isolates (they make a name display as something else, "Trojan
# Source") and the Unicode line and paragraph separators (a line break by another name).
INVISIBLE_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029))


class CleanCharField(serializers.CharField):
    """Text without control characters (names end up in pages, reports and CSV files)."""

    default_error_messages = {
        "control_chars": "Control characters are not allowed.",
        "bidi_controls": "Invisible Unicode formatting characters (bidirectional overrides, line separators) "
        "are not allowed.",
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in value):
            self.fail("control_chars")
        if not INVISIBLE_CONTROLS.isdisjoint(value):
            self.fail("bidi_controls")
        return value


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: ``"yes"``, ``"true"``, ``1`` are refused (400), never read as a boolean."""

    default_error_messages = {"invalid": "Must be a JSON boolean (true or false)."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid")
