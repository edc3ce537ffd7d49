"""Audit history reads: who changed what and when, for any audited object, in a bounded number of queries.

The formatting (:func:`history_entry`) and the bounded reads (:func:`object_history`, :func:`trail_history`)
serve both the API (``planner.api.history``) and the pages (``planner.web.history``), so both show the same
trail.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import OuterRef, Q, Subquery

CHANGE_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


def _m2m_names(rec) -> list[str]:
    return [f.name for f in getattr(type(rec), "_history_m2m_fields", ())]


def m2m_links(records) -> dict[int, dict[str, list[str]]]:
    """Record id -> {audited many-to-many field: the linked objects then, as sorted labels}.

    One query per audited field (a cooling loop's racks), none for models without one. A linked object that
    no longer exists is labelled by its id.
    """
    records = list(records)
    if not records:
        return {}
    hist = type(records[0])
    out: dict[int, dict[str, list[str]]] = defaultdict(dict)
    for field in getattr(hist, "_history_m2m_fields", ()):
        target = field.m2m_reverse_field_name()
        links: dict[int, list[str]] = defaultdict(list)
        rows = (
            getattr(hist, field.name)
            .model.objects.filter(history_id__in=[r.history_id for r in records])
            .values_list("history_id", f"{target}_id", f"{target}__name")
        )
        for history_id, target_id, name in rows:
            links[history_id].append(f"{name} (id {target_id})" if name is not None else f"id {target_id} (deleted)")
        for rec in records:
            out[rec.history_id][field.name] = sorted(links.get(rec.history_id, ()))
    return out


def history_entry(rec, older=None, links=None) -> dict:
    """One historical record -> who, when, what kind of change and, for a change, the fields it touched (old
    and new values, against ``older``: the same object's previous record). ``links`` (from ``m2m_links``)
    gives the audited many-to-many fields of both records; they are compared here, not by simple-history,
    which would query once per record."""
    changes = []
    if older is not None and rec.history_type == "~":
        m2m = _m2m_names(rec)
        delta = rec.diff_against(older, excluded_fields=m2m)
        changes = [{"field": c.field, "old": c.old, "new": c.new} for c in delta.changes]
        for name in m2m:
            before = (links or {}).get(older.history_id, {}).get(name, [])
            after = (links or {}).get(rec.history_id, {}).get(name, [])
            if before != after:
                changes.append({"field": name, "old": before, "new": after})
    return {
        "at": rec.history_date,
        "user": rec.history_user.get_username() if rec.history_user else None,
        "type": CHANGE_TYPES.get(rec.history_type, rec.history_type),
        "changes": changes,
    }


def history_entries(records) -> list[dict]:
    """Records of one object, newest first -> entries, each diffed against the next (older) record."""
    records = list(records)
    links = m2m_links(records)
    return [
        history_entry(rec, records[i + 1] if i + 1 < len(records) else None, links) for i, rec in enumerate(records)
    ]


def _newest_first(queryset):
    return queryset.select_related("history_user").order_by("-history_date", "-history_id")


def object_history(model, object_id: int, limit: int) -> tuple[list[dict], bool]:
    """The newest ``limit`` entries of one object's trail (deleted or not) and whether older ones exist.

    One query (the user is joined); the extra record is the baseline of the oldest shown diff.
    """
    records = list(_newest_first(model.history.filter(id=object_id))[: limit + 1])
    return history_entries(records)[:limit], len(records) > limit


def trail_history(queryset, limit: int, describe=None) -> tuple[list[dict], bool]:
    """The newest ``limit`` records of a historical queryset spanning several objects (e.g. every node ever
    placed in a rack), each diffed against its own object's previous record, and whether older ones exist.

    At most two queries whatever the number of objects: the records, each annotated with the id of its
    object's previous record; then those previous records that are not already among them (only when a shown
    change needs one). ``describe(record)`` adds an ``object`` key (what the entry is about).
    """
    model = queryset.model
    previous = (
        model._default_manager.filter(id=OuterRef("id"))
        .filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    records = list(_newest_first(queryset.annotate(previous_history_id=Subquery(previous)))[: limit + 1])
    more = len(records) > limit
    records = records[:limit]
    known = {rec.history_id: rec for rec in records}
    wanted = {
        rec.previous_history_id
        for rec in records
        if rec.history_type == "~" and rec.previous_history_id is not None and rec.previous_history_id not in known
    }
    if wanted:
        known.update((rec.history_id, rec) for rec in model._default_manager.filter(history_id__in=wanted))
    links = m2m_links(known.values())
    entries = []
    for rec in records:
        entry = history_entry(rec, known.get(rec.previous_history_id), links)
        if describe is not None:
            entry["object"] = describe(rec)
        entries.append(entry)
    return entries, more
