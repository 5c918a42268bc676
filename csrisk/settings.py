"""Settings for csrisk, read from the environment in this one place.

With no environment at all you get the embedded default: SQLite in the project folder,
background work run in-process (Celery eager). DEBUG is off unless DEBUG=1 (`make demo`
and `make test` set it); with DEBUG off a real SECRET_KEY is required. Set DATABASE_URL
and REDIS_URL for PostgreSQL and real Celery workers. See docs/operations.md,
"Environment reference".
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")

# DEBUG is off unless asked for: `make demo`, `make run` and `make test` ask for it.
DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-not-secret-csrisk-local-development-key-0123456789"
# Keys anyone can read (this file, .env.example) or guess; refused with DEBUG off.
_PLACEHOLDER_SECRET_KEYS = {
    _DEV_SECRET_KEY,
    "change-me-to-a-long-random-string",
    "changeme",
    "change-me",
    "secret",
    "secret-key",
    "secretkey",
}
_HOW_TO_SECRET = (
    "Set SECRET_KEY to a long random string "
    "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
    "or set DEBUG=1 for local development and tests."
)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not DEBUG and not SECRET_KEY:
    raise ImproperlyConfigured(f"SECRET_KEY is required when DEBUG is off. {_HOW_TO_SECRET}")
# Django's own deployment check (security.W009) asks for 50 characters, 5 distinct.
if not DEBUG and (
    SECRET_KEY.lower() in _PLACEHOLDER_SECRET_KEYS
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "SECRET_KEY is a placeholder or too weak (under 50 characters, or fewer than 5 "
        f"distinct ones) and DEBUG is off. {_HOW_TO_SECRET}"
    )
SECRET_KEY = SECRET_KEY or _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

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
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csrisk",
    "accounts",
    "scorecards",
    "ctas",
    "escalation",
    "sponsors",
    "signals",
    "insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside everything that may query (sessions, auth, the login check, views): a
    # database that is down or restarting gets 503 + Retry-After, never a 500.
    "csrisk.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csrisk.middleware.LoginRequiredForPagesMiddleware",
]

ROOT_URLCONF = "csrisk.urls"
WSGI_APPLICATION = "csrisk.wsgi.application"
AUTH_USER_MODEL = "csrisk.User"

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
                "csrisk.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Behind PgBouncer in transaction pooling a named cursor (QuerySet.iterator()) would
    # outlive the transaction its server connection was lent for (docs/scaling.md).
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DATABASE_TRANSACTION_POOLING", default=False
    )
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        # A SQLite file named by URL gets the same locking as the embedded default below.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
            # The demo server answers requests on threads while background work runs
            # in-process: take the write lock up front and wait for it instead of
            # failing with "database is locked".
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# While the database is unreachable requests get 503 with this Retry-After (and /readyz).
CSRISK_RETRY_AFTER_SECONDS = env.int("CSRISK_RETRY_AFTER_SECONDS", default=5)
# How often open pages poll their live fragments (the bell, counters, queues), in seconds.
CSRISK_LIVE_POLL_SECONDS = env.int("CSRISK_LIVE_POLL_SECONDS", default=20)

# --- Cache ------------------------------------------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "csrisk",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background work (Celery) -----------------------------------------------------------
# Without REDIS_URL tasks run in-process, right where they are queued (after commit).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    # Fail fast when Redis is down: the API stores signals first and the sweeper
    # processes them later, so a publish must never hang a request.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_TASK_DEFAULT_QUEUE = "default"
# Each queue scales on its own workers (docs/operations.md, "Workers, queues and beat").
CELERY_TASK_ROUTES = {
    "signals.tasks.*": {"queue": "ingest"},
    "accounts.tasks.run_import_task": {"queue": "ingest"},
    "accounts.tasks.check_import_task": {"queue": "ingest"},
    "scorecards.tasks.*": {"queue": "recompute"},
    "csrisk.tasks.*": {"queue": "notify"},
}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "recompute-pending": {"task": "scorecards.tasks.recompute_pending_task", "schedule": 60.0},
    "expire-overrides": {"task": "scorecards.tasks.expire_overrides_task", "schedule": 60.0},
    "notification-digests": {
        "task": "csrisk.tasks.send_digests_task",
        "schedule": crontab(hour=7, minute=0),
    },
    "cta-overdue-and-snoozed": {
        "task": "ctas.tasks.daily_cta_sweep_task",
        "schedule": crontab(hour=6, minute=30),
    },
    # Escalation deadlines: reminders, automatic moves up, suggestions, the sweeper.
    "escalation-sweep": {"task": "escalation.tasks.escalation_sweep_task", "schedule": 300.0},
    # The VP's "suggested for level 2" lane over every live account (colour changes refresh
    # an account at once; this catches renewals coming closer and departures ageing out).
    "escalation-lane": {"task": "escalation.tasks.level_two_lane_task", "schedule": 1800.0},
    # Sponsor program: due check-ins, overdue ones chased, eligible accounts get a task.
    "sponsor-program": {"task": "sponsors.tasks.sponsor_program_task", "schedule": 3600.0},
    "signals-sweep": {"task": "signals.tasks.sweep_signals_task", "schedule": 30.0},
    # Outbound webhooks that are due: retries after their backoff, lost messages.
    "webhooks-sweep": {"task": "csrisk.tasks.sweep_webhooks_task", "schedule": 60.0},
    # An import job whose task was lost is resent, or failed with the reason after a day.
    "import-jobs-sweep": {"task": "accounts.tasks.sweep_import_jobs_task", "schedule": 300.0},
    # A backtest run left queued by a lost message, or stuck running, is resent or failed.
    "backtest-runs-sweep": {"task": "insights.tasks.sweep_backtest_runs_task", "schedule": 300.0},
    # Monday 06:00 UTC, after the nightly recompute: the executive summary to leadership.
    "executive-summary-weekly": {
        "task": "insights.tasks.weekly_summary_task",
        "schedule": crontab(day_of_week=1, hour=6, minute=0),
    },
    "recompute-all-nightly": {
        "task": "scorecards.tasks.recompute_all_task",
        "schedule": crontab(hour=2, minute=30),
    },
    # A chunk of the nightly recompute that a lost message left undone is resent.
    "recompute-chunks-sweep": {
        "task": "scorecards.tasks.requeue_recompute_chunks_task",
        "schedule": 300.0,
    },
    # Sunday 04:00 UTC: the renewal-risk model learns from the week's new outcomes, then
    # scores every live account (docs/risk.md).
    "train-risk-weekly": {
        "task": "insights.tasks.train_risk_task",
        "schedule": crontab(day_of_week=0, hour=4, minute=0),
    },
}

# --- Auth -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
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
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(BASE_DIR / "media"))

# --- Uploads and request size -----------------------------------------------------------
# A JSON batch of 5,000 signals is a few MB; files stream to disk past 2.5 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=20 * 1024 * 1024)
CSRISK_IMPORT_MAX_BYTES = env.int("CSRISK_IMPORT_MAX_BYTES", default=25 * 1024 * 1024)
# An account import of more rows is checked in the background (a task) after the upload.
CSRISK_IMPORT_INLINE_ROWS = env.int("CSRISK_IMPORT_INLINE_ROWS", default=2000)

# --- Signal backtest (docs/features.md, "Backtest") --------------------------------------
# A signal must flag this many past renewals before the reading may name it a leader.
CSRISK_BACKTEST_MIN_FLAGGED = env.int("CSRISK_BACKTEST_MIN_FLAGGED", default=10)
# A probability signal (the renewal-risk model) flags a renewal at this probability or above.
CSRISK_BACKTEST_PROBABILITY_FLAG = env.float("CSRISK_BACKTEST_PROBABILITY_FLAG", default=0.2)
# Without a broker the run goes to a thread of the web process, so no page waits for it.
CSRISK_BACKTEST_THREAD = env.bool("CSRISK_BACKTEST_THREAD", default=True)

# --- Scorecards ----------------------------------------------------------------------------
# A recompute of at least this many accounts on PostgreSQL reads its facts on several
# connections at once (scorecards.selectors.concurrent_reads_wanted); 0 turns it off.
SCORECARD_CONCURRENT_READS_MIN = env.int("SCORECARD_CONCURRENT_READS_MIN", default=1000)
# Accounts per task of a full recompute (scorecards.services.runs): the run is a group of
# tasks of at most this many accounts, shared by every worker on the recompute queue.
SCORECARD_RECOMPUTE_CHUNK = env.int("SCORECARD_RECOMPUTE_CHUNK", default=5000)

# --- Signal ingestion -------------------------------------------------------------------
# Per-token rate of ingestion requests (a batch of up to 5,000 signals is one request).
# --- Renewal risk (docs/risk.md) ---------------------------------------------------------
# Fewer churned renewals on record than this: the documented prior, not a learned model.
CSRISK_RISK_MIN_CHURNS = env.int("CSRISK_RISK_MIN_CHURNS", default=30)
# The churn rate the prior assumes when the book has too few renewals to measure its own.
CSRISK_RISK_DEFAULT_BASE_RATE = env.float("CSRISK_RISK_DEFAULT_BASE_RATE", default=0.10)
# The model reads each past renewal this many days before it (as the backtest does).
CSRISK_RISK_HORIZON_DAYS = env.int("CSRISK_RISK_HORIZON_DAYS", default=90)
# Bands: medium from this probability on, high from the next.
CSRISK_RISK_BAND_MEDIUM = env.float("CSRISK_RISK_BAND_MEDIUM", default=0.10)
CSRISK_RISK_BAND_HIGH = env.float("CSRISK_RISK_BAND_HIGH", default=0.20)

CSRISK_SIGNALS_RATE = env.str("CSRISK_SIGNALS_RATE", default="600/minute")
CSRISK_SIGNALS_MAX_BODY_BYTES = env.int("CSRISK_SIGNALS_MAX_BODY_BYTES", default=10 * 1024 * 1024)
# Webhook secrets: when set, the webhook is authenticated by its signature (no token).
ZENDESK_WEBHOOK_SECRET = env.str("ZENDESK_WEBHOOK_SECRET", default="")
JIRA_WEBHOOK_SECRET = env.str("JIRA_WEBHOOK_SECRET", default="")
# The CRM webhook has no native signature: whatever forwards the CRM's events signs them
# as Zendesk does (X-CRM-Signature, X-CRM-Signature-Timestamp) when this is set.
CRM_WEBHOOK_SECRET = env.str("CRM_WEBHOOK_SECRET", default="")
# The Jira custom field holding the customer's CRM or help-desk id (e.g. customfield_10050);
# without it (or when empty) an issue maps through its project key, matched once in the UI.
JIRA_ACCOUNT_FIELD = env.str("JIRA_ACCOUNT_FIELD", default="")
# HubSpot signs its webhooks (X-HubSpot-Signature-v3) with the app's client secret. The
# signature covers the full URI HubSpot called; set HUBSPOT_WEBHOOK_URL to it when a proxy
# changes the scheme or host csrisk sees (else the request's own absolute URI is used).
HUBSPOT_CLIENT_SECRET = env.str("HUBSPOT_CLIENT_SECRET", default="")
HUBSPOT_WEBHOOK_URL = env.str("HUBSPOT_WEBHOOK_URL", default="")
# Segment's webhook destination signs with the shared secret (X-Signature, HMAC-SHA1).
SEGMENT_WEBHOOK_SECRET = env.str("SEGMENT_WEBHOOK_SECRET", default="")
# Track events counted per feature in the daily usage rollup (comma-separated names).
CSRISK_USAGE_KEY_FEATURES = env.list("CSRISK_USAGE_KEY_FEATURES", default=[])
# How long message ids are remembered for de-duplication; older calls are refused.
CSRISK_USAGE_DEDUPE_DAYS = env.int("CSRISK_USAGE_DEDUPE_DAYS", default=7)
CSRISK_WEBHOOK_TOLERANCE_SECONDS = env.int("CSRISK_WEBHOOK_TOLERANCE_SECONDS", default=300)
# How long a person's API token lives (days; 0: no expiry). Integration tokens never
# expire unless `manage.py api_token … --expires-days N` says so (docs/security.md).
CSRISK_API_TOKEN_TTL_DAYS = env.int("CSRISK_API_TOKEN_TTL_DAYS", default=90)

# --- E-mail and chat --------------------------------------------------------------------
vars().update(
    env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="csrisk <csrisk@localhost>")
CHAT_WEBHOOK_URL = env.str("CHAT_WEBHOOK_URL", default="")
# The shape of chat posts: "slack" (Slack-compatible) or "teams" (a Microsoft Teams
# Workflows webhook: an Adaptive Card). A team's own format wins for its own webhook.
CHAT_WEBHOOK_FORMAT = env.str("CHAT_WEBHOOK_FORMAT", default="slack")
if CHAT_WEBHOOK_FORMAT not in ("slack", "teams"):
    raise ImproperlyConfigured("CHAT_WEBHOOK_FORMAT must be 'slack' or 'teams'.")

# --- Outbound webhooks and calendar feeds (docs/integrations.md) --------------------------
# Post to private, loopback, link-local or reserved addresses too: development and tests
# only (a receiver on localhost); in production it lets anyone who can add a subscription
# reach the internal network.
CSRISK_WEBHOOKS_ALLOW_PRIVATE = env.bool("CSRISK_WEBHOOKS_ALLOW_PRIVATE", default=False)
# Seconds to connect and for each read of a receiver's answer.
CSRISK_WEBHOOKS_TIMEOUT_SECONDS = env.float("CSRISK_WEBHOOKS_TIMEOUT_SECONDS", default=5.0)
# Attempts per delivery, and the first retry's wait (doubling each time, at most 6 hours).
CSRISK_WEBHOOKS_MAX_ATTEMPTS = env.int("CSRISK_WEBHOOKS_MAX_ATTEMPTS", default=8)
CSRISK_WEBHOOKS_BACKOFF_SECONDS = env.int("CSRISK_WEBHOOKS_BACKOFF_SECONDS", default=30)
# What a calendar feed holds: dated items from this many days back to this many ahead.
CSRISK_CALENDAR_PAST_DAYS = env.int("CSRISK_CALENDAR_PAST_DAYS", default=30)
CSRISK_CALENDAR_FUTURE_DAYS = env.int("CSRISK_CALENDAR_FUTURE_DAYS", default=365)
CSRISK_BASE_URL = env.str("CSRISK_BASE_URL", default="http://127.0.0.1:8000")

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated client then gets 401 with WWW-Authenticate.
        "csrisk.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["csrisk.permissions.IsStaffMember"],
    "DEFAULT_PAGINATION_CLASS": "csrisk.api.pagination.PageNumberPagination",
    # The API speaks JSON (CONTRACT.md); a form-encoded body is a 415, not a guess at what
    # an empty field meant. The signal endpoints read their raw bodies themselves (with the
    # same parse_json). Too deep or an over-long number is a 400 with a reason, not a 500.
    "DEFAULT_PARSER_CLASSES": ["csrisk.api.parsers.JSONParser"],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "csrisk.api.filters.StrictFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "csrisk.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "csrisk API",
    "DESCRIPTION": (
        "Customer-success risk: accounts with scorecards, CTAs, signals. "
        "Authenticate with `Authorization: Token <key>` (manage.py api_token USERNAME)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "csrisk.api.schema.add_generic_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ColorEnum": "scorecards.choices.Color",
        "CtaTypeEnum": "ctas.choices.CtaType",
    },
}

# --- Security (production) --------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers, container health checks and the Prometheus scraper (inside the
    # deployment's network) speak plain HTTP to these.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logs, errors and metrics (docs/operations.md, "Logs, errors and metrics") -----------
from csrisk import logs as _logs  # noqa: E402

# "json" (one JSON object a line) or "text" (readable); JSON unless DEBUG is on.
CSRISK_LOG_FORMAT = env.str("CSRISK_LOG_FORMAT", default=_logs.TEXT if DEBUG else _logs.JSON)
if CSRISK_LOG_FORMAT not in _logs.FORMATS:
    raise ImproperlyConfigured("CSRISK_LOG_FORMAT must be 'json' or 'text'.")
LOGGING = _logs.logging_config(CSRISK_LOG_FORMAT, env.str("LOG_LEVEL", default="INFO"))
_logs.configure(CSRISK_LOG_FORMAT)
# Outermost: every line of a request, even the SSL redirect's, carries its request id.
MIDDLEWARE.insert(0, "csrisk.middleware.RequestLogMiddleware")

# Prometheus at /metrics: this bearer token (a long random string), or a staff user.
# Empty: staff only. The counts of many processes add up through the folder named by
# PROMETHEUS_MULTIPROC_DIR, which prometheus_client (csrisk.metrics) reads itself.
CSRISK_METRICS_TOKEN = env.str("CSRISK_METRICS_TOKEN", default="")

# Error reports to Sentry: off (and sentry-sdk not imported) unless SENTRY_DSN is set.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from csrisk import sentry as _sentry

    _sentry.init(
        SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )

# --- Login lockout, failed-token throttle and Content-Security-Policy (issue 19) --------
# Kept together, after everything else, so parallel edits to the sections above merge
# cleanly. docs/security.md, "Login, lockout and CSP", explains each setting.
from datetime import timedelta  # noqa: E402

from csp.constants import NONE, SELF  # noqa: E402

INSTALLED_APPS += ["axes", "csp"]
# Outermost but for SecurityMiddleware: the 503 of DatabaseUnavailableMiddleware and the
# lockout page get the policy too.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
# Last, as django-axes requires: it turns a locked-out login into the lockout page.
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
# AxesStandaloneBackend refuses a locked-out username or address before ModelBackend
# checks the password. It needs the request: tests use force_login, or pass
# request=HttpRequest() to client.login.
# Then the password gate (CSRISK_PASSWORD_LOGIN) and, last, single sign-on, which answers
# only its own callback (csrisk.sso, docs/sso.md).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "csrisk.sso.PasswordLoginGate",
    "django.contrib.auth.backends.ModelBackend",
    "csrisk.sso.SsoBackend",
]
# Proxies in front of the app that append to X-Forwarded-For (csrisk.security.client_ip);
# without it every client behind a load balancer would share the proxy's address.
CSRISK_TRUSTED_PROXIES = env.int(
    "CSRISK_TRUSTED_PROXIES", default=1 if env.bool("BEHIND_TLS_PROXY", default=False) else 0
)
CSRISK_LOGIN_FAILURE_LIMIT = env.int("CSRISK_LOGIN_FAILURE_LIMIT", default=5)
CSRISK_LOGIN_COOLOFF_MINUTES = env.int("CSRISK_LOGIN_COOLOFF_MINUTES", default=15)
AXES_FAILURE_LIMIT = CSRISK_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=CSRISK_LOGIN_COOLOFF_MINUTES)
# Each on its own: a username guessed from many addresses, or an address guessing many
# usernames, is locked out.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "csrisk.security.client_ip"
AXES_LOCKOUT_CALLABLE = "csrisk.security.locked_out"
# A success does not wipe the count: with both parameters it would also wipe the count of
# every other username tried from that address.
AXES_RESET_ON_SUCCESS = False
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# No start-up banner on every manage.py command; lockouts are still logged as warnings.
AXES_VERBOSE = False

# Token guessing on the API: this many failed token authentications from one address in a
# window of this many seconds answer 429 until the window ends (csrisk.api.authentication).
CSRISK_API_AUTH_FAILURE_LIMIT = env.int("CSRISK_API_AUTH_FAILURE_LIMIT", default=10)
CSRISK_API_AUTH_FAILURE_WINDOW_SECONDS = env.int(
    "CSRISK_API_AUTH_FAILURE_WINDOW_SECONDS", default=300
)
# The token class (csrisk.api.authentication.ApiTokenAuthentication) throttles failed
# attempts per address; tests/csrisk/test_api_token_throttle.py holds every configured
# class other than the session to being throttled.

# DRF's HTML pages allow inline styles, and only they (csrisk.api.renderers).
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
    "rest_framework.renderers.JSONRenderer",
    "csrisk.api.renderers.BrowsableAPIRenderer",
]

# Everything the pages load comes from static/ on this origin: no inline script, no eval,
# no other origin. Pico's form icons are data: SVGs in its CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Single sign-on with OpenID Connect (issue 21; docs/sso.md) --------------------------
# On when an issuer and a client id are set; csrisk.sso reads these and nothing else does.
# The provider's endpoints come from its discovery document
# (<OIDC_ISSUER>/.well-known/openid-configuration).
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").rstrip("/")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
# The words on the login page's button: "Sign in with Okta".
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="single sign-on")
OIDC_SCOPES = env.str("OIDC_SCOPES", default="openid email profile")
# The claim listing the person's groups (Entra ID app roles: "roles").
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
# "group=role,group=role": the first pair whose group the person is in gives the role
# (csrisk.roles.Role values), so list the most senior first.
OIDC_ROLE_MAP = env.str("OIDC_ROLE_MAP", default="")
# The role of a person in none of the mapped groups; empty: such a person may not sign in.
OIDC_DEFAULT_ROLE = env.str("OIDC_DEFAULT_ROLE", default="")
# "group=Team name,…": the first pair whose group the person is in gives the (existing) team.
OIDC_TEAM_MAP = env.str("OIDC_TEAM_MAP", default="")
# Create a user on first sign-in (just in time); off: only people already linked or
# matched by verified e-mail may sign in.
OIDC_CREATE_USERS = env.bool("OIDC_CREATE_USERS", default=True)
# Log out at the provider too (RP-initiated logout through its end_session_endpoint).
OIDC_LOGOUT_AT_PROVIDER = env.bool("OIDC_LOGOUT_AT_PROVIDER", default=False)
# The signing algorithm of the provider's ID tokens; seconds to wait for the provider.
OIDC_SIGN_ALGO = env.str("OIDC_SIGN_ALGO", default="RS256")
OIDC_TIMEOUT_SECONDS = env.int("OIDC_TIMEOUT_SECONDS", default=10)
# Off: the password form accepts superusers only (the break-glass account, docs/sso.md).
CSRISK_PASSWORD_LOGIN = env.bool("CSRISK_PASSWORD_LOGIN", default=True)
if OIDC_ISSUER and OIDC_LOGOUT_AT_PROVIDER:
    # The logout form's answer redirects to the provider's end_session_endpoint, and
    # browsers hold a form's redirects to form-action.
    from urllib.parse import urlsplit

    _issuer = urlsplit(OIDC_ISSUER)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(
        f"{_issuer.scheme}://{_issuer.netloc}"
    )
