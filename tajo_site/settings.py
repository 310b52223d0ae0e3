"""Tajo settings: every value comes from the environment (django-environ), read here only."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from connectors.queues import SHORT_QUEUE, SYNC_QUEUE
from tajo_site import demo_env

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# While `./scripts/demo` runs, its var/demo.env points manage.py in any terminal at the demo's
# database and queue; variables set in the environment win.
demo_env.apply()
# A local .env is a convenience for development; production sets real variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable (a long random string); "
            "only DEBUG=true runs with a throwaway development key."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

# Fernet keys (urlsafe base64, 32 bytes), comma-separated: the first encrypts, all decrypt,
# so keys can be rotated without re-encrypting at once.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY", default=[])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY is not set. Generate one with: "
            'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        )
    FIELD_ENCRYPTION_KEYS = ["ZGV2LW9ubHktaW5zZWN1cmUtZmllbGQta2V5LTAwMDA="]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Loopback and private API URLs are refused (server-side request forgery) unless a deployment
# allows them, as the sandbox, the demo and the tests do.
TAJO_ALLOW_PRIVATE_URLS = env.bool("TAJO_ALLOW_PRIVATE_URLS", default=False)
# Tests, benchmarks and CI: every outbound connection must stay on this machine. A client built
# by the factory then refuses, at connect time, any address that is not loopback (a default
# such as https://api.brevo.com/v3 left in a test fails loudly instead of leaving the machine).
TAJO_LOOPBACK_ONLY = env.bool("TAJO_LOOPBACK_ONLY", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Operator classes in index expressions (the per-record log's case-insensitive search index).
    "django.contrib.postgres",
    "django_rq",
    "simple_history",
    "axes",
    # Serves Swagger UI's files from the installed package instead of a public CDN.
    "ninja",
    "tenants",
    "connectors",
    # Webhooks and the HTTP API are apps of their own, nested under connectors because they serve
    # its connections; each has its own label (webhooks, api) and keeps its tables.
    "connectors.webhooks",
    "connectors.api",
    "mappings",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "tajo_site.security.RequestBodyMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during the request into a 429 page.
    "axes.middleware.AxesMiddleware",
]

# Login throttling with django-axes (maintained, stores attempts in the database every web
# process shares, and hooks Django's own login signals, so the admin login needs no changes).
# Failures are counted per user name *and* address: a guesser is stopped, while someone else
# cannot lock an account out from their own machine. The API's token check counts its
# failures through the same machinery, per address (connectors/api/auth.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("TAJO_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("TAJO_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "tajo_site.security.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
AXES_COOLOFF_MESSAGE = "Too many failed sign-ins from here. Try again later."
AXES_VERBOSE = False
# django-axes keeps the query string and form of each failed attempt: never a secret in them.
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "ip_address",
    "token",
    "api_key",
    "apikey",
    "key",
    "secret",
    "access_token",
    "auth",
]

ROOT_URLCONF = "tajo_site.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "tajo_site.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'tajo.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs web and worker processes on one SQLite file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 30, "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Queues: REDIS_URL unset means the demo's own Redis server (`tajo_demo` starts it and, while it
# runs, publishes its address in var/demo.env). Without either, the address below answers nobody:
# starting a run then says so in one line, instead of using whatever Redis happens to be local.
REDIS_URL = env.str("REDIS_URL", default="")
_queue_conn = {"URL": REDIS_URL or "redis://127.0.0.1:6399/0", "DEFAULT_TIMEOUT": 900}
RQ_QUEUES = {
    SYNC_QUEUE: dict(_queue_conn),
    SHORT_QUEUE: {**_queue_conn, "DEFAULT_TIMEOUT": 120},
}
RQ = {"JOB_CLASS": "rq.job.Job"}

# Production hardening; `manage.py check --deploy` stays quiet with production values.
# Trust X-Forwarded-Proto only when told that a proxy sets it: otherwise any caller could
# claim https by sending the header itself.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("TRUST_X_FORWARDED_PROTO", default=False) else None
)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_secrets": {"()": "connectors.providers.http.masking.SecretMaskingFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_secrets"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "rq.worker": {"level": "INFO"},
    },
}

LOGIN_URL = "admin:login"
# Messages are kept in the server-side session, never in the (signed, readable) cookie: the
# one message that carries a new API token must not travel to the browser in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Tajo's own knobs.
TAJO_SYNC_SLICE_RECORDS = env.int("TAJO_SYNC_SLICE_RECORDS", default=10_000)
# Helper processes a contact sync may start to map contacts on another core (0: map in the worker;
# connectors/sync/transform_pool.py, docs/runtime.md).
TAJO_TRANSFORM_PROCESSES = env.int("TAJO_TRANSFORM_PROCESSES", default=1)
# A slice works this long before committing and handing over to the next job.
TAJO_SLICE_SECONDS = env.float("TAJO_SLICE_SECONDS", default=30.0)
# A running run whose heartbeat is older than this lost its worker; the watchdog resumes it.
TAJO_RUN_STALE_SECONDS = env.float("TAJO_RUN_STALE_SECONDS", default=30.0)
TAJO_WATCHDOG_SECONDS = env.int("TAJO_WATCHDOG_SECONDS", default=5)
# A slice's heartbeat period, and how often it commits its progress mid-slice (docs/runtime.md).
TAJO_HEARTBEAT_SECONDS = env.float("TAJO_HEARTBEAT_SECONDS", default=5.0)
TAJO_CHECKPOINT_SECONDS = env.float("TAJO_CHECKPOINT_SECONDS", default=5.0)
# A slice's commits on PostgreSQL do not wait for the WAL flush (docs/runtime.md, "Commits").
TAJO_SYNC_ASYNC_COMMIT = env.bool("TAJO_SYNC_ASYNC_COMMIT", default=True)
# While other jobs wait for a worker, a slice ends after this long (fairness across tenants).
TAJO_SLICE_MIN_SECONDS = env.float("TAJO_SLICE_MIN_SECONDS", default=5.0)
TAJO_API_RATE_LIMIT = env.int("TAJO_API_RATE_LIMIT", default=120)  # requests per token per window
TAJO_API_RATE_WINDOW_SECONDS = env.int("TAJO_API_RATE_WINDOW_SECONDS", default=60)
TAJO_API_MAX_BODY_BYTES = env.int("TAJO_API_MAX_BODY_BYTES", default=256 * 1024)
# Any request body over this is refused (413) by the ASGI entry point before Django reads it.
TAJO_MAX_REQUEST_BYTES = env.int("TAJO_MAX_REQUEST_BYTES", default=10 * 1024 * 1024)
TAJO_WEBHOOK_MAX_BODY = env.int("TAJO_WEBHOOK_MAX_BODY", default=256 * 1024)
TAJO_WEBHOOK_TRUSTED_PROXY_HEADER = env.str("TAJO_WEBHOOK_TRUSTED_PROXY_HEADER", default="")
# Rejected or duplicate deliveries stored per connection per minute; the rest is only counted.
TAJO_WEBHOOK_UNSTORED_PER_MINUTE = env.int("TAJO_WEBHOOK_UNSTORED_PER_MINUTE", default=60)
TAJO_WEBHOOK_RETENTION_DAYS = env.int("TAJO_WEBHOOK_RETENTION_DAYS", default=30)
# Stored webhook events per connection (every status); 0 turns the cap off (docs/webhooks.md).
TAJO_WEBHOOK_STORED_MAX = env.int("TAJO_WEBHOOK_STORED_MAX", default=50_000)
# Public base URL of this deployment, for the webhook intake URLs shown in the admin.
TAJO_PUBLIC_URL = env.str("TAJO_PUBLIC_URL", default="")
