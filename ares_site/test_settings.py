"""Settings for the test suite: the production settings with a test secret and artifacts in a temp dir.

The SQLite test database is a file (not in-memory) so a real Celery worker process can open it; its path
is put in the environment so subprocesses started by the tests inherit the same one.
"""

import os
import tempfile
from pathlib import Path

# A developer's running `make run` (var/app.json) must not point the tests at its broker.
os.environ.setdefault("LOCAL_APP_FILE", "")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
# Under pytest-xdist every worker gets temp directories of its own (each has its own test database, so run ids
# and artifact folders repeat across workers); the processes a worker starts inherit them unchanged.
if os.environ.get("PYTEST_XDIST_WORKER", "") not in ("", os.environ.get("ARES_TEST_DIRS_FOR")):
    os.environ["ARES_TEST_DIRS_FOR"] = os.environ["PYTEST_XDIST_WORKER"]
    os.environ.pop("ARES_TEST_SQLITE_NAME", None)
    if os.environ.get("ARTIFACTS_DIR", "").startswith(os.path.join(tempfile.gettempdir(), "ares-test-artifacts-")):
        del os.environ["ARTIFACTS_DIR"]
if "ARTIFACTS_DIR" not in os.environ:
    os.environ["ARTIFACTS_DIR"] = tempfile.mkdtemp(prefix="ares-test-artifacts-")

from .settings import *  # noqa: F403

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    if "ARES_TEST_SQLITE_NAME" not in os.environ:
        os.environ["ARES_TEST_SQLITE_NAME"] = os.path.join(tempfile.mkdtemp(prefix="ares-test-db-"), "test.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": os.environ["ARES_TEST_SQLITE_NAME"]}  # noqa: F405

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # noqa: F405  (WhiteNoise warns about a missing root)
