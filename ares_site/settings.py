"""Settings read from the environment (django-environ); `.env` is optional, `.env.example` lists every variable."""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

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
else:
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
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]

# --- Redis and Celery -----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
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
CONFIG = {
    "MODEL_TRAINING": {
        "regularization": {
            "l1_alpha": env.float("REG_L1_ALPHA", default=0.01),
            "l2_alpha": env.float("REG_L2_ALPHA", default=0.001),
            "dropout_rate": env.float("REG_DROPOUT_RATE", default=0.2),
        },
    },
}

# --- Market data --------------------------------------------------------------------------------
# Base URL of Binance's public REST API for `manage.py fetch_klines` (tests point it at a local server).
BINANCE_API_URL = env.str("BINANCE_API_URL", default="https://api.binance.com")

# --- Training runs ------------------------------------------------------------------------------
# A running run writes a heartbeat every TRAINING_HEARTBEAT_SECONDS. The reconciler runs inside every worker
# (at start, then every TRAINING_RECONCILE_SECONDS): a queued run whose message is gone for longer than
# TRAINING_REQUEUE_GRACE_SECONDS is published again; a running run silent for TRAINING_STALE_AFTER_SECONDS is
# re-queued once its worker is confirmed gone. A run whose worker shut down or was lost runs again, up to
# TRAINING_MAX_ATTEMPTS attempts in all. Short writes retry "database is locked" for TRAINING_DB_RETRY_SECONDS.
TRAINING_HEARTBEAT_SECONDS = env.float("TRAINING_HEARTBEAT_SECONDS", default=10.0)
TRAINING_STALE_AFTER_SECONDS = env.float("TRAINING_STALE_AFTER_SECONDS", default=120.0)
TRAINING_RECONCILE_SECONDS = env.float("TRAINING_RECONCILE_SECONDS", default=30.0)
TRAINING_REQUEUE_GRACE_SECONDS = env.float("TRAINING_REQUEUE_GRACE_SECONDS", default=60.0)
TRAINING_MAX_ATTEMPTS = env.int("TRAINING_MAX_ATTEMPTS", default=3)
TRAINING_DB_RETRY_SECONDS = env.float("TRAINING_DB_RETRY_SECONDS", default=120.0)
TRAINING_PROGRESS_WRITE_SECONDS = env.float("TRAINING_PROGRESS_WRITE_SECONDS", default=1.0)
TRAINING_SEED = env.int("TRAINING_SEED", default=42)

# --- Health ---------------------------------------------------------------------------------------
# /healthz answers from a worker-ping result cached per web process for HEALTH_WORKER_CACHE_SECONDS and
# refreshed in the background.
HEALTH_WORKER_CACHE_SECONDS = env.float("HEALTH_WORKER_CACHE_SECONDS", default=5.0)

# --- Logging --------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "readable": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "datefmt": "%Y-%m-%d %H:%M:%S"}
    },
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "readable"}},
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        "tensorflow": {"level": "ERROR"},
        "absl": {"level": "ERROR"},
    },
}
