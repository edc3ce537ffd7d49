"""Roles are Django groups (defined in ``planner.roles``, shared with the pages).

- ``facilities``: read and write everything.
- ``procurement``: read everything and ask questions (check, headroom, feasibility); never write.
- superusers: everything. Anyone else, and anonymous users: nothing.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from planner.roles import FACILITIES, PROCUREMENT, ROLES, can_read, can_write, user_roles

__all__ = ("FACILITIES", "PROCUREMENT", "ROLES", "RolePermission", "can_read", "can_write", "user_roles")


class RolePermission(BasePermission):
    """Reads need a role; writes need ``facilities``. Views that only ask a question set ``question = True``."""

    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "question", False):
            return can_read(request.user)
        return can_write(request.user)
