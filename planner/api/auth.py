"""``POST /api/v1/auth/token/``: a username and password in, the user's API token out, throttled.

DRF's ObtainAuthToken with a ScopedRateThrottle of scope ``auth`` (``DEFAULT_THROTTLE_RATES["auth"]``,
20/min per client address by default): password guessing is slowed to that rate whatever the username.
Throttle counters live in the default cache, so each process counts for itself unless the cache is shared.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.decorators import method_decorator
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.throttling import ScopedRateThrottle

from planner.api.parsers import JSON_PARSER_CLASSES

THROTTLE_SCOPE = "auth"


# Outside the request's transaction (ATOMIC_REQUESTS): a refused attempt rolls its request back, and with the
# database cache that would roll the throttle's count of it back too, so guessing would never be slowed.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class ThrottledObtainAuthToken(ObtainAuthToken):
    """Exchange a username and password for the user's API token (``Authorization: Token <key>``)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = THROTTLE_SCOPE
    parser_classes = JSON_PARSER_CLASSES

    @extend_schema(
        operation_id="auth_token_create",
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField(style={"input_type": "password"})},
        ),
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Wrong credentials or missing fields."),
            429: OpenApiResponse(description="Too many attempts: wait and retry."),
        },
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


obtain_token = ThrottledObtainAuthToken.as_view()
