"""API error handling: database-level refusals become clear 4xx answers, never a 500."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback


def exception_handler(exc, context):
    response = _handle(exc, context)
    if response is not None:
        set_rollback()  # an error answer never commits a partial write of its request (ATOMIC_REQUESTS)
    return response


def _handle(exc, context):
    from planner.services import Conflict

    if isinstance(exc, Conflict):
        return Response(exc.payload, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (ProtectedError, RestrictedError)):
        names = sorted(
            {
                str(obj)
                for obj in list(exc.protected_objects if hasattr(exc, "protected_objects") else exc.restricted_objects)[
                    :10
                ]
            }
        )
        return Response(
            {"detail": "Still in use; remove what depends on it first.", "used_by": names},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, IntegrityError):
        # The serializers check the same invariants first; this is the race the database caught.
        return Response({"detail": f"Refused by a database constraint: {exc}"}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
