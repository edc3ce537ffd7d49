"""Playwright against Debian's Chromium and pytest-django's live server.

The browser tests skip when /usr/bin/chromium is missing, unless REQUIRE_BROWSER=1 (then they fail: CI must not
skip them silently). Screenshots of every page go to tests/screenshots/ (gitignored).
"""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make there are plain
# synchronous calls, so Django's async-safety check would refuse them for nothing.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
LAPTOP = {"width": 1366, "height": 768}
WIDE = {"width": 2560, "height": 1440}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open pages at a viewport size; every page fails the test on a JavaScript error."""
    contexts = []

    def open_page(viewport=LAPTOP):
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def shot():
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        """Save a full-page screenshot, and check that the page fits its viewport's width (no sideways scroll)."""
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"], f"{name}: page is {width}px wide"
        return path

    return take


def make_user(username: str, role: str) -> User:
    user = User.objects.create_user(username=username, password=f"{username}-pass-123")
    user.groups.add(Group.objects.get(name=role))
    return user


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-pass-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
