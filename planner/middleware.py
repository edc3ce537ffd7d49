"""503 while the database cannot be reached, for the API (JSON, in the one error shape of
``planner.api.exceptions``) and for the browser (``templates/503.html``), both with ``Retry-After``.

Django turns an exception into a response at every middleware layer (``convert_exception_to_response``), so
a ``try`` around ``get_response`` alone would only ever see a finished 500. Two hooks cover every layer:

- ``process_exception`` gets what a view raised (``ATOMIC_REQUESTS`` opens the connection there, so an
  unreachable database usually fails here, before the view runs);
- a ``got_request_exception`` receiver marks the request when a *middleware* below this one raised (a
  session or user lookup), and the 500 Django built for it is replaced on the way out.

Nothing here touches the database: the page is rendered without a request context (no user, no session).
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader

from planner.api.exceptions import error_body

DATABASE_ERRORS = (OperationalError, InterfaceError)
_MARK = "_planner_database_unavailable"
DETAIL = "The database cannot be reached or could not complete the request; nothing was changed. Retry in {seconds} s."


def database_unavailable_response(request) -> HttpResponse:
    seconds = settings.DB_UNAVAILABLE_RETRY_AFTER_S
    if request.path.startswith("/api/"):
        response = JsonResponse(
            error_body(503, DETAIL.format(seconds=seconds), code="database_unavailable"), status=503
        )
    else:
        response = HttpResponse(
            loader.get_template("503.html").render({"retry_after_s": seconds}), status=503, content_type="text/html"
        )
    response["Retry-After"] = str(seconds)
    return response


def _mark_request(sender, request=None, **kwargs):
    if request is not None and isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        setattr(request, _MARK, True)


got_request_exception.connect(_mark_request, dispatch_uid="planner_database_unavailable")


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, _MARK, False):
            return database_unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            return database_unavailable_response(request)
        return None
