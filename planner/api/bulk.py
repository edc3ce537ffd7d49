"""Bulk create, update and delete with JSON list bodies on a collection URL, as NetBox does.

``POST <resource>/`` with a list creates every item; ``PUT`` / ``PATCH <resource>/`` with ``[{id, ...}, ...]``
updates every item; ``DELETE <resource>/`` with ``[{id}, ...]`` deletes every item. Each item goes through
exactly the path of a single write (the same serializer, validation, cross-site ``clean()``, placement
service, delete confirmation, history row and budget-token renewal), one after the other in the request's
transaction (ATOMIC_REQUESTS): the first refused item ends the request and nothing is written. A 400 names
the item by its index (``2.name``); a 409 carries ``index`` beside the refusal's own keys. A list holds at
most ``MAX_ITEMS`` items.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter, Route

from planner import services
from planner.api.exceptions import flatten_errors

MAX_ITEMS = 1000

ID_ITEM = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "integer", "minimum": 1}},
}
UPDATE_BODY = {
    "application/json": {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_ITEMS,
        "items": {**ID_ITEM, "additionalProperties": True, "description": "`id` and the fields to change."},
    }
}
DELETE_BODY = {
    "application/json": {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_ITEMS,
        "items": {**ID_ITEM, "additionalProperties": False},
    }
}


def bulk_items(data) -> list:
    if not data:
        raise ValidationError({"non_field_errors": ["The list is empty."]})
    if len(data) > MAX_ITEMS:
        raise ValidationError({"non_field_errors": [f"At most {MAX_ITEMS} items per request ({len(data)} sent)."]})
    return data


def _indexed(index: int, exc: ValidationError) -> ValidationError:
    return ValidationError({f"{index}.{path}": messages for path, messages in flatten_errors(exc.detail).items()})


def _indexed_conflict(index: int, exc: services.Conflict) -> services.Conflict:
    exc.payload = {**exc.payload, "index": index, "detail": f"Item {index}: {exc.payload.get('detail', '')}"}
    return exc


class BulkMixin:
    """The bulk operations for a ``ModelViewSet``. A viewset with its own single writes overrides
    ``create_one``, ``update_one`` and ``destroy_one``; the defaults are DRF's ``perform_*``."""

    def get_object(self):
        # OPTIONS on the list URL (which now answers PUT) makes DRF's metadata fetch "the" object to describe
        # the PUT form: there is none on a list URL, so answer as no object (DRF then leaves PUT out).
        if (self.lookup_url_kwarg or self.lookup_field) not in self.kwargs:
            raise Http404("No object on a list URL.")
        return super().get_object()

    def create_one(self, data):
        serializer = self.get_serializer(data=data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        return serializer.instance

    def update_one(self, instance, data, partial: bool):
        serializer = self.get_serializer(instance, data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return serializer.instance

    def destroy_one(self, instance) -> None:
        self.perform_destroy(instance)

    def _each(self, items, write):
        out = []
        for index, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise ValidationError({"non_field_errors": ["Expected an object."]})
                out.append(write(item))
            except ValidationError as exc:
                raise _indexed(index, exc) from None
            except services.InvalidInput as exc:
                raise _indexed(index, ValidationError(exc.errors)) from None
            except services.Conflict as exc:
                raise _indexed_conflict(index, exc) from None
        return out

    def _instances(self, items) -> dict[int, object]:
        """The objects the items name, in one query; an item without a known ``id`` answers 400 at its index."""
        ids, errors = [], {}
        for index, item in enumerate(items):
            pk = item.get("id") if isinstance(item, dict) else None
            if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63:
                errors[f"{index}.id"] = ["Required: the id of an existing object."]
            ids.append(pk)
        if errors:
            raise ValidationError(errors)
        found = self.filter_queryset(self.get_queryset()).in_bulk([pk for pk in ids])
        missing = {f"{i}.id": ["No such object."] for i, pk in enumerate(ids) if pk not in found}
        if missing:
            raise ValidationError(missing)
        if len(set(ids)) != len(ids):
            raise ValidationError({"non_field_errors": ["An id appears more than once."]})
        return found

    def create(self, request, *args, **kwargs):
        if not isinstance(request.data, list):
            return super().create(request, *args, **kwargs)
        items = bulk_items(request.data)
        created = self._each(items, self.create_one)
        return Response(self.get_serializer(created, many=True).data, status=status.HTTP_201_CREATED)

    def _bulk_update(self, request, partial: bool):
        if not isinstance(request.data, list):
            raise ValidationError({"non_field_errors": ["Expected a list of objects, each with its id."]})
        items = bulk_items(request.data)
        found = self._instances(items)
        updated = self._each(items, lambda item: self.update_one(found[item["id"]], item, partial))
        return Response(self.get_serializer(updated, many=True).data)

    @extend_schema(request=UPDATE_BODY, summary="Bulk update (every field of each item)")
    def bulk_update(self, request, *args, **kwargs):
        return self._bulk_update(request, partial=False)

    @extend_schema(request=UPDATE_BODY, summary="Bulk partial update")
    def bulk_partial_update(self, request, *args, **kwargs):
        return self._bulk_update(request, partial=True)

    @extend_schema(request=DELETE_BODY, responses={204: None}, summary="Bulk delete")
    def bulk_destroy(self, request, *args, **kwargs):
        if not isinstance(request.data, list):
            raise ValidationError({"non_field_errors": ["Expected a list of objects, each with its id."]})
        items = bulk_items(request.data)
        found = self._instances(items)
        for index, item in enumerate(items):
            if set(item) != {"id"}:
                raise ValidationError({f"{index}.{k}"[:100]: ["Unknown field."] for k in sorted(set(item) - {"id"})})
        self._each(items, lambda item: self.destroy_one(found[item["id"]]))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BulkRouter(DefaultRouter):
    """DefaultRouter whose list route also maps PUT, PATCH and DELETE to the bulk operations (only for a
    viewset that has them: DRF maps a method only when the viewset has its action)."""

    routes = [
        Route(
            url=r"^{prefix}{trailing_slash}$",
            mapping={
                "get": "list",
                "post": "create",
                "put": "bulk_update",
                "patch": "bulk_partial_update",
                "delete": "bulk_destroy",
            },
            name="{basename}-list",
            detail=False,
            initkwargs={"suffix": "List"},
        ),
        *DefaultRouter.routes[1:],
    ]
