"""The README's second shell: after `make run` on another port and broker, `manage.py train_symbol` with none of
PORT / REDIS_URL set queues on that app's broker (its worker trains the run) and prints that app's address."""

import os
import subprocess
import sys

import pytest
import redis

from ares_site.embedded_redis import free_port
from tests.reliability.supervised_app import REPO_ROOT, SupervisedApp

pytestmark = pytest.mark.slow


def test_train_symbol_in_a_plain_shell_follows_the_running_app(tmp_path):
    state_dir = tmp_path / "app"
    app = SupervisedApp(state_dir=state_dir, redis_port=free_port(), port=free_port())
    app.redis_url = app.env["REDIS_URL"] = app.redis_url.rsplit("/", 1)[0] + "/5"  # not db 0 either
    try:
        app.start()
        assert (state_dir / "app.json").is_file()
        shell = {  # a new shell: the database and secret of this app's test setup, no broker and no port
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "ENV_FILE": app.env["ENV_FILE"],
            "SECRET_KEY": app.env["SECRET_KEY"],
            "DATABASE_URL": app.env["DATABASE_URL"],
            "ARTIFACTS_DIR": app.env["ARTIFACTS_DIR"],
            "LOCAL_APP_FILE": str(state_dir / "app.json"),  # where run_app --state-dir put it (default var/)
        }
        done = subprocess.run(
            [sys.executable, "manage.py", "train_symbol", "BTCUSDT", "--preset", "tiny", "--poll", "0.5"],
            cwd=REPO_ROOT,
            env=shell,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, (done.stdout, done.stderr, app.text()[-4000:])
        run_id = int(done.stdout.split()[1])
        assert f"http://127.0.0.1:{app.port}/runs/{run_id}/" in done.stdout
        assert ":8000" not in done.stdout and "No Celery worker" not in done.stderr
        run = app.run(run_id)
        assert run["status"] == "succeeded" and run["worker"].startswith("ares-local-1@"), run
        # the task went through the app's Redis database: its result is stored there
        assert redis.Redis.from_url(app.redis_url).keys("celery-task-meta-*")
        app.interrupt()
        assert not (state_dir / "app.json").exists()
    finally:
        app.close()
