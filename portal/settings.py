"""Meridian's settings: one module, every value from the environment.

Defaults suit a laptop (SQLite, a file-system Celery broker, the embedded AWS
sandbox). `DJANGO_ENV=production` turns the defaults strict: the variables a
production deployment must set have no default, and a missing one stops the
process at start-up with Django's "Set the X environment variable" error.
Every variable is listed in the README's configuration table.
"""

import importlib.util
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # local state on a laptop: SQLite, the file broker, the cache
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in ("development", "production"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"


def _required_in_production(name, cast=str, default=None):
    """Read `name`; in production it has no default, so a missing value is an error naming it."""
    if PRODUCTION:
        return env.get_value(name, cast=cast)
    return env.get_value(name, cast=cast, default=default)


SECRET_KEY = _required_in_production("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = _required_in_production("ALLOWED_HOSTS", cast=list, default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "portal",
    "portal.aws",
    "catalog",
    "observability",
    "audit",
]
# The embedded AWS, for `make run` and the tests; production talks to real AWS and does not install it.
if not PRODUCTION:
    INSTALLED_APPS.append("sandbox")

MIDDLEWARE = [
    "portal.request_context.RequestContextMiddleware",
    "portal.aws.middleware.AwsCallAccountingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.views.ApiErrorsAsJsonMiddleware",
    # Last, so that it sees the outcome of every authentication attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.navigation.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db_url_config(
        _required_in_production("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'meridian.sqlite3'}")
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a Celery worker started by a test sees the test database.
    _db_file = Path(DATABASES["default"]["NAME"])
    DATABASES["default"]["TEST"] = {"NAME": str(_db_file.with_name(f"test_{_db_file.name}"))}
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        # WAL and a busy timeout let the web server, worker and beat share one file.
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A new PostgreSQL connection per request cost ~3 ms of every API request, about a sixth of reading one entity
# (docs/benchmarks.md, "The cost of one request"); production keeps each worker's connection open, checked
# before reuse so that one the database dropped is replaced instead of failing the request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=300 if PRODUCTION else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------
# Shared by every process on the machine (web, worker, beat): circuit-breaker
# state and cached AWS answers must not live in one process's memory.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache":
    # The same file cache, with add and incr atomic across processes (the API's rate limits count with them).
    CACHES["default"]["BACKEND"] = "portal.cache.FileBasedCache"
if CACHES["default"]["BACKEND"].endswith(("FileBasedCache", "LocMemCache")):
    # Django culls these at 300 entries by default; one dashboard caches a CloudWatch series per service and
    # signal (observability.metrics.series), so 300 would evict a 100-service dashboard's answers before its next view.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", env.int("CACHE_MAX_ENTRIES", default=20000))

# --- Auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "portal.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username/IP before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
CSRF_FAILURE_VIEW = "portal.signin.csrf_failure"  # says what happened, instead of Django's bare 403

# Password guessing: lock a username+IP pair after AXES_FAILURE_LIMIT failures for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("AXES_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # lockouts are still logged as warnings; not every successful sign-in
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)

# Single sign-on through OpenID Connect: on when OIDC_RP_CLIENT_ID is set.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
if OIDC_RP_CLIENT_ID:
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS.append("portal.oidc.MeridianOIDCBackend")
    OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
    OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
    OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
    OIDC_CREATE_USER = env.bool("OIDC_CREATE_USER", default=True)
    OIDC_TEAMS_CLAIM = env.str("OIDC_TEAMS_CLAIM", default="")  # e.g. "groups": team slugs -> viewer memberships
    LOGIN_REDIRECT_URL_FAILURE = "login"

# --- Static files -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"  # `collectstatic` output, served by whitenoise
STATIC_ROOT.mkdir(exist_ok=True)
# Third-party front-end assets come from npm packages installed at setup
# (node_modules/, see package.json); nothing is loaded from a CDN.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/plotly", Path(importlib.util.find_spec("plotly").origin).parent / "package_data"),  # plotly.min.js
]
# Outside production, whitenoise serves the files where the finders find them, whatever DEBUG is, so
# `make run` (DEBUG off) needs no collectstatic; production serves collectstatic's hashed copies.
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.api.permissions.IsAuthenticatedWithScope"],
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.throttling.TokenRateThrottle",
        "portal.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_THROTTLE_TOKEN", default="1000/hour"),
        "user": env.str("API_THROTTLE_USER", default="5000/hour"),
    },
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Meridian API",
    "DESCRIPTION": "The REST API of Meridian, the internal developer portal.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=90)
# Seconds a token's lookup (with its user) is kept in the shared cache; revoking a token forgets it at once.
# 0 reads the database on every request (portal.api.authentication says what else changes within this time).
API_TOKEN_CACHE_SECONDS = env.int("API_TOKEN_CACHE_SECONDS", default=10)

# --- Celery -------------------------------------------------------------------
# The default broker is kombu's file-system transport: no server to install on a
# laptop. It does not redeliver a message whose worker died; production uses
# Redis or SQS (CELERY_BROKER_URL), and the sweeps in portal/schedules.py
# re-dispatch work whose message was lost.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "celery")))
    # The transport does not create its folders.
    for _folder in ("queue", "control"):
        (_queue_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "control_folder": str(_queue_dir / "control"),
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TASK_IGNORE_RESULT = True  # visible task state lives in model rows, not a result backend
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through LOGGING below (JSON with request ids), like the web processes.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- AWS ----------------------------------------------------------------------
# Another endpoint than AWS's own: the embedded sandbox, LocalStack or a VPC endpoint; unset for real AWS.
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="")
AWS_DEFAULT_REGION = env.str("AWS_DEFAULT_REGION", default="eu-west-1")
AWS_CONNECT_TIMEOUT = env.float("AWS_CONNECT_TIMEOUT", default=2.0)
AWS_READ_TIMEOUT = env.float("AWS_READ_TIMEOUT", default=5.0)
AWS_MAX_ATTEMPTS = env.int("AWS_MAX_ATTEMPTS", default=3)
# Calls a page waits on (CloudWatch charts): short, no retry; the page shows its last good data instead.
AWS_PAGE_CONNECT_TIMEOUT = env.float("AWS_PAGE_CONNECT_TIMEOUT", default=1.0)
AWS_PAGE_READ_TIMEOUT = env.float("AWS_PAGE_READ_TIMEOUT", default=2.0)
AWS_PAGE_MAX_ATTEMPTS = env.int("AWS_PAGE_MAX_ATTEMPTS", default=1)
# A page stops starting AWS calls once it has waited this long on AWS in all; the rest shows last good data
# (portal.aws.clients.PageBudget). OBSERVABILITY_PAGE_AWS_BUDGET is its name before 2026-12, still read.
AWS_PAGE_BUDGET = env.float("AWS_PAGE_BUDGET", default=env.float("OBSERVABILITY_PAGE_AWS_BUDGET", default=2.5))
AWS_BREAKER_FAILURES = env.int("AWS_BREAKER_FAILURES", default=5)
AWS_BREAKER_RESET_SECONDS = env.int("AWS_BREAKER_RESET_SECONDS", default=30)
# Accounts to create at start-up: "name:account_id:role_arn:external_id:region1|region2,..."
AWS_ACCOUNTS = env.list("AWS_ACCOUNTS", default=[])

# --- Sandbox ------------------------------------------------------------------
SANDBOX_PORT = env.int("SANDBOX_PORT", default=5055)

# --- Catalog ------------------------------------------------------------------
# Imports of Backstage descriptors (files, uploads, URLs): see catalog/importing/.
CATALOG_IMPORT_MAX_BYTES = env.int("CATALOG_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
# One entity's stored document (JSON), on every write path: it is kept whole in the entity and its audit events.
CATALOG_MAX_ENTITY_BYTES = env.int("CATALOG_MAX_ENTITY_BYTES", default=1024 * 1024)
# Hosts that URL imports may fetch from ("github.example.com", "*.example.com"); empty: none.
CATALOG_IMPORT_ALLOWED_HOSTS = env.list("CATALOG_IMPORT_ALLOWED_HOSTS", default=[])
# Private, loopback, link-local and reserved addresses are refused unless this is on.
CATALOG_IMPORT_ALLOW_PRIVATE = env.bool("CATALOG_IMPORT_ALLOW_PRIVATE", default=False)
CATALOG_IMPORT_TIMEOUT = env.float("CATALOG_IMPORT_TIMEOUT", default=10.0)
# An import that would orphan more than this share of a location's entities is refused (unless forced).
CATALOG_ORPHAN_GUARD = env.float("CATALOG_ORPHAN_GUARD", default=0.5)
# AWS discovery links a discovered Resource to the Component named by this tag (catalog/discovery.py).
CATALOG_DISCOVERY_SERVICE_TAG = env.str("CATALOG_DISCOVERY_SERVICE_TAG", default="service")

# --- Observability ------------------------------------------------------------
# A team or system dashboard charts at most this many services (the first, by name), so it stays bounded.
OBSERVABILITY_DASHBOARD_MAX_SERVICES = env.int("OBSERVABILITY_DASHBOARD_MAX_SERVICES", default=200)
# How long an X-Ray answer (a service graph, a page of traces, a trace) serves views without asking AWS again.
OBSERVABILITY_XRAY_FRESH_SECONDS = env.int("OBSERVABILITY_XRAY_FRESH_SECONDS", default=60)

# --- Sagas (Step Functions) ---------------------------------------------------
# docs/observability.md, "Sagas (Step Functions)". A saga execution still running after this long is stuck
# (a saga may set its own with the annotation meridian.io/saga-stuck-after).
SAGA_STUCK_AFTER_SECONDS = env.int("SAGA_STUCK_AFTER_SECONDS", default=30 * 60)
# The first sync of a saga reads executions started this many days back (AWS keeps 90 days of history).
SAGA_SYNC_LOOKBACK_DAYS = env.int("SAGA_SYNC_LOOKBACK_DAYS", default=7)
# One sync run reads at most this many histories (finished executions first); the next runs read the rest, so
# a first sync of a busy saga never makes one task run for an hour.
SAGA_SYNC_MAX_HISTORIES = env.int("SAGA_SYNC_MAX_HISTORIES", default=200)
# The definition (which states are compensations) is read again after this long.
SAGA_DEFINITION_REFRESH_SECONDS = env.int("SAGA_DEFINITION_REFRESH_SECONDS", default=60 * 60)
# The portal's own pace per account and region, in calls a second, below Step Functions' refill rates
# (ListExecutions 2/s, GetExecutionHistory 20/s, DescribeStateMachine 20/s in the smaller regions).
SAGA_RATE_LIST_EXECUTIONS = env.float("SAGA_RATE_LIST_EXECUTIONS", default=1.0)
SAGA_RATE_GET_EXECUTION_HISTORY = env.float("SAGA_RATE_GET_EXECUTION_HISTORY", default=5.0)
SAGA_RATE_DESCRIBE_STATE_MACHINE = env.float("SAGA_RATE_DESCRIBE_STATE_MACHINE", default=2.0)

# --- Audit --------------------------------------------------------------------
# docs/audit.md. The key that signs the audit log's seals: only here, never in the database. Production must
# set it (a missing one stops start-up naming it); a laptop and the demo sign with a development key.
AUDIT_SEAL_KEY = _required_in_production("AUDIT_SEAL_KEY", default="dev-only-audit-seal-key-do-not-use-in-production")
# Keys that signed older seals, after a rotation: verification still accepts their seals.
AUDIT_SEAL_PREVIOUS_KEYS = env.list("AUDIT_SEAL_PREVIOUS_KEYS", default=[])
# Events one seal covers at most; a backlog is sealed in several seals.
AUDIT_SEAL_MAX_EVENTS = env.int("AUDIT_SEAL_MAX_EVENTS", default=50000)
# An event sealed more than this long after the previous seal, by the time it says it happened, is reported as
# inserted (a backdated row); an unsealed event older than this is reported as a stalled sealer.
AUDIT_SEAL_LATE_LIMIT_SECONDS = env.int("AUDIT_SEAL_LATE_LIMIT_SECONDS", default=60 * 60)
# Days events are kept; older ones are archived to a file in AUDIT_ARCHIVE_DIR, then removed. 0: kept forever.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=0)
AUDIT_ARCHIVE_DIR = Path(env.str("AUDIT_ARCHIVE_DIR", default=str(VAR_DIR / "audit-archive")))

# --- Logging ------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")  # json | text
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "portal.request_context.LogContextFilter"},
        "no_traceback_for_client_errors": {"()": "portal.logging_filters.NoTracebackForClientErrors"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler (DEBUG only) would print each of its records a second time, next to root's.
        "django": {"handlers": [], "level": LOG_LEVEL},
        "django.request": {"filters": ["no_traceback_for_client_errors"]},
        "django.db.backends": {"level": "INFO"},
        "botocore": {"level": "WARNING"},
        "celery": {"level": "INFO"},
    },
}

# --- Production hardening (passes `manage.py check --deploy` with no warnings) --
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    X_FRAME_OPTIONS = "DENY"
