"""Every page reachable from the site list and the dashboard, as the facilities and the procurement user, at a
phone (390 x 844) and a desktop (1440 x 900) viewport: none answers 400 or more, and none is wider than its
viewport (``document.documentElement.scrollWidth <= innerWidth``: no sideways scrolling, issue #16 item 8).

The crawl follows same-origin links of each page, breadth first; URLs that differ only in their ids (two
racks, two rooms) count as one shape and at most ``PER_SHAPE`` of each are visited, so the crawl stays short
whatever the size of the site. The API docs, the admin, downloads and log-out are left out (not pages of the
planner's own templates)."""

import os
import re
from collections import deque
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import log_in, make_user
from tests.web.conftest import build_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
PER_SHAPE = 2
MAX_PAGES = 200
SKIP = re.compile(r"^/(api/|admin/|static/|accounts/logout)|\.(csv|json|pdf|xlsx)$|/(download|csv|json|export)/$")


def shape(url: str) -> str:
    parts = urlsplit(url)
    keys = ",".join(sorted(k.split("=")[0] for k in parts.query.split("&") if k))
    return re.sub(r"\d+", "N", parts.path) + "?" + keys


def links(page) -> list[str]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('a[href]'))
             .filter(a => a.origin === location.origin)
             .map(a => a.pathname + a.search)"""
    )


def crawl(page, start: list[str]) -> dict[str, int]:
    """Visit pages breadth first from ``start``; returns {url: HTTP status}."""
    seen: dict[str, int] = {}
    per_shape: dict[str, int] = {}
    queue = deque(start)
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen or SKIP.search(urlsplit(url).path) or "_export=" in urlsplit(url).query:  # list exports
            continue
        key = shape(url)
        if per_shape.get(key, 0) >= PER_SHAPE:
            continue
        per_shape[key] = per_shape.get(key, 0) + 1
        response = page.goto(url)
        seen[url] = response.status if response else 0
        if seen[url] < 400:
            queue.extend(u for u in links(page) if u not in seen)
    return seen


# The outermost elements that reach past the viewport's right edge (to name the cause in a failure).
CULPRITS = """() => {
  const w = window.innerWidth, out = [];
  const clipped = el => { for (let a = el.parentElement; a; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect(), p = el.parentElement;
    if (r.right > w + 1 && p.getBoundingClientRect().right <= w + 1 && !clipped(el)) {
      out.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '')
               + (el.id ? '#' + el.id : '') + ' in ' + (p.className || p.tagName) + ' ' + Math.round(r.right));
    }
  }
  return out.slice(0, 6);
}"""


def too_wide(page, urls) -> list[str]:
    """Pages wider than the viewport; with SHOTS=dir set, a full-page screenshot of each page goes there."""
    out = []
    shots = os.environ.get("SHOTS")
    for url in urls:
        page.goto(url)
        if shots:
            name = re.sub(r"\W+", "_", url).strip("_") or "home"
            width = page.viewport_size["width"]
            page.screenshot(path=f"{shots}/{name}-{width}.png", full_page=True)
            page.screenshot(path=f"{shots}/{name}-{width}-top.png")
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width > inner:
            out.append(f"{url}: {width}px > {inner}px ({', '.join(page.evaluate(CULPRITS))})")
    return out


@pytest.mark.parametrize("role", ["facilities", "procurement"])
def test_every_page_answers_and_fits_the_viewport(new_page, role):
    built = build_site(6)
    make_user(role, role)
    page = new_page(DESKTOP)
    log_in(page, role)
    statuses = crawl(page, ["/", f"/sites/{built['site'].pk}/"])
    assert len(statuses) < MAX_PAGES, "the crawl stopped early: raise MAX_PAGES"
    for shape_of in ("/rows/N/?", "/power-sources/N/?", "/cooling-loops/N/?", "/sources/?", "/sites/N/resilience/?"):
        assert shape_of in {shape(u) for u in statuses}, shape_of  # the element pages are reachable
    assert {u for u, s in statuses.items() if s >= 400} == set(), statuses
    assert page.js_errors == []
    fine = [u for u, s in statuses.items() if s < 400]
    problems = too_wide(page, fine)
    phone = new_page(PHONE)
    log_in(phone, role)
    problems += too_wide(phone, fine)
    assert not problems, "\n".join(problems)
    assert phone.js_errors == []
