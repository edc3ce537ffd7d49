"""While the database cannot be reached: the API answers JSON 503 in its one error shape and the
browser a plain 503 page, both with ``Retry-After`` (issue 12, point 5); never Django's HTML "Server Error (500)".

Two ways to lose the database: a real gunicorn process whose DATABASE_URL points at a closed loopback port, and
in-process with the connection refusing to open, failing in a view or inside the middleware stack.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import Client, override_settings

from tests.integrity.servers import HOST, Server, free_port

RETRY_AFTER = str(settings.DB_UNAVAILABLE_RETRY_AFTER_S)
API_PATHS = ["/api/v1/sites/", "/api/v1/racks/1/headroom/", "/api/v1/placements/check/"]


def _refuse():
    return mock.patch(
        "django.db.backends.base.base.BaseDatabaseWrapper.ensure_connection",
        side_effect=OperationalError('connection to server at "127.0.0.1", port 1 failed: Connection refused'),
    )


def _assert_api_503(status: int, headers, body) -> None:
    assert status == 503, body
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Retry-After"] == RETRY_AFTER
    assert set(body) == {"status", "code", "detail", "errors"} and "database" in body["detail"], body
    assert (body["status"], body["code"]) == (503, "database_unavailable"), body


def _assert_page_503(status: int, headers, text: str) -> None:
    assert status == 503, text[:300]
    assert headers["Content-Type"].startswith("text/html")
    assert headers["Retry-After"] == RETRY_AFTER
    assert "Temporarily unavailable" in text and "Server Error" not in text


@pytest.mark.django_db
@pytest.mark.parametrize("path", API_PATHS)
def test_api_answers_json_503_when_the_connection_cannot_open(api, path):
    with _refuse():
        response = api.post(path, {}, format="json") if "check" in path else api.get(path)
    _assert_api_503(response.status_code, response.headers, response.json())


@pytest.mark.django_db
def test_api_write_answers_json_503_and_the_clean_case_still_writes(api):
    with _refuse():
        response = api.post("/api/v1/sites/", {"name": "Lost", "slug": "lost"}, format="json")
    _assert_api_503(response.status_code, response.headers, response.json())
    # Clean case beside it: with the database back, the same request works.
    assert api.post("/api/v1/sites/", {"name": "Kept", "slug": "kept"}, format="json").status_code == 201


@pytest.mark.django_db
def test_browser_gets_the_plain_503_page(client):
    with _refuse():
        response = client.get("/")
    _assert_page_503(response.status_code, response.headers, response.content.decode())


@pytest.mark.django_db
@override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, "tests.integrity.middleware.LookUpUserMiddleware"])
@pytest.mark.parametrize("path", ["/api/v1/sites/", "/"])
def test_a_failure_inside_the_middleware_stack_answers_503(path):
    client = Client(raise_request_exception=False)  # the test client would re-raise what Django logged
    client.cookies[settings.SESSION_COOKIE_NAME] = "a" * 32  # so the session is looked up in the database
    with _refuse():
        response = client.get(path)
    if path.startswith("/api/"):
        _assert_api_503(response.status_code, response.headers, response.json())
    else:
        _assert_page_503(response.status_code, response.headers, response.content.decode())


@pytest.mark.django_db
def test_other_errors_stay_what_they_are(api):
    """Only database errors become 503: a missing object is still a JSON 404."""
    response = api.get("/api/v1/sites/999999/")
    assert response.status_code == 404 and "Retry-After" not in response.headers


def test_a_real_server_with_its_database_unreachable_answers_503():
    closed = free_port()  # nothing listens here
    server = Server(threads=2, database=f"postgres://postgres@{HOST}:{closed}/planner", ready_statuses=(503,))
    try:
        import http.client
        import json

        def get(path, headers=None):
            conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
            try:
                conn.request("GET", path, headers=headers or {})
                response = conn.getresponse()
                return response.status, response, response.read().decode()
            finally:
                conn.close()

        for path, headers in (
            ("/api/v1/sites/", {"Authorization": "Token " + "0" * 40}),
            ("/api/v1/sites/", {"Cookie": f"{settings.SESSION_COOKIE_NAME}={'a' * 32}"}),
            ("/api/v1/docs/", {}),
        ):
            status, response, text = get(path, headers)
            _assert_api_503(status, response.headers, json.loads(text))
        for path in ("/", "/healthz", "/accounts/login/"):
            status, response, text = get(path, {"Cookie": f"{settings.SESSION_COOKIE_NAME}={'a' * 32}"})
            if path == "/healthz":
                assert status == 503 and response.headers["Retry-After"] == RETRY_AFTER
            else:
                _assert_page_503(status, response.headers, text)
    finally:
        server.stop()
