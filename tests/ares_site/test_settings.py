"""Settings are read in a subprocess with a controlled environment (no .env, nothing inherited)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_SECRET = "x7Kq2vN9pL4sR8tW1yZ3bC6dF0gH5jM2nP7qS9uV4wX8zA1cE3fG6hJ0kL5mN8pQ"
DUMP = """
import json
from django.conf import settings
db = dict(settings.DATABASES["default"])
print(json.dumps({
    "DEBUG": settings.DEBUG, "DATABASE": db, "REDIS_URL": settings.REDIS_URL,
    "BROKER": settings.CELERY_BROKER_URL, "RESULTS": settings.CELERY_RESULT_BACKEND,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS, "SECRET_KEY": settings.SECRET_KEY,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT, "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS, "ARTIFACTS_DIR": str(settings.ARTIFACTS_DIR),
    "VISIBILITY": settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"],
    "MAX_RUN": settings.TRAINING_MAX_RUN_SECONDS, "PREFETCH": settings.CELERY_WORKER_PREFETCH_MULTIPLIER,
    "ACCEPT": settings.CELERY_ACCEPT_CONTENT,
}, default=str))
"""


@pytest.fixture
def empty_env_file(tmp_path):
    path = tmp_path / "empty.env"
    path.write_text("")
    return path


def run_python(code: str, env_file: Path, **variables: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "ENV_FILE": str(env_file),
        "DJANGO_SETTINGS_MODULE": "ares_site.settings",
        # never the checkout's var/secret-key (there after `make run`): these tests set the key they mean
        "LOCAL_SECRET_KEY_FILE": "/nonexistent/ares-secret-key",
        **variables,
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def load(env_file: Path, **variables: str) -> dict:
    result = run_python(DUMP, env_file, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_defaults_are_a_sqlite_file_in_the_project_and_local_redis(empty_env_file):
    values = load(empty_env_file, SECRET_KEY=PRODUCTION_SECRET)
    assert values["DEBUG"] is False
    database = values["DATABASE"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(database["NAME"]) == REPO_ROOT / "var" / "db.sqlite3"
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert database["OPTIONS"]["timeout"] >= 20
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert values["REDIS_URL"] == values["BROKER"] == values["RESULTS"] == "redis://127.0.0.1:6379/0"
    assert values["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert values["ACCEPT"] == ["json"]
    assert values["PREFETCH"] == 1
    assert values["VISIBILITY"] > values["MAX_RUN"]
    assert values["SECURE_SSL_REDIRECT"] is True and values["SESSION_COOKIE_SECURE"] is True


def test_database_url_for_postgres_is_parsed(empty_env_file):
    values = load(
        empty_env_file,
        SECRET_KEY=PRODUCTION_SECRET,
        DATABASE_URL="postgres://ares:s%40cret@db.example.org:5433/ares_prod",
        REDIS_URL="redis://cache:6380/2",
    )
    database = values["DATABASE"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == ("ares_prod", "ares", "s@cret")
    assert (database["HOST"], int(database["PORT"])) == ("db.example.org", 5433)
    assert database["CONN_MAX_AGE"] == 60
    assert values["BROKER"] == values["RESULTS"] == "redis://cache:6380/2"


def test_without_secret_key_and_debug_off_startup_is_refused_naming_secret_key(empty_env_file):
    result = run_python(DUMP, empty_env_file)
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr


def test_debug_on_uses_the_development_key_and_plain_http(empty_env_file):
    values = load(empty_env_file, DEBUG="1")
    assert values["DEBUG"] is True
    assert values["SECRET_KEY"].startswith("django-insecure-")
    assert values["SECURE_SSL_REDIRECT"] is False and values["SECURE_HSTS_SECONDS"] == 0


def test_secret_key_file_and_https_off_for_local_runs(empty_env_file, tmp_path):
    key_file = tmp_path / "secret-key"
    key_file.write_text(PRODUCTION_SECRET + "\n")
    values = load(empty_env_file, SECRET_KEY_FILE=str(key_file), HTTPS="0")
    assert values["SECRET_KEY"] == PRODUCTION_SECRET
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is False and values["SESSION_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0


def test_env_file_values_are_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / "custom.env"
    env_file.write_text(f"SECRET_KEY={PRODUCTION_SECRET}\nREDIS_URL=redis://from-file:6379/1\nARTIFACTS_DIR=/srv/a\n")
    values = load(env_file, ARTIFACTS_DIR="/srv/from-env")
    assert values["REDIS_URL"] == "redis://from-file:6379/1"
    assert values["ARTIFACTS_DIR"] == "/srv/from-env"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("not-a-url", "DATABASE_URL has an unknown scheme"),
        ("mysqlx://user@host/db", "DATABASE_URL has an unknown scheme"),
        ("postgres://user@host:notaport/db", "DATABASE_URL is not a valid database URL"),
        ("postgres://user@host:5432", "DATABASE_URL names no database"),
    ],
)
def test_broken_database_url_gives_a_clear_error_naming_it(empty_env_file, url, expected):
    result = run_python(DUMP, empty_env_file, SECRET_KEY=PRODUCTION_SECRET, DATABASE_URL=url)
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {expected}" in result.stderr


def test_check_deploy_with_production_variables_reports_no_issue(empty_env_file, tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "ENV_FILE": str(empty_env_file),
        "DJANGO_SETTINGS_MODULE": "ares_site.settings",
        "SECRET_KEY": PRODUCTION_SECRET,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "ares.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://ares.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (2 silenced)" in result.stdout


def test_only_the_two_deliberate_deploy_checks_are_silenced():
    from django.conf import settings

    assert settings.SILENCED_SYSTEM_CHECKS == ["security.W019", "security.W021"]


def test_env_example_documents_every_variable_read_and_loads_as_is(tmp_path):
    import re

    example = (REPO_ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    sources = [
        REPO_ROOT / "ares_site" / "settings.py",
        REPO_ROOT / "training" / "management" / "commands" / "run_app.py",
    ]
    read = set()
    for source in sources:
        read |= set(re.findall(r'env\.\w+\("([A-Z][A-Z0-9_]+)"', source.read_text()))
        read |= set(re.findall(r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"', source.read_text()))
    read -= {"DJANGO_SETTINGS_MODULE"}
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ADMIN_PASSWORD", "PORT"} <= read
    assert read - documented == set()
    values = load(REPO_ROOT / ".env.example")
    assert values["DEBUG"] is False and values["SECRET_KEY"] == "change-me-to-a-long-random-string"


TEST_DIRS = """
import json, os
from django.conf import settings
settings.ARTIFACTS_DIR  # imports the settings module
keys = ("ARTIFACTS_DIR", "ARES_TEST_SQLITE_NAME", "ARES_TEST_DIRS_FOR", "PYTEST_XDIST_WORKER")
print(json.dumps({key: os.environ.get(key) for key in keys}))
"""


def test_each_xdist_worker_gets_test_folders_of_its_own_which_its_subprocesses_keep(empty_env_file, tmp_path):
    def test_settings_env(**variables):
        variables = {key: value for key, value in variables.items() if value is not None}
        env = {"DJANGO_SETTINGS_MODULE": "ares_site.test_settings", "TMPDIR": str(tmp_path), **variables}
        result = run_python(TEST_DIRS, empty_env_file, **env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    controller = test_settings_env()  # pytest's main process (or a run without xdist)
    assert controller["ARES_TEST_DIRS_FOR"] is None
    workers = [test_settings_env(**controller | {"PYTEST_XDIST_WORKER": name}) for name in ("gw0", "gw1")]
    folders = [(env["ARTIFACTS_DIR"], Path(env["ARES_TEST_SQLITE_NAME"]).parent) for env in [controller, *workers]]
    assert len({artifacts for artifacts, _ in folders}) == len({database for _, database in folders}) == 3
    assert all(Path(artifacts).parent == Path(database).parent == tmp_path for artifacts, database in folders)
    assert [env["ARES_TEST_DIRS_FOR"] for env in workers] == ["gw0", "gw1"]
    # a Celery worker or command that a test worker starts inherits its environment and keeps its folders
    assert test_settings_env(**workers[1]) == workers[1]
    outside_xdist = test_settings_env(**{**workers[1], "PYTEST_XDIST_WORKER": None})  # e.g. a trimmed env
    assert outside_xdist["ARTIFACTS_DIR"] == workers[1]["ARTIFACTS_DIR"]
    # an ARTIFACTS_DIR the user set is kept under xdist too
    assert test_settings_env(ARTIFACTS_DIR="/srv/mine", PYTEST_XDIST_WORKER="gw0")["ARTIFACTS_DIR"] == "/srv/mine"
