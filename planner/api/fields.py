"""Serializer fields shared by the API."""

from __future__ import annotations

import math
import re

from rest_framework import serializers

from planner.validation import MAGNITUDE_MESSAGE, MAX_ABS_VALUE, TEXT_MESSAGES, text_problem


class FiniteFloatField(serializers.FloatField):
    """A float that rejects NaN, infinities and absurd magnitudes, and folds -0.0 into 0.0."""

    default_error_messages = {
        "not_finite": "A finite number is required (not NaN or infinity).",
        "too_large": MAGNITUDE_MESSAGE,
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


SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")


class SlugOrPkRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key given as an id, or as the target's slug (node models)."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist_slug": 'No object with slug "{slug}".',
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and not (data.isascii() and data.isdigit() and len(data) <= 18):
            queryset = self.get_queryset()
            if not SLUG.fullmatch(data):  # no slug has it (and PostgreSQL refuses a NUL in a query)
                self.fail("does_not_exist_slug", slug=data[:100].encode("unicode_escape").decode())
            try:
                return queryset.get(slug=data)
            except queryset.model.DoesNotExist:
                self.fail("does_not_exist_slug", slug=data[:100])
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type="bool")
        return super().to_internal_value(data)


class CleanCharField(serializers.CharField):
    """Text without control characters (names end up in pages, reports and CSV files)."""

    default_error_messages = dict(TEXT_MESSAGES)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        problem = text_problem(value)
        if problem is not None:
            self.fail(problem)
        return value


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: ``"yes"``, ``"true"``, ``1`` are refused (400), never read as a boolean."""

    default_error_messages = {"invalid": "Must be a JSON boolean (true or false)."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid")
