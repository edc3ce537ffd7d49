"""Password guessing is throttled: the browser login (``planner.web_auth``, failed attempts per client address and
username) and the token endpoint (``POST /api/v1/auth/token/``, DRF's scoped throttle ``auth`` per address).
Limits are read from the settings, never hard-coded here."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
PASSWORD = "fac-pass-123"  # tests/conftest.py: f"{username}-pass-123"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Every attempt hashes a password; PBKDF2 would make this file slow without testing anything more."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def login_limit() -> tuple[int, int]:
    return settings.LOGIN_THROTTLE_FAILURES, settings.LOGIN_THROTTLE_WINDOW_S


def token_rate() -> tuple[int, int]:
    """``DEFAULT_THROTTLE_RATES["auth"]`` as (requests, seconds), parsed the way DRF parses it."""
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"]
    count, period = rate.split("/")
    return int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]


def post_login(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail_until_locked(client, username, address="10.0.0.1"):
    allowed, _ = login_limit()
    for attempt in range(allowed):
        response = post_login(client, username, "wrong-password", address)
        assert response.status_code == 200, f"attempt {attempt + 1} of {allowed}: {response.status_code}"
        assert "did not match" in response.content.decode()


# ---------------------------------------------------------------------------------------------- browser login


def test_login_answers_429_after_the_configured_failures(facilities_user):
    allowed, window = login_limit()
    assert allowed >= 1
    client = Client()
    fail_until_locked(client, "fac")
    response = post_login(client, "fac", "wrong-password")
    assert response.status_code == 429
    assert response["Retry-After"] == str(window)
    assert f"Try again in {window} seconds" in response.content.decode()


def test_correct_password_is_refused_while_locked_out(facilities_user):
    client = Client()
    fail_until_locked(client, "fac")
    response = post_login(client, "fac", PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)


def test_lockout_is_per_username_and_address(facilities_user, procurement_user):
    client = Client()
    fail_until_locked(client, "fac", "10.0.0.1")
    assert post_login(client, "fac", PASSWORD, "10.0.0.1").status_code == 429
    # Another user from the same address is not locked out.
    other = Client()
    assert post_login(other, "proc", "proc-pass-123", "10.0.0.1").status_code == 302
    assert logged_in(other)
    # The same user from another address is not locked out either.
    elsewhere = Client()
    assert post_login(elsewhere, "fac", PASSWORD, "10.0.0.2").status_code == 302
    assert logged_in(elsewhere)
    # The username is compared case-insensitively: "FAC" is the same counter, still locked.
    assert post_login(Client(), "FAC", PASSWORD, "10.0.0.1").status_code == 429


def test_a_forwarded_for_header_does_not_escape_the_login_lockout(facilities_user):
    client = Client()
    fail_until_locked(client, "fac")
    response = client.post(
        LOGIN, {"username": "fac", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.7"
    )
    assert response.status_code == 429


def test_failures_below_the_limit_then_success_reset_the_count(facilities_user):
    allowed, _ = login_limit()
    client = Client()
    for _ in range(allowed - 1):
        assert post_login(client, "fac", "wrong-password").status_code == 200
    assert post_login(client, "fac", PASSWORD).status_code == 302
    client.logout()
    # The success cleared the count: a full allowance of failures is available again before 429.
    fail_until_locked(client, "fac")
    assert post_login(client, "fac", "wrong-password").status_code == 429


def test_lockout_ends_with_the_window(facilities_user, monkeypatch, settings):
    """The count expires with the window (the cache timeout): one second before its end the user is still locked
    out, one second after it the right password logs in. (On a local-memory cache, whose clock can be moved.)"""
    import time
    from types import SimpleNamespace

    from django.core.cache.backends import locmem

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    _, window = login_limit()
    client = Client()
    started = time.time()
    fail_until_locked(client, "fac")
    monkeypatch.setattr(locmem, "time", SimpleNamespace(time=lambda: started + window - 1))
    assert post_login(client, "fac", PASSWORD).status_code == 429
    monkeypatch.setattr(locmem, "time", SimpleNamespace(time=lambda: time.time() + window + 1))
    assert post_login(client, "fac", PASSWORD).status_code == 302
    assert logged_in(client)


def test_limit_comes_from_the_settings(facilities_user, settings):
    settings.LOGIN_THROTTLE_FAILURES = 2
    settings.LOGIN_THROTTLE_WINDOW_S = 7
    client = Client()
    assert post_login(client, "fac", "x").status_code == 200
    assert post_login(client, "fac", "x").status_code == 200
    response = post_login(client, "fac", "x")
    assert response.status_code == 429 and response["Retry-After"] == "7"


# ---------------------------------------------------------------------------------------------- token endpoint


def post_token(client, username, password, address="10.0.0.1", **extra):
    return client.post(TOKEN, {"username": username, "password": password}, format="json", REMOTE_ADDR=address, **extra)


def exhaust_token_rate(client, address="10.0.0.1"):
    count, _ = token_rate()
    for attempt in range(count):
        response = post_token(client, "fac", "wrong-password", address)
        assert response.status_code == 400, f"attempt {attempt + 1} of {count}: {response.status_code}"


def test_token_endpoint_answers_429_after_its_scoped_rate(facilities_user):
    _, period = token_rate()
    client = APIClient()
    exhaust_token_rate(client)
    response = post_token(client, "fac", "wrong-password")
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 0 < wait <= period
    assert "throttled" in response.json()["detail"].lower()


def test_token_endpoint_refuses_a_correct_password_while_throttled(facilities_user):
    client = APIClient()
    exhaust_token_rate(client)
    response = post_token(client, "fac", PASSWORD)
    assert response.status_code == 429
    assert "token" not in response.json()


def test_token_endpoint_counts_successes_too_and_per_address(facilities_user):
    count, _ = token_rate()
    client = APIClient()
    for _ in range(count):
        response = post_token(client, "fac", PASSWORD)
        assert response.status_code == 200 and len(response.json()["token"]) == 40
    assert post_token(client, "fac", PASSWORD).status_code == 429
    # Another client address has its own allowance.
    assert post_token(client, "fac", PASSWORD, address="10.0.0.2").status_code == 200


def test_forged_forwarded_for_does_not_escape_the_token_throttle(facilities_user):
    """Without NUM_PROXIES DRF keys throttles on the client's own X-Forwarded-For: a new value per request would
    escape the limit. The settings set NUM_PROXIES (0 by default), so the key is the connection's address."""
    client = APIClient()
    exhaust_token_rate(client)
    for forged in ("192.0.2.1", "192.0.2.2", "198.51.100.9, 10.0.0.1"):
        response = post_token(client, "fac", PASSWORD, HTTP_X_FORWARDED_FOR=forged)
        assert response.status_code == 429, forged


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_token_throttle_holds_across_two_server_processes(facilities_user, tmp_path):
    """Two gunicorn processes on the same database share the counts (the database cache): a burst of wrong
    passwords spread over both gets exactly the configured number of answers before 429, not twice as many."""
    import http.client
    import json
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.db import connection

    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    env.pop("CACHE_URL", None)
    root = Path(__file__).resolve().parents[2]
    gunicorn = Path(sys.executable).with_name("gunicorn")

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [str(gunicorn), "planner.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
            cwd=root,
            env=env,
            stdout=(tmp_path / f"{port}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]

    def post(port: int, password: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            body = json.dumps({"username": "fac", "password": password})
            conn.request("POST", TOKEN, body=body, headers={"Content-Type": "application/json"})
            return conn.getresponse().status
        finally:
            conn.close()

    try:
        for port in ports:  # wait until both answer (bounded)
            for _ in range(120):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    conn.request("GET", "/api/v1/")
                    conn.getresponse().read()
                    conn.close()
                    break
                except OSError:
                    time.sleep(0.5)
            else:
                pytest.fail(f"server on {port} did not start: {(tmp_path / f'{port}.log').read_text()[-2000:]}")
        from django.core.cache import cache

        cache.clear()  # the readiness probes are not token requests, but start from zero anyway
        count, _ = token_rate()
        statuses = [post(ports[i % 2], "wrong-password") for i in range(count + 10)]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    assert set(statuses) <= {400, 429}, statuses
    assert statuses.count(400) == count, statuses  # shared counts: not count per process
    assert statuses[count:] == [429] * 10, statuses
