"""Audit history over the API: who changed what and when, for any object of the contract.

The reads and their formatting live in :mod:`planner.selectors.history`, shared with the pages.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from planner.selectors.history import object_history

API_LIMIT = 200


class HistoryMixin:
    """Adds ``GET <resource>/{id}/history/``: the audit trail of an object, deleted or not, newest first
    (last 200 changes)."""

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        model = self.get_queryset().model
        # A deleted object keeps its trail (with who deleted it): read the history table by id, so the
        # trail answers whether or not the object still exists.
        try:
            object_id = int(pk)
        except (TypeError, ValueError):
            raise NotFound("Not found.") from None
        entries, _ = object_history(model, object_id, API_LIMIT)
        if not entries:
            raise NotFound("Not found.")
        return Response({"id": object_id, "count": len(entries), "results": entries})
