"""var/app.json: what a running run_app serves fills in the settings a plain shell's environment does not name."""

import json
import subprocess
import sys

from ares_site.local_app import app_defaults, app_record_read, app_record_remove, app_record_write


def record(tmp_path):
    return app_record_write(
        path=tmp_path / "app.json",
        url="http://127.0.0.1:24123",
        port=24123,
        broker="redis://127.0.0.1:24999/3",
        result_backend="redis://127.0.0.1:24999/3",
    )


def test_a_live_record_fills_the_broker_and_address_the_environment_leaves_out(tmp_path):
    record(tmp_path)
    assert (tmp_path / "app.json").stat().st_mode & 0o077 == 0  # the broker URL may hold a password
    assert app_defaults(tmp_path / "app.json", {}) == {
        "REDIS_URL": "redis://127.0.0.1:24999/3",
        "CELERY_BROKER_URL": "redis://127.0.0.1:24999/3",
        "CELERY_RESULT_BACKEND": "redis://127.0.0.1:24999/3",
        "SITE_URL": "http://127.0.0.1:24123",
    }


def test_the_environment_wins_group_by_group(tmp_path):
    record(tmp_path)
    assert app_defaults(tmp_path / "app.json", {"REDIS_URL": "redis://elsewhere:6379/0"}) == {
        "SITE_URL": "http://127.0.0.1:24123"
    }
    assert set(app_defaults(tmp_path / "app.json", {"PORT": "9000"})) == {
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "CELERY_RESULT_BACKEND",
    }


def test_a_record_of_an_app_that_has_ended_is_ignored(tmp_path):
    path = tmp_path / "app.json"
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    data = {**record(tmp_path), "pid": int(done.stdout)}  # that process has exited
    path.write_text(json.dumps(data))
    assert app_record_read(path) is None and app_defaults(path, {}) == {}
    path.write_text("{not json")
    assert app_defaults(path, {}) == {} and app_defaults("", {}) == {}


def test_only_the_app_that_wrote_the_record_removes_it(tmp_path):
    path = tmp_path / "app.json"
    path.write_text(json.dumps({**record(tmp_path), "pid": 1}))
    app_record_remove(path)
    assert path.exists()
    record(tmp_path)
    app_record_remove(path)
    assert not path.exists()
