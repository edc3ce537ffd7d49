"""Production settings: ``manage.py check --deploy`` is clean, a missing SECRET_KEY stops the process, the security
headers and cookie flags are on, and settings.py holds no secret.

The settings are read once per process, so each production case runs in its own Python process with a
production environment (DEBUG=0, a random SECRET_KEY, ALLOWED_HOSTS, a throwaway SQLite DATABASE_URL). The
processes start together, once per module, and each test reads its own result.
"""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "planner" / "settings.py"
HOST = "planner.example.com"

# Run in a production process: a GET of the login page over HTTPS and over HTTP, and a response that sets a
# session (signed-cookie sessions, so no database tables are needed to see the cookie's flags). Only the static
# files storage and the session engine are swapped; every security setting is production's.
HEADERS_SCRIPT = textwrap.dedent(
    """
    import json
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import HttpResponse
    from django.test import Client, RequestFactory, override_settings

    # The manifest storage needs collectstatic's manifest; plain static URLs are enough for the headers.
    plain_static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    storages = {**settings.STORAGES, "staticfiles": plain_static}
    client = Client(HTTP_HOST="planner.example.com")
    with override_settings(STORAGES=storages):
        secure = client.get("/accounts/login/", secure=True)
        plain = client.get("/accounts/login/", secure=False)
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
        request = RequestFactory().get("/", secure=True, HTTP_HOST="planner.example.com")
        middleware = SessionMiddleware(lambda r: HttpResponse())
        middleware.process_request(request)
        request.session["probe"] = 1
        session_response = middleware.process_response(request, HttpResponse())

    def cookie(response, name):
        morsel = response.cookies[name]
        return {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]), "samesite": morsel["samesite"]}

    print(json.dumps({
        "debug": settings.DEBUG,
        "secure_status": secure.status_code,
        "secure_headers": dict(secure.headers),
        "plain_status": plain.status_code,
        "plain_location": plain.get("Location"),
        "csrf_cookie": cookie(secure, settings.CSRF_COOKIE_NAME),
        "session_cookie": cookie(session_response, settings.SESSION_COOKIE_NAME),
    }))
    """
)


def production_env(tmp_dir: Path, **overrides) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE: the browser tests set it in this process; production never has it.
        if k
        not in {
            "DATABASE_URL",
            "SECRET_KEY",
            "DEBUG",
            "ALLOWED_HOSTS",
            "SECURE_HSTS_SECONDS",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update(
        DJANGO_SETTINGS_MODULE="planner.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),  # 86 characters, as check --deploy wants (>= 50, varied)
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=f"sqlite:///{tmp_dir / 'deploy.sqlite3'}",
        CELERY_BROKER_URL="",
        PYTHONDONTWRITEBYTECODE="1",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every production process at once; each test waits for its own."""
    tmp = tmp_path_factory.mktemp("deploy")
    processes = {
        "check": start(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp)),
        "no_secret": start(["manage.py", "check"], production_env(tmp, SECRET_KEY=None)),
        "empty_secret": start(["manage.py", "check"], production_env(tmp, SECRET_KEY="")),
        "headers": start(["-c", HEADERS_SCRIPT], production_env(tmp)),
    }
    results = {}
    for name, process in processes.items():
        try:
            out, err = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        results[name] = (process.returncode, out, err)
    return results


def test_check_deploy_is_clean(runs):
    code, out, err = runs["check"]
    assert code == 0, f"exit {code}\n{out}\n{err}"
    assert "System check identified no issues" in out, out + err
    assert "WARNING" not in err and "?: (security" not in out + err


@pytest.mark.parametrize("case", ["no_secret", "empty_secret"])
def test_production_without_a_secret_key_refuses_to_start(runs, case):
    code, out, err = runs[case]
    assert code != 0, f"started without SECRET_KEY:\n{out}\n{err}"
    assert "ImproperlyConfigured" in err and "SECRET_KEY must be set" in err, err[-2000:]


@pytest.fixture(scope="module")
def production(runs) -> dict:
    code, out, err = runs["headers"]
    assert code == 0, f"exit {code}\n{out}\n{err}"
    return json.loads(out.strip().splitlines()[-1])


def test_production_process_runs_without_debug(production):
    assert production["debug"] is False


def test_security_headers_over_https(production):
    assert production["secure_status"] == 200
    headers = {k.lower(): v for k, v in production["secure_headers"].items()}
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    hsts = headers["strict-transport-security"]
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains; preload", hsts), hsts
    assert int(hsts.split("=")[1].split(";")[0]) >= 31536000


def test_plain_http_is_redirected_to_https(production):
    assert production["plain_status"] == 301
    assert production["plain_location"] == f"https://{HOST}/accounts/login/"


def test_cookies_are_secure(production):
    assert production["csrf_cookie"]["secure"] is True
    assert production["session_cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}


# ----------------------------------------------------------------------------------------------- no secret in code


def _assignments(tree: ast.Module, name: str) -> list[ast.Assign]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ]


def test_settings_hold_no_hard_coded_secret():
    source = SETTINGS.read_text()
    tree = ast.parse(source)
    assignments = _assignments(tree, "SECRET_KEY")
    assert assignments, "settings.py assigns no SECRET_KEY"
    # The first assignment reads the environment.
    first = ast.unparse(assignments[0].value)
    assert first in ('os.environ.get("SECRET_KEY", "")', "os.environ.get('SECRET_KEY', '')"), first
    # Any other assignment is the development fallback, only inside "if not SECRET_KEY:", after the
    # "if not DEBUG: raise ImproperlyConfigured" guard.
    for assignment in assignments[1:]:
        assert ast.unparse(assignment.value) == "_DEV_SECRET"
        guard = next(
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and assignment in node.body and ast.unparse(node.test) == "not SECRET_KEY"
        )
        raising = guard.body[0]
        assert isinstance(raising, ast.If) and ast.unparse(raising.test) == "not DEBUG"
        assert isinstance(raising.body[0], ast.Raise) and "ImproperlyConfigured" in ast.unparse(raising.body[0])
    # The fallback says what it is (check --deploy would flag it, and nobody can mistake it for a real key).
    dev = ast.literal_eval(_assignments(tree, "_DEV_SECRET")[0].value)
    assert "insecure" in dev and "do-not-use-in-production" in dev
    # No other long literal that looks like a key or a password anywhere in the settings.
    for literal in (n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)):
        if literal == dev:
            continue
        # Dotted paths and environment variable names (PLANNER_SITE_SELECTION_FULL_CHECKS) are not keys.
        looks_random = re.fullmatch(r"[A-Za-z0-9_\-+/=!@#$%^&*()]{32,}", literal) and not re.fullmatch(
            r"[a-z_.]+|[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", literal
        )
        assert not looks_random, f"settings.py holds a key-like literal: {literal[:12]}..."
    assert not re.search(r"(PASSWORD|TOKEN|API_KEY)\s*=\s*['\"]", source), "a hard-coded credential in settings.py"


def test_the_development_key_is_never_used_without_debug(runs):
    """Behaviourally the same: a production process without SECRET_KEY stops (above); with one, it is the one."""
    code, out, err = runs["headers"]
    assert code == 0
    assert "dev-only-insecure-key" not in out + err
