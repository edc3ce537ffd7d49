import pytest
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def _user(username: str, role: str | None, **extra) -> User:
    user = User.objects.create_user(username=username, password=f"{username}-pass-123", **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def facilities_user(db):
    return _user("fac", "facilities")


@pytest.fixture
def procurement_user(db):
    return _user("proc", "procurement")


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("root", "root@example.com", "root-pass-123")


def _token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api(facilities_user):
    """An API client with a facilities (read-write) token."""
    return _token_client(facilities_user)


@pytest.fixture
def proc_api(procurement_user):
    """An API client with a procurement (read-only, may ask questions) token."""
    return _token_client(procurement_user)


@pytest.fixture
def anon_api():
    return APIClient()


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return [
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or db.get('NAME')}",
        f"celery broker: {settings.CELERY_BROKER_URL}",
    ]


@pytest.fixture(autouse=True, scope="session")
def _celery_in_process():
    """Tasks queued by the code under test run in-process; the worker test starts a real worker itself."""
    from planner.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = previous


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests skip on SQLite, except in CI where a skipped one would hide a broken setup."""
    import os

    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI must run the tests on PostgreSQL: set DATABASE_URL.")
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def ensure_reference_data() -> None:
    """Reload what migrations ship (catalogue, role groups): a transactional test's flush deletes it."""
    import importlib

    from django.apps import apps

    importlib.import_module("racks.migrations.0002_catalogue").load_catalogue(apps, None)
    importlib.import_module("racks.migrations.0003_roles").create_roles(apps, None)


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    transactional = (
        "live_server" in request.fixturenames
        or "transactional_db" in request.fixturenames
        or (marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        ensure_reference_data()
