"""Settings read from the environment (django-environ); `.env` is optional, `.env.example` lists every variable."""

import os
import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from ares_site.artifact_storage import artifact_storage_setting
from ares_site.local_app import APP_FILE_NAME, app_defaults

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# ENV_FILE: another file than .env (the tests point it at an empty file); variables already set win.
environ.Env.read_env(os.environ.get("ENV_FILE") or BASE_DIR / ".env", overwrite=False)

# --- Core -----------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
DEV_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"
SECRET_KEY_MISSING_MESSAGE = (
    "SECRET_KEY is not set. Set the SECRET_KEY environment variable (or SECRET_KEY_FILE, or DEBUG=1 for development)."
)
SECRET_KEY = env.str("SECRET_KEY", default="")
SECRET_KEY_FILE = env.str("SECRET_KEY_FILE", default="")
# Local mode: `make run` keeps its generated key in var/secret-key; a plain shell (`manage.py train_symbol …`)
# reads the same file when neither SECRET_KEY nor SECRET_KEY_FILE is set.
LOCAL_SECRET_KEY_FILE = Path(env.str("LOCAL_SECRET_KEY_FILE", default=str(BASE_DIR / "var" / "secret-key")))
if not SECRET_KEY and "SECRET_KEY_FILE" not in os.environ and LOCAL_SECRET_KEY_FILE.is_file():
    SECRET_KEY_FILE = str(LOCAL_SECRET_KEY_FILE)
if not SECRET_KEY and SECRET_KEY_FILE:
    try:
        SECRET_KEY = Path(SECRET_KEY_FILE).read_text().strip()
    except OSError as exc:
        raise ImproperlyConfigured(f"SECRET_KEY_FILE {SECRET_KEY_FILE} cannot be read: {exc}") from exc
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(SECRET_KEY_MISSING_MESSAGE)
    SECRET_KEY = DEV_SECRET_KEY
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "training",
]

MIDDLEWARE = [
    "ares_site.request_metrics.RequestLatencyMiddleware",  # first: times everything below it
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "ares_site.urls"
WSGI_APPLICATION = "ares_site.wsgi.application"

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
                "ares_site.context_processors.app_footer",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
SQLITE_DEFAULT_PATH = BASE_DIR / "var" / "db.sqlite3"
try:
    DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{SQLITE_DEFAULT_PATH}")}
except (ImproperlyConfigured, ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
if not str(DATABASES["default"].get("ENGINE", "")).startswith("django."):
    raise ImproperlyConfigured("DATABASE_URL has an unknown scheme; use postgres://, sqlite:///…")
if not DATABASES["default"].get("NAME"):
    raise ImproperlyConfigured("DATABASE_URL names no database; e.g. postgres://user:pass@host:5432/dbname")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The web server and the Celery worker write the same file at once: WAL journal, a busy timeout,
    # and write transactions that take the lock up front so none fails with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
# Connections are kept between requests (per thread): opening one costs a page about 1 ms of CPU on SQLite
# (its PRAGMAs and Django's functions) and a round trip and authentication on PostgreSQL.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalization -------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and artifacts -------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
ARTIFACTS_DIR = Path(env.str("ARTIFACTS_DIR", default=str(BASE_DIR / "var" / "artifacts")))
# The artifact store (issue 27): runs keep keys relative to its root (runs/<id>-<key>/...), never host paths.
# ARTIFACTS_URL unset: the local ARTIFACTS_DIR itself. s3://<bucket>/<prefix>: an S3-compatible store through
# django-storages (AWS_S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); ARTIFACTS_DIR is then this
# host's working folder (a run trains there, then uploads) and ARTIFACTS_CACHE_DIR holds downloaded runs, one
# folder per manifest digest, for pages, the zip and predict.
ARTIFACTS_URL = env.str("ARTIFACTS_URL", default="")
ARTIFACTS_CACHE_DIR = Path(env.str("ARTIFACTS_CACHE_DIR", default=str(ARTIFACTS_DIR / "cache")))
try:
    STORAGES["artifacts"] = artifact_storage_setting(
        ARTIFACTS_URL,
        endpoint_url=env.str("AWS_S3_ENDPOINT_URL", default=""),
        access_key=env.str("AWS_ACCESS_KEY_ID", default=""),
        secret_key=env.str("AWS_SECRET_ACCESS_KEY", default=""),
        region=env.str("AWS_S3_REGION_NAME", default=""),
    )
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from exc
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Security (production) ------------------------------------------------------------------------
# HTTPS (default: on unless DEBUG) turns on the redirect, secure cookies and HSTS together; `make run`
# serves plain HTTP on 127.0.0.1 and sets HTTPS=0 unless the shell exports HTTPS.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"
# check --deploy: SAMEORIGIN is deliberate (pages may frame the app's own plots and reports), and HSTS
# preloading is an irreversible opt-in for the domain's owner (SECURE_HSTS_PRELOAD=1 turns it on).
SILENCED_SYSTEM_CHECKS = ["security.W019", "security.W021"]
# /healthz is probed over plain HTTP by load balancers and by `make run`.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^metrics/?$"]  # /metrics: scraped over plain HTTP on loopback too

# A plain shell (`manage.py train_symbol …`) follows a running `make run`: the URL and broker it serves are in
# var/app.json (LOCAL_APP_FILE; empty: ignore it) and fill in whatever the environment does not name.
LOCAL_APP_FILE = env.str("LOCAL_APP_FILE", default=str(BASE_DIR / "var" / APP_FILE_NAME))
# run_app itself serves what its own environment says, never what an earlier (or another) app recorded.
LOCAL_APP_DEFAULTS = {} if sys.argv[1:2] == ["run_app"] else app_defaults(LOCAL_APP_FILE, os.environ)

# The app's address in links printed outside a request (`train_symbol`'s last line).
SITE_URL = env.str(
    "SITE_URL", default=LOCAL_APP_DEFAULTS.get("SITE_URL") or f"http://127.0.0.1:{env.int('PORT', default=8000)}"
)

# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no inline
# script or event handler anywhere (the admin's own pages included); images also as data: URLs (charts).
INSTALLED_APPS += ["csp", "axes"]
MIDDLEWARE.insert(1, "csp.middleware.CSPMiddleware")
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
        "frame-ancestors": ["'self'"],
    }
}

# Login throttling (django-axes): AXES_FAILURE_LIMIT failed logins for one username from one IP address
# lock that pair out for AXES_COOLOFF_MINUTES (HTTP 429 and a page saying so); a success resets the count.
# `manage.py axes_reset` lifts every lockout at once.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
# Hostile query values that Django's own views would answer with a 500 get a 400 (tests/reliability/test_url_fuzz.py).
MIDDLEWARE.append("ares_site.hostile_input.AdminToFieldGuardMiddleware")
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- Redis and Celery -----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default=LOCAL_APP_DEFAULTS.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=LOCAL_APP_DEFAULTS.get("CELERY_BROKER_URL", REDIS_URL))
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND", default=LOCAL_APP_DEFAULTS.get("CELERY_RESULT_BACKEND", REDIS_URL)
)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TRAINING_QUEUE = "training"
CELERY_TASK_ROUTES = {"training.tasks.training_run_execute_task": {"queue": CELERY_TRAINING_QUEUE}}
# Long tasks: one at a time per worker process, acknowledged when done, and a visibility timeout far
# above the longest run so Redis never hands a running task to a second worker.
TRAINING_MAX_RUN_SECONDS = env.int("TRAINING_MAX_RUN_SECONDS", default=6 * 3600)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": TRAINING_MAX_RUN_SECONDS * 2,
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
    "max_retries": 1,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3, "socket_timeout": 10}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 3
CELERY_TASK_SOFT_TIME_LIMIT = TRAINING_MAX_RUN_SECONDS
CELERY_TASK_TIME_LIMIT = TRAINING_MAX_RUN_SECONDS + 300

# --- Training -------------------------------------------------------------------------------------
# The base regularization of the default profile; the defaults are the engine's declared ones.
from training.ml.parameters import BASE_DEFAULTS  # noqa: E402  (plain Python, no Django imports)

CONFIG = {
    "MODEL_TRAINING": {
        "regularization": {
            "l1_alpha": env.float("REG_L1_ALPHA", default=BASE_DEFAULTS["l1_alpha"]),
            "l2_alpha": env.float("REG_L2_ALPHA", default=BASE_DEFAULTS["l2_alpha"]),
            "dropout_rate": env.float("REG_DROPOUT_RATE", default=BASE_DEFAULTS["dropout_rate"]),
        },
    },
}

# --- Market data --------------------------------------------------------------------------------
# Base URL of Binance's public REST API for `manage.py fetch_klines` (tests point it at a local server).
BINANCE_API_URL = env.str("BINANCE_API_URL", default="https://api.binance.com")
# Imports (files, admin uploads, fetches) refuse: an input larger than MARKET_DATA_MAX_INPUT_MB once inflated;
# a zip/gz inflating more than MARKET_DATA_MAX_COMPRESSION_RATIO times its compressed size (a bomb); prices
# above MARKET_DATA_MAX_PRICE; a dataset left with fewer than MARKET_DATA_MIN_CANDLES candles (the indicator
# warm-up, training.ml.features.MIN_CANDLES). New candles are written MARKET_DATA_INSERT_CHUNK_ROWS per
# transaction, so no import holds the database's write lock for long.
MARKET_DATA_MAX_INPUT_MB = env.float("MARKET_DATA_MAX_INPUT_MB", default=512.0)
MARKET_DATA_MAX_COMPRESSION_RATIO = env.float("MARKET_DATA_MAX_COMPRESSION_RATIO", default=100.0)
MARKET_DATA_MAX_PRICE = env.float("MARKET_DATA_MAX_PRICE", default=1e12)
MARKET_DATA_MIN_CANDLES = env.int("MARKET_DATA_MIN_CANDLES", default=300)
MARKET_DATA_INSERT_CHUNK_ROWS = env.int("MARKET_DATA_INSERT_CHUNK_ROWS", default=100_000)
# A file whose first line has more than MARKET_DATA_MAX_COLUMNS fields is refused before it is read; reading and
# checking one file may take MARKET_DATA_MAX_PARSE_SECONDS (then it is refused with a message, on every path).
MARKET_DATA_MAX_COLUMNS = env.int("MARKET_DATA_MAX_COLUMNS", default=64)
MARKET_DATA_MAX_PARSE_SECONDS = env.float("MARKET_DATA_MAX_PARSE_SECONDS", default=90.0)
# Outlier bars are refused with their lines: a price below MARKET_DATA_MIN_PRICE, a volume above
# MARKET_DATA_MAX_VOLUME, a bar whose high is more than MARKET_DATA_MAX_PRICE_JUMP times its low, or whose open is
# that factor away from the previous bar's close.
MARKET_DATA_MIN_PRICE = env.float("MARKET_DATA_MIN_PRICE", default=1e-12)
MARKET_DATA_MAX_VOLUME = env.float("MARKET_DATA_MAX_VOLUME", default=1e18)
MARKET_DATA_MAX_PRICE_JUMP = env.float("MARKET_DATA_MAX_PRICE_JUMP", default=10.0)

# --- Training runs ------------------------------------------------------------------------------
# A running run writes a heartbeat every TRAINING_HEARTBEAT_SECONDS. The reconciler runs beside every worker
# (at start, then every TRAINING_RECONCILE_SECONDS): a queued run whose message is gone for longer than
# TRAINING_REQUEUE_GRACE_SECONDS is published again; a running run silent for TRAINING_STALE_AFTER_SECONDS is
# re-queued once its worker is confirmed gone. A run whose worker shut down or was lost runs again, up to
# TRAINING_MAX_ATTEMPTS attempts in all. Short writes retry "database is locked" for TRAINING_DB_RETRY_SECONDS.
TRAINING_HEARTBEAT_SECONDS = env.float("TRAINING_HEARTBEAT_SECONDS", default=10.0)
TRAINING_STALE_AFTER_SECONDS = env.float("TRAINING_STALE_AFTER_SECONDS", default=120.0)
TRAINING_RECONCILE_SECONDS = env.float("TRAINING_RECONCILE_SECONDS", default=30.0)
TRAINING_REQUEUE_GRACE_SECONDS = env.float("TRAINING_REQUEUE_GRACE_SECONDS", default=90.0)
TRAINING_MAX_ATTEMPTS = env.int("TRAINING_MAX_ATTEMPTS", default=3)
TRAINING_DB_RETRY_SECONDS = env.float("TRAINING_DB_RETRY_SECONDS", default=120.0)
TRAINING_PROGRESS_WRITE_SECONDS = env.float("TRAINING_PROGRESS_WRITE_SECONDS", default=1.0)
# How long a launch waits for the broker (Redis) before the run is stored `failed` as not queued.
TRAINING_BROKER_CONNECT_TIMEOUT = env.float("TRAINING_BROKER_CONNECT_TIMEOUT", default=3.0)
TRAINING_SEED = env.int("TRAINING_SEED", default=42)
# A run's regimes as parts that free workers share (the run's own task trains parts too and finishes the run).
TRAINING_REGIME_TASKS = env.bool("TRAINING_REGIME_TASKS", default=True)
# A worker refuses to start when its clock differs from the database's by more than this (issue 27).
WORKER_MAX_CLOCK_DRIFT_SECONDS = env.float("WORKER_MAX_CLOCK_DRIFT_SECONDS", default=5.0)

# --- Tuning studies and warm workers (issue 26) -------------------------------------------------------------
# LightGBM tunes on in-memory Optuna studies; each finished study is stored once in the project database
# (user attribute run_id) and deleted with its run. OPTUNA_DASHBOARD_URL (e.g. http://127.0.0.1:8080, a running
# `optuna-dashboard <database URL>`) makes the run page link each study.
OPTUNA_DASHBOARD_URL = env.str("OPTUNA_DASHBOARD_URL", default="")
# A training worker process imports the heavy libraries (TensorFlow/Keras, torch, LightGBM) when it starts rather
# than inside its first run, and logs how long that took. `make run` turns it on for its workers.
WORKER_WARM_IMPORTS = env.bool("WORKER_WARM_IMPORTS", default=False)
# A pool process reports "up" to its worker only after those imports; Celery's default wait (4 s) is too short
# for them on a loaded machine, so a warm worker waits up to WORKER_PROC_ALIVE_TIMEOUT seconds.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = env.float("WORKER_PROC_ALIVE_TIMEOUT", default=300.0 if WORKER_WARM_IMPORTS else 4.0)

# --- Health ---------------------------------------------------------------------------------------
# /healthz answers from a worker-ping result cached per web process for HEALTH_WORKER_CACHE_SECONDS and
# refreshed in the background.
HEALTH_WORKER_CACHE_SECONDS = env.float("HEALTH_WORKER_CACHE_SECONDS", default=5.0)
# A worker registered in the broker but silent (no heartbeat, no ping reply) is shown as "lost" and keeps
# /healthz at 503 until it has been silent this long; then it is forgotten (a host taken away for good).
WORKER_FORGET_AFTER_SECONDS = env.float("WORKER_FORGET_AFTER_SECONDS", default=3600.0)
# The workers page (and /workers.json) waits this long for the workers' replies; it stops as soon as every registered
# worker replied, so the whole wait is paid only while a registered worker is silent or none is registered.
WORKER_INSPECT_TIMEOUT_SECONDS = env.float("WORKER_INSPECT_TIMEOUT_SECONDS", default=1.0)

# --- Run page cache -------------------------------------------------------------------------------
# A finished run's result never changes: the sections of its page drawn from it are rendered once and kept per
# web process (a local-memory cache, so a restart with new templates starts empty), keyed by the run and its last
# change (training.selectors.run_page). 0 turns it off. About 150 KB per run; RUN_PAGE_CACHE_ENTRIES bounds it.
RUN_PAGE_CACHE_SECONDS = env.int("RUN_PAGE_CACHE_SECONDS", default=86400)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "run_pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "run-pages",
        "OPTIONS": {"MAX_ENTRIES": env.int("RUN_PAGE_CACHE_ENTRIES", default=600)},
    },
    # The run list's rows, keyed by a digest of their content (training.selectors.run_rows): about 1.5 KB each.
    "run_rows": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "run-rows",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
}

# --- Logging --------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# --- Metrics ------------------------------------------------------------------------------------------
# /metrics (Prometheus text format) answers the loopback address when METRICS_ALLOW_LOOPBACK (set it to 0 behind
# a proxy on the same machine), and any address that sends `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_ALLOW_LOOPBACK = env.bool("METRICS_ALLOW_LOOPBACK", default=True)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# LOG_FORMAT=json: one JSON object a line (time, level, logger, message, exception) for a log collector.
LOG_FORMAT = env.str("LOG_FORMAT", default="text").strip().lower()
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "readable": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "datefmt": "%Y-%m-%d %H:%M:%S"},
        "json": {"()": "ares_site.log_format.JsonFormatter"},
    },
    "filters": {"readiness_probe": {"()": "ares_site.logging_filters.ReadinessProbeFilter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json" if LOG_FORMAT == "json" else "readable",
            "filters": ["readiness_probe"],
        }
    },
    # Libraries log at WARNING and above; the app, Django and Celery at LOG_LEVEL.
    "root": {"handlers": ["stdout"], "level": "WARNING"},
    "loggers": {
        "django": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        "training": {"level": LOG_LEVEL},
        "ares_site": {"level": LOG_LEVEL},
        "celery": {"level": LOG_LEVEL},
        "tensorflow": {"level": "ERROR"},
        "absl": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}

# --- REST API, OpenAPI and scheduled retraining ---------------------------------------------------------
# DRF under /api/: token (for bots) then session auth — the token scheme comes first so an anonymous request
# is answered 401 with `WWW-Authenticate: Token`, never a redirect to the login page.
INSTALLED_APPS += [
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["training.api.permissions.ModelPermissions"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "training.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "training.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "training.api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "training.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ares Training Manager API",
    "DESCRIPTION": "Training runs, regularization profiles, market data, the active model per market, "
    "predictions and scheduled retraining. Authenticate with `Authorization: Token <key>` "
    "(`manage.py drf_create_token USERNAME` or the user's admin page) or a logged-in session.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "training.models.runs.TrainingRun.Status",
        "RunTriggerEnum": "training.models.runs.TrainingRun.Trigger",
    },
}
# Celery beat reads its schedule from the database (django-celery-beat); `make run` starts it.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ROUTES = {**CELERY_TASK_ROUTES, "training.schedule_execute": {"queue": CELERY_TRAINING_QUEUE}}
# Predictions: how many bars of stored candles `{}` reads beyond the model's warm-up.
PREDICT_EXTRA_BARS = env.int("PREDICT_EXTRA_BARS", default=16)

# Promotion guard (training/selectors/promotion_checks.py): the checks that block a free promotion (default: all
# of ensembles_trained, not_worse_than_baseline, not_collapsed, deflated_sharpe, pbo) and the trading thresholds
# (checked once a run's result carries trading evidence; until then those checks say "not available").
PROMOTION_ENFORCED_CHECKS = env.list("PROMOTION_ENFORCED_CHECKS", default=[])
PROMOTION_MIN_DEFLATED_SHARPE = env.float("PROMOTION_MIN_DEFLATED_SHARPE", default=0.95)
PROMOTION_MAX_PBO = env.float("PROMOTION_MAX_PBO", default=0.5)
# Live monitoring: matured predictions before a live interval is given; cost per unit of position change.
LIVE_MIN_FOR_INTERVAL = env.int("LIVE_MIN_FOR_INTERVAL", default=48)
LIVE_COST_PER_TURN = env.float("LIVE_COST_PER_TURN", default=0.001)
# The monitor (training/services/monitor.py), fired by beat: its thresholds, and whether an alert fires the
# market's retrain schedule.
MONITOR_EVERY_SECONDS = env.int("MONITOR_EVERY_SECONDS", default=900)
MONITOR_LOSS_BARS = env.int("MONITOR_LOSS_BARS", default=168)
MONITOR_DRIFT_BARS = env.int("MONITOR_DRIFT_BARS", default=168)
MONITOR_DRIFT_MIN_BARS = env.int("MONITOR_DRIFT_MIN_BARS", default=100)
MONITOR_PSI_MAX = env.float("MONITOR_PSI_MAX", default=0.25)
MONITOR_MAX_DRAWDOWN = env.float("MONITOR_MAX_DRAWDOWN", default=0.1)
MONITOR_RETRAIN_ON_ALERT = env.bool("MONITOR_RETRAIN_ON_ALERT", default=False)
CELERY_BEAT_SCHEDULE = {
    "monitor active models": {"task": "training.monitor_markets", "schedule": float(MONITOR_EVERY_SECONDS)}
}
