"""Strict query parameters: an unknown one answers 400 naming it, never a silently unfiltered list.

``StrictQueryParameters`` is the first filter backend (DRF runs the backends for lists and, through
``get_object``, for detail operations too). The parameters a view takes are those of its filterset, ordering
(``ordering``), search (``q``, when the view has ``search_fields``), pagination (``limit``, ``offset``), ``format``,
the view's own ``extra_query_params`` (``confirm`` on delete, ...) and ``brief`` on the list and detail reads of
a view with ``brief_param``. Numeric filter values must fit a 64-bit integer column (a 1e300 id was a 500 on
SQLite). Question views call ``reject_unknown_params`` directly.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django_filters import NumberFilter
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend, SearchFilter

ALWAYS = frozenset({"format"})
PAGINATION = frozenset({"limit", "offset"})
INT64_MAX = 2**63 - 1


def reject_unknown_params(request, allowed) -> None:
    unknown = sorted(set(request.query_params) - set(allowed) - ALWAYS)
    if unknown:
        raise ValidationError(
            {
                name[:100]: [f"Unknown query parameter; this endpoint takes: {', '.join(sorted(allowed)) or 'none'}."]
                for name in unknown[:20]
            }
        )


def _filterset_filters(view) -> dict:
    backend = DjangoFilterBackend()
    filterset_class = backend.get_filterset_class(view, view.get_queryset())
    return dict(filterset_class.base_filters) if filterset_class else {}


def allowed_params(view) -> set[str]:
    filters = _filterset_filters(view)
    allowed = set(filters) | set(getattr(view, "extra_query_params", ()))
    if getattr(view, "ordering_fields", None):
        allowed.add("ordering")
    if getattr(view, "search_fields", None):
        allowed.add(SearchFilter.search_param)
    if getattr(view, "brief_param", False) and getattr(view, "action", None) in ("list", "retrieve"):
        allowed.add("brief")
    if getattr(view, "pagination_class", None) is not None and getattr(view, "action", None) == "list":
        allowed |= PAGINATION
    return allowed


class StrictQueryParameters(BaseFilterBackend):
    def filter_queryset(self, request, queryset, view):
        reject_unknown_params(request, allowed_params(view))
        bad = {}
        for name, flt in _filterset_filters(view).items():
            if not isinstance(flt, NumberFilter):
                continue
            for value in request.query_params.getlist(name):
                try:
                    number = Decimal(value)
                except InvalidOperation:
                    continue  # the filterset answers 400 for it
                if not number.is_finite() or abs(number) > INT64_MAX:
                    bad[name] = ["Out of range: must fit a 64-bit integer."]
        if bad:
            raise ValidationError(bad)
        return queryset
