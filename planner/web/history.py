"""The "History" section of object pages: the audit trail the API serves at ``<resource>/{id}/history/``,
newest first and bounded (the API has the rest), read in a fixed number of queries.

Entries come from :mod:`planner.selectors.history` (same who / when / change type / field old -> new as the API);
templates render them with ``planner/_history.html``, which escapes everything (names are user input).
"""

from __future__ import annotations

from planner.selectors.history import object_history, trail_history
from racks.models import Node, Rack

HISTORY_LIMIT = 20
API_ROOT = "/api/v1"


def _api_url(resource: str, object_id: int) -> str:
    return f"{API_ROOT}/{resource}/{object_id}/history/"


def _text(value) -> str:
    """A recorded value as the page shows it: empty values say so, whole floats lose their ``.0``."""
    if value is None or value == "":
        return "empty"
    if isinstance(value, list):  # a many-to-many field: the linked objects' labels
        return ", ".join(map(str, value)) if value else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _with_baselines(entries: list[dict], more: bool) -> list[dict]:
    """One object's entries, newest first: each but the oldest was diffed against the next; the oldest only
    when an older record exists (``more``)."""
    return [{**e, "baseline": more or i + 1 < len(entries)} for i, e in enumerate(entries)]


def _shown(entries: list[dict]) -> list[dict]:
    """Entries with their values as text; ``first_recorded`` marks a change with no earlier record to diff
    against (an object created before its history was kept, e.g. the catalogue loaded by a migration)."""
    return [
        {
            **e,
            "first_recorded": e["type"] == "changed" and not e["baseline"],
            "changes": [{**c, "old_text": _text(c["old"]), "new_text": _text(c["new"])} for c in e["changes"]],
        }
        for e in entries
    ]


def history_context(model, object_id: int, resource: str, *, limit: int = HISTORY_LIMIT) -> dict:
    """One object's last ``limit`` changes: one query."""
    entries, more = object_history(model, object_id, limit)
    return {
        "entries": _shown(_with_baselines(entries, more)),
        "more": more,
        "limit": limit,
        "api_url": _api_url(resource, object_id),
    }


def rack_history_context(rack_id: int, *, limit: int = HISTORY_LIMIT) -> dict:
    """The rack's own changes and those of every node placed in it (deleted ones included: who removed what),
    merged newest first and cut at ``limit``: two queries, three when a shown node change needs the node's
    previous record from further back."""
    own, more_own = object_history(Rack, rack_id, limit)
    nodes, more_nodes = trail_history(
        Node.history.filter(rack_id=rack_id),
        limit,
        describe=lambda rec: {
            "label": f"Node {rec.name}",
            "api_url": _api_url("nodes", rec.id),
            "baseline": rec.previous_history_id is not None,
        },
    )
    nodes = [{**e, "baseline": e["object"]["baseline"]} for e in nodes]
    merged = sorted(_with_baselines(own, more_own) + nodes, key=lambda e: e["at"], reverse=True)
    return {
        "entries": _shown(merged[:limit]),
        "more": more_own or more_nodes or len(merged) > limit,
        "limit": limit,
        "api_url": _api_url("racks", rack_id),
        "with_objects": True,
        "self_label": "Rack",
    }
