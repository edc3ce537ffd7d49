"""Request body parsers that answer hostile input with a clear 4xx, never a 500.

DRF's own JSON and form parsers read ``request.body``; past ``DATA_UPLOAD_MAX_MEMORY_SIZE`` Django raises
``RequestDataTooBig``, which escapes the API's exception handler as an HTML 400 page, and a deeply nested JSON
document makes the decoder raise ``RecursionError`` (a 500). These parsers:

- refuse a body larger than the limit with **413** and a JSON message, before reading it (``Content-Length``)
  and while reading it (a body longer than it said). A view may raise its own limit with ``max_body_bytes``
  (the site import takes whole-site documents);
- refuse JSON nested deeper than ``MAX_JSON_DEPTH`` with **400**;
- refuse NaN/Infinity tokens and number literals that overflow (``1e400``) with **400** (strict JSON);
- refuse integer literals outside the 64-bit range with **400**: no database column can store them.

They deliberately do not subclass DRF's ``JSONParser``/``FormParser``: DRF reads ``request.body`` before
calling those two (so the size limit would fire as an unhandled ``RequestDataTooBig``).
"""

from __future__ import annotations

import codecs
import json
import math

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import QueryDict
from rest_framework import renderers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser, MultiPartParser

MAX_JSON_DEPTH = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_CHUNK = 64 * 1024


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "payload_too_large"


def body_limit(parser_context: dict | None) -> int | None:
    """Bytes a request body may have: the view's ``max_body_bytes``, else DATA_UPLOAD_MAX_MEMORY_SIZE."""
    view = (parser_context or {}).get("view")
    limit = getattr(view, "max_body_bytes", None)
    return limit if limit is not None else settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _too_large(limit: int, size: int | None = None) -> PayloadTooLarge:
    said = f" ({size:,} bytes)" if size is not None else ""
    return PayloadTooLarge(f"Request body is too large{said}; the limit is {limit:,} bytes.")


def _content_length(parser_context: dict | None) -> int | None:
    request = (parser_context or {}).get("request")
    if request is None:
        return None
    meta = request.META
    try:
        return int(meta.get("CONTENT_LENGTH") or meta.get("HTTP_CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return None


def read_limited(stream, parser_context: dict | None) -> bytes:
    """The whole body, refusing (413) one longer than the limit, declared or actual."""
    limit = body_limit(parser_context)
    declared = _content_length(parser_context)
    if limit is not None and declared is not None and declared > limit:
        raise _too_large(limit, declared)
    chunks, size = [], 0
    while True:
        try:
            chunk = stream.read(_CHUNK)
        except RequestDataTooBig:
            raise _too_large(limit) from None
        if not chunk:
            break
        size += len(chunk)
        if limit is not None and size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class _Refused:
    """A number this API refuses, left in place while decoding so that the error can say where it was."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


def _parse_constant(token: str):
    return _Refused(f"{token} is not a JSON number; use a finite number or null.")


def _parse_float(text: str):
    value = float(text)
    if not math.isfinite(value):
        return _Refused(f"Number {text[:40]} is out of range.")
    return value


def _int_out_of_range(text: str) -> _Refused:
    shown = text if len(text) <= 40 else f"{text[:20]}...({len(text)} digits)"
    return _Refused(f"Integer {shown} is out of range (64-bit signed).")


def _parse_int(text: str):
    try:
        value = int(text)
    except ValueError:  # Python refuses to convert more than 4,300 digits
        return _int_out_of_range(text)
    if not INT64_MIN <= value <= INT64_MAX:
        return _int_out_of_range(text)
    return value


def _scan(value) -> tuple[int, bool]:
    """Nesting depth of a decoded JSON value (scalars are depth 0) and whether it holds a refused number,
    in one iterative pass."""
    deepest, refused, stack = 0, isinstance(value, _Refused), [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            elif isinstance(child, _Refused):
                refused = True
    return deepest, refused


def _first_refused(value) -> str | None:
    """The message of the first refused number in document order, prefixed with its field path."""
    stack = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _Refused):
            return f"{path}: {item.message}" if path else item.message
        if isinstance(item, dict):
            children = [(child, f"{path}.{key}" if path else str(key)) for key, child in item.items()]
        elif isinstance(item, list):
            children = [(child, f"{path}[{index}]") for index, child in enumerate(item)]
        else:
            continue
        stack.extend(reversed(children))
    return None


def loads_strict(text: str, *, max_depth: int = MAX_JSON_DEPTH):
    """Decode JSON strictly; raise ValueError with a readable message on anything this API refuses.

    NaN/Infinity tokens and out-of-range numbers are refused naming the field that held them
    (``utility_capacity_kw: NaN is not a JSON number; ...``)."""
    try:
        value = json.loads(text, parse_constant=_parse_constant, parse_float=_parse_float, parse_int=_parse_int)
    except RecursionError:
        raise ValueError(f"JSON is nested too deeply (more than {max_depth} levels).") from None
    depth, refused = _scan(value)
    if depth > max_depth:
        raise ValueError(f"JSON is nested too deeply (more than {max_depth} levels).")
    if refused:  # only then is the path of the first one worth building
        raise ValueError(_first_refused(value))
    return value


def _charset(media_type: str | None, parser_context: dict | None) -> str:
    encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ParseError(f"Unknown charset {encoding[:40]!r}.") from None
    return encoding


class SafeJSONParser(BaseParser):
    """JSON with a body-size limit (413), a nesting limit and strict numbers (400)."""

    media_type = "application/json"
    renderer_class = renderers.JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        raw = read_limited(stream, parser_context)
        try:
            text = raw.decode(_charset(media_type, parser_context))
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - the body is not valid {exc.encoding}.") from None
        try:
            return loads_strict(text)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


class SafeFormParser(BaseParser):
    """``application/x-www-form-urlencoded`` with the same size limit (413)."""

    media_type = "application/x-www-form-urlencoded"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = read_limited(stream, parser_context)
        encoding = _charset(media_type, parser_context)
        try:
            return QueryDict(raw, encoding=encoding)
        except TooManyFieldsSent:
            raise ParseError("Too many form fields.") from None
        except UnicodeDecodeError:
            raise ParseError(f"Form data is not valid {encoding}.") from None


class SafeMultiPartParser(MultiPartParser):
    """Multipart forms (the browsable API) with the same size limit for the whole body (413)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = body_limit(parser_context)
        declared = _content_length(parser_context)
        if limit is not None and declared is not None and declared > limit:
            raise _too_large(limit, declared)
        try:
            return super().parse(stream, media_type, parser_context)
        except RequestDataTooBig:
            raise _too_large(limit) from None
        except TooManyFieldsSent:
            raise ParseError("Too many form fields.") from None


PARSER_CLASSES = (SafeJSONParser, SafeFormParser, SafeMultiPartParser)
JSON_PARSER_CLASSES = (SafeJSONParser,)
