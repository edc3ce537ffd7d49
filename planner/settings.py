"""Settings, read from the environment.

Defaults give a working single-machine planner: SQLite next to the code and Celery tasks run in-process.
Production sets DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis), SECRET_KEY, DEBUG=0 and ALLOWED_HOSTS.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

_DEV_SECRET = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # A production process must never run with a key that is published in this file.
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
    SECRET_KEY = _DEV_SECRET

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "django_tables2",
    "import_export",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "racks",
    "cooling",
    "planner",
]

MIDDLEWARE = [
    # First, so a database outage anywhere below (sessions, auth, views) answers 503, not 500.
    "planner.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "planner.api.middleware.ApiTrailingSlashMiddleware",  # before CommonMiddleware: no APPEND_SLASH redirect
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "planner.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "planner.web.access.thresholds",
            ],
        },
    },
]

WSGI_APPLICATION = "planner.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# Every request is one transaction, so a write and its budget-token renewal commit together
# (planner/budget_tokens.py explains why the budget cache depends on it).
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# While the database cannot be reached: 503 with this Retry-After (planner/middleware.py).
DB_UNAVAILABLE_RETRY_AFTER_S = int(os.environ.get("DB_UNAVAILABLE_RETRY_AFTER_S", "30"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; a busy timeout keeps the in-process demo from failing on a lock.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Production hardening; `manage.py check --deploy` is clean when DEBUG is off.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["planner.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "planner.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Strict first: an unknown query parameter answers 400 naming it (planner/api/filtering.py).
    "DEFAULT_FILTER_BACKENDS": [
        "planner.api.filtering.StrictQueryParameters",
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "SEARCH_PARAM": "q",
    # Documents every error status of every operation in the one error shape (planner/api/exceptions.py).
    "DEFAULT_SCHEMA_CLASS": "planner.api.schema.PlannerAutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "planner.api.renderers.RoundingJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_RATES": {"auth": os.environ.get("AUTH_THROTTLE_RATE", "20/min")},
    # Throttles count per REMOTE_ADDR. Unset, DRF would key them on the client-supplied X-Forwarded-For, so a
    # new made-up header per request would escape every limit; behind N trusted reverse proxies set NUM_PROXIES=N.
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
    # 413 for oversized bodies, 400 for deeply nested JSON and out-of-range numbers (never a 500).
    # JSON bodies only: one media type per operation in the schema, so generated clients work (the pages'
    # forms are Django views, not DRF). A form or multipart body answers 415.
    "DEFAULT_PARSER_CLASSES": ["planner.api.parsers.SafeJSONParser"],
    "EXCEPTION_HANDLER": "planner.api.exceptions.exception_handler",
}

# The cache holds the throttle and login-lockout counters, so every worker process must share it: Redis when
# CACHE_URL is set (a Redis db of its own: cache.clear() must never flush the Celery broker's queues), else the
# database (table planner_cache, created by the planner migrations). A per-process cache let 40 of 45 wrong
# passwords through a 20/min limit across workers.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "planner",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "planner_cache"}}
# Import progress on SQLite (planner/import_jobs.py): this process's memory, never the database, whose single
# writer lock the running import holds (a database cache would write its progress into the import's own,
# uncommitted transaction). SQLite runs tasks in-process, so the process that imports is the one that answers.
CACHES["progress"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "planner-progress"}

SPECTACULAR_SETTINGS = {
    "TITLE": "AI datacenter capacity planner API",
    "DESCRIPTION": (
        "Model sites, rooms, rows, racks, PDUs, power sources and cooling loops, and ask whether "
        "DGX-class systems fit: power, redundancy, floor load, air and liquid cooling."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs pages map every endpoint and field: like the API, they need a planner role
    # (drf-spectacular's default, AllowAny, served them to anyone).
    "SERVE_PERMISSIONS": ["planner.api.permissions.RolePermission"],
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set shared by several fields (what-if: a rack's status and was; the failure kinds).
    "ENUM_NAME_OVERRIDES": {
        "CheckStatusEnum": ["ok", "warn", "fail"],
        "FailureKindEnum": ["power_source", "pdu", "side", "cooling_loop", "cooling_unit"],
        # a PDU's side and phases, also in the row-of-racks template (planner/api/racks_bulk.py)
        "SideEnum": "racks.models.Pdu.Side",
        "PhasesEnum": "racks.models.Pdu.Phases",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "planner.api.brief.close_brief_components",
    ],
    # Swagger UI and Redoc come from the sidecar package's static files, never a CDN (air-gapped sites).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery. Without a broker the tasks run in the calling process, so the demo needs no Redis.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
# Acknowledged once done, and put back on the queue when the process running it dies (OOM kill, SIGKILL):
# every task is idempotent, so running one twice is harmless and losing one is not.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "900"))
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "840"))
# One site's nightly report (planner.tasks.site_capacity_report): hard limit, soft limit a minute earlier.
REPORT_TIME_LIMIT_S = int(os.environ.get("REPORT_TIME_LIMIT_S", "600"))
# Longest countdown between two retries of a failed report (exponential backoff with jitter, 5 retries).
REPORT_RETRY_BACKOFF_MAX_S = 300
# How long the nightly fan-out keeps retrying while the broker is unreachable before it gives up.
NIGHTLY_FANOUT_RETRY_SECONDS = int(os.environ.get("NIGHTLY_FANOUT_RETRY_SECONDS", "600"))
NIGHTLY_FANOUT_TIME_LIMIT_S = NIGHTLY_FANOUT_RETRY_SECONDS + 180
# Redis redelivers a message nobody acknowledged within the visibility timeout: the only way the report
# of a worker killed as a whole (node lost, container OOM-killed) comes back. Kombu's default is one hour;
# here it is the longest time a message may legitimately stay unacknowledged (a task's hard time limit, or
# a report's retry countdown plus its time limit: a retried task waits for its ETA in the worker,
# unacknowledged) plus five minutes. Shorter would run healthy long tasks twice.
CELERY_VISIBILITY_TIMEOUT = int(
    os.environ.get(
        "CELERY_VISIBILITY_TIMEOUT",
        str(
            max(CELERY_TASK_TIME_LIMIT, REPORT_TIME_LIMIT_S + REPORT_RETRY_BACKOFF_MAX_S, NIGHTLY_FANOUT_TIME_LIMIT_S)
            + 300
        ),
    )
)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # Every worker sweeps for expired messages every tenth of the timeout (at most 10 s, kombu's default
    # interval; kombu would otherwise scan only every tenth sweep, 100 s).
    "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
    # A broker that stops answering without closing the socket (failover, firewall, hung host) must fail a
    # publish in seconds: with kombu's default (no timeout) the publish waits for good.
    "socket_connect_timeout": 5,
    "socket_timeout": 5,
}
# A broker outage does not cancel running reports (they need PostgreSQL only), nor the fan-out riding it out.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TIMEZONE = TIME_ZONE
NIGHTLY_REPORT_HOUR = int(os.environ.get("NIGHTLY_REPORT_HOUR", "2"))
NIGHTLY_REPORT_MINUTE = int(os.environ.get("NIGHTLY_REPORT_MINUTE", "15"))
CELERY_BEAT_SCHEDULE = {
    "nightly-capacity-reports": {
        "task": "planner.tasks.nightly_capacity_reports",
        "schedule": crontab(hour=NIGHTLY_REPORT_HOUR, minute=NIGHTLY_REPORT_MINUTE),
    },
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
REPORT_EMAIL_RECIPIENTS = env_list("REPORT_EMAIL_RECIPIENTS", "")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "planner@localhost")

# Retrofit advisor overrides (keys of planner.engine.costs.RetrofitConfig); JSON in the environment.
RETROFIT_CONFIG = {}
if os.environ.get("RETROFIT_CONFIG_JSON"):
    import json

    RETROFIT_CONFIG = json.loads(os.environ["RETROFIT_CONFIG_JSON"])

# Browser login: failed attempts per client address and username before 429 (planner/web_auth.py).
# Sites whose budget totals each process keeps (selectors.site_budgets): ~1.6 MB per 4,000-rack site.
PLANNER_BUDGET_CACHE_SITES = int(os.environ.get("PLANNER_BUDGET_CACHE_SITES", "64"))

# NetBox import (planner/netbox): seconds per NetBox request, and device-type slug -> our node-model slug
# ("nvidia-dgx-a100-640gb=dgx-a100,..."), added to the built-in map.
NETBOX_TIMEOUT_S = float(os.environ.get("NETBOX_TIMEOUT_S", "30"))
# NetBox base URLs the API may read (POST /api/v1/netbox/dry-run/); empty = the API reads none.
NETBOX_URLS = env_list("NETBOX_URLS", "")
NETBOX_MODEL_MAP = dict(item.split("=", 1) for item in env_list("NETBOX_MODEL_MAP", "") if "=" in item)
# Fabric (planner.engine.fabric / geometry): slack added to every rack-to-rack cable route, m (the reference
# gives no figure: a documented default, unsourced), and the reach of AOC, m (not found in the reference:
# unset = AOC is never proposed).
PLANNER_FABRIC_CABLE_SLACK_M = float(os.environ.get("PLANNER_FABRIC_CABLE_SLACK_M", "2.0"))
PLANNER_FABRIC_AOC_REACH_M = (
    float(os.environ["PLANNER_FABRIC_AOC_REACH_M"]) if os.environ.get("PLANNER_FABRIC_AOC_REACH_M") else None
)
# "Near a limit" (dashboard, floor plan, nightly report): load at or above this share of capacity.
PLANNER_NEAR_LIMIT_SHARE = float(os.environ.get("PLANNER_NEAR_LIMIT_SHARE", "0.8"))
# POWER_PHASE warns when a 3-phase PDU's phase currents deviate from their mean by more than this share of the
# mean (max |I - mean| / mean). The reference gives no figure: a configuration default, unsourced.
PLANNER_PHASE_IMBALANCE_SHARE = float(os.environ.get("PLANNER_PHASE_IMBALANCE_SHARE", "0.2"))

# AI-factory layer (issue 17). Fibre route factor (fibre path / great-circle): reference §13.3 has no primary
# source, "1.3 +/- 0.1 only as a configurable assumption" (T [S132]).
PLANNER_ROUTE_FACTOR = float(os.environ.get("PLANNER_ROUTE_FACTOR", "1.3"))
# Years over which hardware and retrofit capex is spread in the cost per million tokens (planner choice: the TCO's
# default horizon, 5 years; unsourced).
PLANNER_AMORTIZATION_YEARS = float(os.environ.get("PLANNER_AMORTIZATION_YEARS", "5"))
# Days from order to delivered hardware; no sourced figure (reference §16.1 has none for GPU systems): unset =
# days_to_deploy is null ("not checked: unsourced") unless the request gives hardware_lead_time_days.
_lead = os.environ.get("PLANNER_HARDWARE_LEAD_TIME_DAYS", "")
PLANNER_HARDWARE_LEAD_TIME_DAYS = float(_lead) if _lead else None
# Site selection runs full feasibility on at most this many sites that pass the cheap pre-filters (residency,
# latency, a max-fit upper bound from cached headroom), best bound first; the rest are ranked on the bound.
PLANNER_SITE_SELECTION_FULL_CHECKS = int(os.environ.get("PLANNER_SITE_SELECTION_FULL_CHECKS", "3"))

LOGIN_THROTTLE_FAILURES = int(os.environ.get("LOGIN_THROTTLE_FAILURES", "5"))
LOGIN_THROTTLE_WINDOW_S = int(os.environ.get("LOGIN_THROTTLE_WINDOW_S", "60"))

# Largest site export document an import accepts (API and browser), in bytes.
SITE_IMPORT_MAX_BYTES = int(os.environ.get("SITE_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))

DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2 * 1024 * 1024)))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
