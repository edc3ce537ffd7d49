"""Audit history over the API: who changed what and when, for any object of the contract."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

CHANGE_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


def history_entries(records) -> list[dict]:
    """Records newest first -> entries with the fields each change touched (old and new values)."""
    records = list(records)
    out = []
    for i, rec in enumerate(records):
        older = records[i + 1] if i + 1 < len(records) else None
        changes = []
        if older is not None and rec.history_type == "~":
            delta = rec.diff_against(older)
            changes = [{"field": c.field, "old": c.old, "new": c.new} for c in delta.changes]
        out.append(
            {
                "at": rec.history_date,
                "user": rec.history_user.get_username() if rec.history_user else None,
                "type": CHANGE_TYPES.get(rec.history_type, rec.history_type),
                "changes": changes,
            }
        )
    return out


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
        # One query (the user is joined); the extra record is the baseline for the oldest shown diff.
        records = list(
            model.history.filter(id=object_id)
            .select_related("history_user")
            .order_by("-history_date", "-history_id")[:201]
        )
        if not records:
            raise NotFound("Not found.")
        entries = history_entries(records)[:200]
        return Response({"id": object_id, "count": len(entries), "results": entries})
