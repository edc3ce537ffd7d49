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
    importlib.import_module("racks.migrations.0008_nodemodel_gpus").set_gpus(apps, None)
    importlib.import_module("racks.migrations.0010_power_kva_heat_output").set_heat_output(apps, None)
    importlib.import_module("racks.migrations.0011_pdu_receptacles_cords").set_cords(apps, None)
    importlib.import_module("racks.migrations.0012_fabric").set_ports(apps, None)
    if not apps.get_model("planner", "ThroughputBasis").objects.filter(kind="mlperf").exists():
        importlib.import_module("planner.migrations.0006_workloads").seed(apps, None)
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


# Transaction control is not a query of the code under test: every request is one transaction
# (ATOMIC_REQUESTS), which inside a test's own transaction shows up as SAVEPOINT / RELEASE SAVEPOINT (in
# production, BEGIN / COMMIT, which Django does not log). Query-count pins count the statements that read or
# write data, so they mean the same with and without a transaction around the request.
_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


class _DataQueries:
    """``CaptureQueriesContext`` that leaves out savepoint statements (same interface for the tests)."""

    def __init__(self, context):
        self._context = context

    @property
    def captured_queries(self):
        return [q for q in self._context.captured_queries if not q["sql"].startswith(_TRANSACTION_CONTROL)]

    def __len__(self):
        return len(self.captured_queries)

    def __getitem__(self, index):
        return self.captured_queries[index]

    def __iter__(self):
        return iter(self.captured_queries)


def _assert_data_queries(config, num, exact=True, connection=None, info=None, *, using=None):
    import contextlib

    from django.db import connection as default_connection
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    conn = connection or (connections[using] if using else default_connection)

    @contextlib.contextmanager
    def counting():
        with CaptureQueriesContext(conn) as context:
            data = _DataQueries(context)
            yield data
        performed = len(data)
        if (num != performed) if exact else (performed > num):
            msg = f"Expected to perform {num} queries {'' if exact else 'or less '}but {performed} were done"
            if info:
                msg += f"\n{info}"
            if config.getoption("verbose") > 0:
                msg += "\n\nQueries:\n========\n\n" + "\n\n".join(q["sql"] for q in data)
            else:
                msg += " (add -v option to show queries)"
            pytest.fail(msg)

    return counting()


@pytest.fixture
def django_assert_num_queries(pytestconfig):
    from functools import partial

    return partial(_assert_data_queries, pytestconfig)


@pytest.fixture
def django_assert_max_num_queries(pytestconfig):
    from functools import partial

    return partial(_assert_data_queries, pytestconfig, exact=False)
