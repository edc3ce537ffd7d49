"""Roles are Django groups; one definition for the API (``planner.api.permissions``) and the pages.

- ``facilities``: read and write everything.
- ``procurement``: read everything and ask questions (check, headroom, feasibility); never write.
- superusers: everything. Anyone else, and anonymous users: nothing.
"""

from __future__ import annotations

FACILITIES = "facilities"
PROCUREMENT = "procurement"
ROLES = (FACILITIES, PROCUREMENT)


def user_roles(user) -> frozenset[str]:
    """Role names of a user, cached on the user object so a request costs one query at most."""
    if not user or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_planner_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._planner_roles = cached
    return cached


def can_read(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user_roles(user)))


def can_write(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or FACILITIES in user_roles(user)))
