"""``?brief=true``: a minimal representation of a resource (``id``, ``display``, and ``name`` / ``slug`` where
the model has them), as NetBox's brief mode, for pickers and scripts that only need to name objects.

The value is parsed strictly (``true`` or ``false``, anything else a 400 naming ``brief``). The schema types
list and detail answers as the full or the brief shape (``anyOf``); the brief component refuses other keys
(``additionalProperties: false``) so a full answer never validates as brief.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

BRIEF_VALUES = {"true": True, "false": False}
BRIEF_PARAMETER = OpenApiParameter(
    "brief",
    OpenApiTypes.BOOL,
    description="`true`: answer the brief representation (id, display, and name / slug where the resource has "
    "them). Only `true` or `false`.",
)
_BRIEF_CLASSES: dict[type, type] = {}


def brief_serializer(model) -> type[serializers.ModelSerializer]:
    """The brief serializer of ``model`` (one class per model, so the schema names one component each)."""
    if model not in _BRIEF_CLASSES:
        names = [f for f in ("name", "slug") if any(x.name == f for x in model._meta.get_fields())]
        meta = type("Meta", (), {"model": model, "fields": ["id", "display", *names], "read_only_fields": names})
        attrs = {
            "Meta": meta,
            "display": serializers.CharField(source="__str__", read_only=True),
            "__module__": __name__,
        }
        _BRIEF_CLASSES[model] = type(f"{model.__name__}BriefSerializer", (serializers.ModelSerializer,), attrs)
    return _BRIEF_CLASSES[model]


def brief_requested(request) -> bool:
    values = request.query_params.getlist("brief")
    if not values:
        return False
    if len(values) > 1 or values[0] not in BRIEF_VALUES:
        raise ValidationError({"brief": ["Must be `true` or `false`."]})
    return BRIEF_VALUES[values[0]]


class BriefMixin:
    """Adds ``?brief=`` to a viewset's list and detail reads (the parameter is declared for the strict query
    check by ``allowed_params`` for ``list`` and ``retrieve`` only: elsewhere it is an unknown parameter)."""

    brief_param = True

    def get_serializer_class(self):
        if getattr(self, "action", None) in ("list", "retrieve") and brief_requested(self.request):
            return brief_serializer(self.get_queryset().model)
        return super().get_serializer_class()

    def list(self, request, *args, **kwargs):
        brief_requested(request)  # a bad value answers 400 before any query
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        brief_requested(request)
        return super().retrieve(request, *args, **kwargs)


def with_brief(viewset):
    """Class decorator: the ``BriefMixin`` viewset's list and retrieve typed as full-or-brief, with ``brief``."""
    full = viewset.serializer_class
    model = viewset.queryset.model
    either = PolymorphicProxySerializer(
        component_name=f"{model.__name__}OrBrief",
        serializers=[full, brief_serializer(model)],
        resource_type_field_name=None,
    )
    either_many = PolymorphicProxySerializer(
        component_name=f"{model.__name__}OrBrief",
        serializers=[full, brief_serializer(model)],
        resource_type_field_name=None,
        many=True,
    )
    return extend_schema_view(
        list=extend_schema(parameters=[BRIEF_PARAMETER], responses={200: either_many}),
        retrieve=extend_schema(parameters=[BRIEF_PARAMETER], responses={200: either}),
    )(viewset)


def close_brief_components(result, generator, request, public):
    """drf-spectacular postprocessing hook: brief components take no other keys, and full-or-brief is an
    ``anyOf`` (a full shape whose only required fields are the brief ones, a site's, validates as both)."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Brief") and component.get("type") == "object":
            component["additionalProperties"] = False
        if name.endswith("OrBrief") and "oneOf" in component:
            component["anyOf"] = component.pop("oneOf")
    return result
