"""Keep ``Site.budget_token`` honest: it changes whenever anything feeding the site's shared budgets changes.

``selectors.site_budgets`` caches each site's budget totals (site load, room air heat, loads under each power
source, liquid heat on each loop) per process under ``(site id, budget_token)``, so a check reads three small
queries instead of summing the whole site. That is only right if every write that could change those totals
gives the site a new token *in the same transaction*. Signals catch every ORM write (services, API, web
forms, admin, import, cascades) without each caller having to remember; a write that bypasses them
(``bulk_create`` into an existing site, ``QuerySet.update``) must call ``touch_sites`` itself.

The token is changed in ``pre_*`` handlers, before the row itself is written, so a writer locks the site row
first and then its children: the same order as ``services._lock_budgets``, which avoids deadlocks between a
placement and, say, a PDU edit.

A new token is a random UUID, never a counter: test databases roll back and reuse ids, and a rolled-back
transaction must not leave behind a cache entry that a later, different state could match.

Why a cached budget is never older than its token, under PostgreSQL READ COMMITTED (each statement sees the
data committed before it started; nothing else is promised):

1. *Every write commits its token with its data.* Requests run in one transaction (``ATOMIC_REQUESTS``), and
   so do the services, the import, ``seed_demo`` and the report task; the ``pre_*`` renewal is an UPDATE of
   the site row inside that transaction. Another session therefore sees either the old token with the old
   data or the new token with the new data, never the new token with the old data. (Deletes and many-to-many
   changes run inside Django's own atomic blocks even in autocommit. A ``save()`` in autocommit mode, e.g.
   from a shell, is also renewed once more *after* the write, in ``post_save``, so even then no token outlives
   the data it was issued for; a concurrent reader may see a stale total only while that save is running.)
2. *So while a site's token is T, its budget data is the state committed with T.* Any later change would
   have committed a new token, and tokens never repeat.
3. *A build is cached only if the token did not change while it ran* (``selectors.site_budgets``: token read,
   five statements of totals, token read again). Each statement of the build started between the two token
   reads, when the token was T, so by 2. each saw the state committed with T: the entry is a consistent
   snapshot that includes every change committed before the token was read. A build that raced a commit is
   not cached (it is rebuilt under the new token, a bounded number of times).
4. *A placement sees the current state.* It locks the site row FOR UPDATE first (``services._lock_budgets``),
   then reads the rack with the site's token; no writer can commit a change to the site while the lock is
   held (its token renewal would wait for the lock), so the token read is current and a cache entry under it
   is, by 3., the current committed state.

The design needs no stricter isolation level; under REPEATABLE READ or SERIALIZABLE the whole build would
see one snapshot and the argument holds a fortiori.
"""

from __future__ import annotations

import threading
import uuid
import weakref

from django.db import connection
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_save, pre_delete, pre_save

from cooling.models import CoolingLoop
from racks.models import Fabric, Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site, Switch

# Path from a site to each kind of object, for "the site(s) of this object".
_SITE_PATH = {
    Room: "rooms",
    Row: "rooms__rows",
    Rack: "rooms__rows__racks",
    Pdu: "rooms__rows__racks__pdus",
    Node: "rooms__rows__racks__nodes",
    PowerSource: "power_sources",
    CoolingLoop: "cooling_loops",
    Fabric: "fabrics",
    Switch: "fabrics__switches",
}
# The parent foreign key of each kind and the path from a site to that parent.
_PARENT = {
    Room: ("site_id", None),
    Row: ("room_id", "rooms"),
    Rack: ("row_id", "rooms__rows"),
    Pdu: ("rack_id", "rooms__rows__racks"),
    Node: ("rack_id", "rooms__rows__racks"),
    PowerSource: ("site_id", None),
    CoolingLoop: ("site_id", None),
    Fabric: ("site_id", None),
    Switch: ("fabric_id", "fabrics"),
}

_local = threading.local()


def touch_sites(condition: Q) -> None:
    """Give every site matching ``condition`` a new budget token (one UPDATE; Django turns a condition across
    relations into ``pk IN (subquery)``)."""
    Site.objects.filter(condition).update(budget_token=uuid.uuid4())


def touch_sites_of_racks(rack_ids) -> None:
    """For writes that bypass signals (``bulk_create`` of nodes or PDUs into racks of a live site)."""
    touch_sites(Q(rooms__rows__racks__id__in=list(rack_ids)))


def touch_all_sites() -> None:
    Site.objects.update(budget_token=uuid.uuid4())


def _sites_of(instance) -> Q:
    """Sites the object belongs to: through its (possibly new) parent, and where it is stored now."""
    model = type(instance)
    fk, path = _PARENT[model]
    parent_id = getattr(instance, fk)
    condition = Q(pk__in=[])
    if parent_id is not None:
        condition |= Q(pk=parent_id) if path is None else Q(**{f"{path}__id": parent_id})
    if instance.pk is not None:
        condition |= Q(**{f"{_SITE_PATH[model]}__id": instance.pk})
    return condition


def _on_save(sender, instance, raw=False, **kwargs):
    if raw:  # loaddata: nothing cached can match a site being loaded
        return
    if sender is Site:
        # A site saved from a stale instance must not write an old token back.
        instance.budget_token = uuid.uuid4()
        return
    if sender is NodeModel:
        if instance.pk is not None:
            touch_all_sites()  # a model's power or liquid share feeds every site using it
            if not connection.in_atomic_block:
                instance._budget_retouch = Q()  # every site, again after the write (``_after_save``)
        return
    condition = _sites_of(instance)
    if not connection.in_atomic_block:
        # Autocommit: this UPDATE commits before the row is written. Remember the sites (the object may be
        # leaving one of them) to renew their tokens again once the write has committed (``_after_save``).
        site_ids = list(Site.objects.filter(condition).values_list("pk", flat=True))
        instance._budget_retouch = Q(pk__in=site_ids) | _sites_of(instance)
        condition = Q(pk__in=site_ids)
    touch_sites(condition)


def _after_save(sender, instance, raw=False, **kwargs):
    """In autocommit, a second renewal after the write: no token committed before the data outlives it.

    Inside a transaction (every request, service, import) the ``pre_save`` renewal commits together with the
    write, and nothing is done here.
    """
    condition = instance.__dict__.pop("_budget_retouch", None)
    if raw or condition is None or connection.in_atomic_block:
        return
    touch_sites(condition)


def _marks() -> weakref.WeakSet:
    marks = getattr(_local, "origins", None)
    if marks is None:
        marks = _local.origins = weakref.WeakSet()
    return marks


def _on_delete(sender, instance, origin=None, **kwargs):
    """A cascade sends one signal per object; the first one touches the sites, for the root object's sake.

    Django sends the cascade's pre_delete signals dependents first, so the root object (``origin``) comes
    last: its own signal ends the cascade and clears the mark, whatever happens to the deletion after it.
    """
    marks = _marks()
    if origin is instance:
        marks.discard(origin)
    elif origin is not None and hasattr(origin, "_meta"):  # QuerySet.delete() has no single root
        if origin in marks:
            return
        marks.add(origin)
    if sender is Site or sender is NodeModel:
        return  # a deleted site needs no token; a used NodeModel cannot be deleted (PROTECT)
    touch_sites(_sites_of(instance))


def _on_loop_racks_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    if reverse:  # rack.cooling_loops.add(...): the rack's site, and the sites of the loops named
        condition = Q(rooms__rows__racks__id=instance.pk)
        if pk_set:
            related = "fabrics" if sender is Fabric.racks.through else "cooling_loops"
            condition |= Q(**{f"{related}__id__in": pk_set})
    else:
        condition = Q(pk=instance.site_id)
    touch_sites(condition)


def connect() -> None:
    for model in (Site, NodeModel, *_PARENT):
        pre_save.connect(_on_save, sender=model, dispatch_uid=f"budget_token_save_{model.__name__}")
        if model is not Site:
            post_save.connect(_after_save, sender=model, dispatch_uid=f"budget_token_saved_{model.__name__}")
        pre_delete.connect(_on_delete, sender=model, dispatch_uid=f"budget_token_delete_{model.__name__}")
    m2m_changed.connect(_on_loop_racks_changed, sender=CoolingLoop.racks.through, dispatch_uid="budget_token_links")
    m2m_changed.connect(_on_loop_racks_changed, sender=Fabric.racks.through, dispatch_uid="budget_token_fabric_links")
