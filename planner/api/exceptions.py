"""One JSON error shape for every error under ``/api/``.

Every error body is ``{"status": <int>, "code": <str>, "detail": <str>, "errors": {<field path>: [<message>]}}``
(``ApiError`` in the schema). ``errors`` is empty unless input was refused field by field; its keys are paths
into the request (``name``, ``fail.0.kind``, ``3.slug`` for item 3 of a bulk list, ``non_field_errors``), so a
client can put each message beside its field. A 409 may carry more keys beside these (a refused placement
carries its full check result: ``ok``, ``checks``, ...).

``error_body``/``error_response`` build that shape for any status (the 503 while the database is down reuses
them); ``exception_handler`` is DRF's hook; ``json_page_not_found``, ``json_server_error``, ... answer the errors
Django raises before or outside a DRF view (an unknown route, an unhandled exception) with the same shape when
the path is under ``/api/``, and with Django's own pages elsewhere.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connections
from django.db.models import ProtectedError, RestrictedError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

API_PREFIX = "/api/"

# The code a client can switch on when DRF gave none (or gave a field-level code for the whole error).
STATUS_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
    503: "unavailable",
}

DEFAULT_DETAIL = {
    400: "Invalid input.",
    404: "Not found.",
    409: "Conflict.",
    500: "Server error: the request was not completed; nothing was saved.",
    503: "Service unavailable: retry later.",
}


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{field path: [messages]}`` (lists of items become index segments)."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            out.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, (list, tuple)):
        if all(not isinstance(item, (dict, list, tuple)) for item in detail):
            if detail:
                out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    elif detail is not None:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def error_body(status_code: int, detail: str | None = None, *, code: str | None = None, errors=None, **extra):
    """The error shape (see the module docstring)."""
    return {
        **extra,
        "status": status_code,
        "code": code or STATUS_CODES.get(status_code, "error"),
        "detail": detail or DEFAULT_DETAIL.get(status_code, "Error."),
        "errors": errors or {},
    }


def error_response(status_code: int, detail: str | None = None, *, code: str | None = None, errors=None, **extra):
    """A DRF Response with the error shape (inside DRF views and handlers)."""
    return Response(error_body(status_code, detail, code=code, errors=errors, **extra), status=status_code)


def _summary(errors: dict[str, list[str]]) -> str:
    if not errors:
        return DEFAULT_DETAIL[400]
    path, messages = next(iter(errors.items()))
    first = messages[0] if messages else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return (first if path == "non_field_errors" else f"{path}: {first}") + more


def _reshape(response: Response) -> Response:
    """DRF's answer for an APIException, in the one shape (headers such as Retry-After and Allow kept)."""
    data = response.data
    code = None
    if not _is_plain_detail(data):
        errors = flatten_errors(data)
        detail = _summary(errors)
    else:
        errors = {}
        detail = str(data.get("detail", "")) if isinstance(data, dict) else str(data)
        raw = data.get("detail") if isinstance(data, dict) else None
        code = getattr(raw, "code", None)
        if code in (None, "error", "invalid") or response.status_code in (405, 415, 429):
            code = None
    response.data = error_body(response.status_code, detail, code=code, errors=errors)
    return response


def _is_plain_detail(data) -> bool:
    return isinstance(data, dict) and set(data) <= {"detail"}


def exception_handler(exc, context):
    # DRF's own handler (called by _handle) marks every open atomic block for rollback; for a non-atomic view
    # that block is not the request's (a test's, say), so its mark is put back as it was.
    before = {c.alias: c.needs_rollback for c in connections.all(initialized_only=True) if c.in_atomic_block}
    response = _handle(exc, context)
    if response is not None:
        if _request_is_atomic(context):
            set_rollback()  # an error answer never commits a partial write of its request (ATOMIC_REQUESTS)
        else:
            for c in connections.all(initialized_only=True):
                if c.alias in before:
                    c.needs_rollback = before[c.alias]
    return response


def _request_is_atomic(context) -> bool:
    """False for a view marked ``transaction.non_atomic_requests`` (on its ``dispatch``): its request has no
    transaction of its own, so an error must not mark an enclosing one (a test's) for rollback."""
    dispatch = getattr(type(context.get("view")), "dispatch", None)
    return not getattr(dispatch, "_non_atomic_requests", ())


def _handle(exc, context):
    from planner.services import Conflict, InvalidInput, NotFound

    if isinstance(exc, Conflict):
        payload = dict(exc.payload)
        detail = str(payload.pop("detail", "") or DEFAULT_DETAIL[409])
        return error_response(exc.status_code, detail, **payload)
    if isinstance(exc, InvalidInput):
        errors = flatten_errors(exc.errors)
        return error_response(status.HTTP_400_BAD_REQUEST, _summary(errors), errors=errors)
    if isinstance(exc, NotFound):
        return error_response(status.HTTP_404_NOT_FOUND, str(exc) or DEFAULT_DETAIL[404])
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        errors = flatten_errors(detail)
        return error_response(status.HTTP_400_BAD_REQUEST, _summary(errors), errors=errors)
    if isinstance(exc, (ProtectedError, RestrictedError)):
        names = sorted(
            {
                str(obj)
                for obj in list(exc.protected_objects if hasattr(exc, "protected_objects") else exc.restricted_objects)[
                    :10
                ]
            }
        )
        return error_response(
            status.HTTP_409_CONFLICT, "Still in use; remove what depends on it first.", code="in_use", used_by=names
        )
    if isinstance(exc, IntegrityError):
        # The serializers check the same invariants first; this is the race the database caught.
        return error_response(status.HTTP_409_CONFLICT, f"Refused by a database constraint: {exc}")
    response = drf_exception_handler(exc, context)
    if response is not None:
        return _reshape(response)
    return None


def is_api_request(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _json(status_code: int, detail: str | None = None) -> JsonResponse:
    return JsonResponse(error_body(status_code, detail), status=status_code)


# Django's handlers (planner/urls.py names them): JSON under /api/, Django's pages elsewhere.


def json_page_not_found(request, exception=None):
    if is_api_request(request):
        return _json(404, f"No API endpoint at {request.path[:200]} ({request.method}).")
    return defaults.page_not_found(request, exception)


def json_server_error(request):
    if is_api_request(request):
        return _json(500)
    return defaults.server_error(request)


def json_bad_request(request, exception=None):
    if is_api_request(request):
        return _json(400, str(exception) if exception else None)
    return defaults.bad_request(request, exception)


def json_permission_denied(request, exception=None):
    if is_api_request(request):
        return _json(403, str(exception) if exception and str(exception) else "Permission denied.")
    return defaults.permission_denied(request, exception)


__all__ = [
    "error_body",
    "error_response",
    "exception_handler",
    "flatten_errors",
    "json_bad_request",
    "json_page_not_found",
    "json_permission_denied",
    "json_server_error",
]


def normalize_error(data, status_code: int):
    """Any error body a view built by hand, in the one shape (the renderer applies it to every API answer
    with a 4xx/5xx status): the keys it had are kept beside, nested ``errors`` flattened to field paths."""
    if isinstance(data, dict) and {"status", "code", "detail", "errors"} <= set(data):
        return data
    if not isinstance(data, dict):
        errors = flatten_errors(data)
        return error_body(status_code, _summary(errors) if errors else None, errors=errors)
    extra = dict(data)
    detail = extra.pop("detail", None)
    code = extra.pop("code", None)
    extra.pop("status", None)
    raw_errors = extra.pop("errors", None)
    errors = flatten_errors(raw_errors) if raw_errors else {}
    if detail is None and not raw_errors and status_code == 400:
        errors, extra = flatten_errors(extra), {}  # a bare serializer.errors dict
        detail = _summary(errors)
    return error_body(status_code, str(detail) if detail else None, code=code, errors=errors, **extra)
