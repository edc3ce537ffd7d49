"""Who may see and do what in the browser: the same roles as the API (``planner.roles``).

Readers (``facilities``, ``procurement``, superusers) see every page and may ask questions (placement
check, feasibility). Only writers (``facilities``, superusers) see write controls, and every write view
answers 403 to anyone else, whatever the method, so a hand-made POST cannot write either.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from planner.roles import can_read, can_write


def reader_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_read(request.user):
            raise PermissionDenied("Your account has no planner role.")
        return view(request, *args, **kwargs)

    return wrapped


def writer_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_write(request.user):
            raise PermissionDenied("Only facilities users may change the model.")
        return view(request, *args, **kwargs)

    return wrapped


def page(request, template: str, context: dict | None = None, *, status: int = 200):
    """Render a page with the flags the navigation and write controls need."""
    ctx = {"can_write": can_write(request.user), **(context or {})}
    return render(request, template, ctx, status=status)


def thresholds(request) -> dict:
    """Template context: the one "near a limit" setting as a percentage used (80 at 0.8), for page texts."""
    from django.conf import settings

    return {"near_limit_pct": round(settings.PLANNER_NEAR_LIMIT_SHARE * 100, 6)}
