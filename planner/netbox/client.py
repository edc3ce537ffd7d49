"""Read from NetBox what the mapping needs, with pynetbox, following pagination on every list.

The lists are read as NetBox's raw JSON (pynetbox's own paginating request, without turning each object
into a Record), so the mapping sees exactly what the fixtures under tests/netbox/fixtures hold. Filters
used: ``site`` (slug, repeatable) on sites' children, ``slug`` on sites, ``id`` on device types and
``device_type_id`` on power-port templates.
"""

from __future__ import annotations

from collections.abc import Callable

import pynetbox
import requests
from django.conf import settings
from pynetbox.core.query import ContentError, Request, RequestError

PAGE = 1000  # NetBox's default MAX_PAGE_SIZE
BY_SITE = ("locations", "racks", "power-panels", "power-feeds", "devices", "power-ports")


class FetchFailed(Exception):
    """NetBox could not be read (unreachable, refused the token, answered something else than JSON)."""


def _api(client_or_url, token: str | None):
    if isinstance(client_or_url, pynetbox.api):
        return client_or_url
    url = str(client_or_url or "").strip()
    if not url.startswith(("http://", "https://")):
        raise FetchFailed(f"NetBox URL {url[:100]!r}: give an http:// or https:// address")
    if not token:
        raise FetchFailed("a NetBox API token is required")
    api = pynetbox.api(url.rstrip("/"), token=token)
    session = requests.Session()
    timeout = getattr(settings, "NETBOX_TIMEOUT_S", 30)
    session.request = _with_timeout(session.request, timeout)
    api.http_session = session
    return api


def _with_timeout(request, timeout):
    def call(method, url, **kwargs):
        kwargs.setdefault("timeout", timeout)
        return request(method, url, **kwargs)

    return call


def _list(api, endpoint: str, filters: dict | None) -> list[dict]:
    req = Request(
        base=f"{api.base_url}/dcim/{endpoint}/",
        http_session=api.http_session,
        filters=filters or None,
        limit=PAGE,
        token=api.token,
    )
    return list(req.get())


def fetch(
    client_or_url, *, token: str | None, site_slugs: list[str], progress: Callable[[str, float], None] | None = None
) -> dict:
    """Every list the mapping reads, as NetBox JSON, for the given sites (empty: all sites)."""
    say = progress or (lambda message, fraction: None)
    api = _api(client_or_url, token)
    out: dict = {"url": api.base_url.removesuffix("/api")}
    site_filter = {"site": site_slugs} if site_slugs else None
    try:
        say("reading sites", 0.0)
        out["sites"] = _list(api, "sites", {"slug": site_slugs} if site_slugs else None)
        for i, endpoint in enumerate(BY_SITE):
            say(f"reading {endpoint}", 0.02 + 0.03 * i)
            out[endpoint] = _list(api, endpoint, site_filter)
        type_ids = sorted({d["device_type"]["id"] for d in out["devices"] if d.get("device_type")})
        say("reading device types", 0.2)
        out["device-types"] = _list(api, "device-types", {"id": type_ids}) if type_ids else []
        out["power-port-templates"] = (
            _list(api, "power-port-templates", {"device_type_id": type_ids}) if type_ids else []
        )
    except RequestError as exc:
        status = getattr(getattr(exc, "req", None), "status_code", "?")
        raise FetchFailed(f"NetBox answered {status} on {getattr(exc.req, 'url', '?')}: {exc}") from None
    except requests.RequestException as exc:
        raise FetchFailed(f"NetBox at {api.base_url} could not be reached: {type(exc).__name__}: {exc}") from None
    except (ContentError, ValueError, KeyError, TypeError) as exc:
        raise FetchFailed(f"NetBox at {api.base_url} answered something else than its API: {exc}") from None
    return out
