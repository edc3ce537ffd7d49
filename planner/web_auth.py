"""The browser login, throttled: too many failed attempts for one username from one address answer 429.

Failures are counted per (client address, username) in Django's cache in a fixed window
(``LOGIN_THROTTLE_FAILURES`` per ``LOGIN_THROTTLE_WINDOW_S``, default 5 per 60 s). Once the count is
reached, further POSTs are refused with 429 *before* the password is checked, until the window ends; a
successful login clears the count. The client address is ``REMOTE_ADDR``: behind a reverse proxy that is the
proxy, and the username part of the key still keeps one user's guesses from locking out everyone else.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.html import escape

DEFAULT_FAILURES = 5
DEFAULT_WINDOW_S = 60


def limits() -> tuple[int, int]:
    return (
        int(getattr(settings, "LOGIN_THROTTLE_FAILURES", DEFAULT_FAILURES)),
        int(getattr(settings, "LOGIN_THROTTLE_WINDOW_S", DEFAULT_WINDOW_S)),
    )


def throttle_key(request) -> str:
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    username = str(request.POST.get("username", "")).strip().casefold()
    # Hashed: usernames may hold any character, and cache backends limit key characters and length.
    digest = hashlib.sha256(f"{address}\x00{username}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"planner:login-fail:{digest}"


def failures(key: str) -> int:
    return int(cache.get(key, 0) or 0)


def record_failure(key: str, window_s: int) -> None:
    # add() starts the window only for the first failure; incr() keeps its expiry.
    if not cache.add(key, 1, timeout=window_s):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window_s)


class ThrottledLoginView(auth_views.LoginView):
    """Django's LoginView with a failed-attempt limit per client address and username."""

    def post(self, request, *args, **kwargs):
        allowed, window_s = limits()
        key = throttle_key(request)
        if failures(key) >= allowed:
            return self.throttled(window_s)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            cache.delete(key)
        else:
            record_failure(key, window_s)
        return response

    def throttled(self, window_s: int) -> HttpResponse:
        message = f"Too many failed login attempts. Try again in {window_s} seconds."
        body = (
            '<!doctype html><html lang="en"><title>Too many attempts</title>'
            f"<h1>Too many attempts</h1><p>{escape(message)}</p></html>"
        )
        response = HttpResponse(body, status=429)
        response["Retry-After"] = str(window_s)
        return response


login_view = ThrottledLoginView.as_view()
