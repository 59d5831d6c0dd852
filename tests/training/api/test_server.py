"""The API through the real gunicorn server: a bot with a token lists runs, promotes one and asks a prediction;
without a (valid) token it gets JSON 401s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token

from ares_site.embedded_redis import free_port
from tests.conftest import REPO_ROOT, database_url_from_settings
from tests.training.api.conftest import api_user
from tests.training.trained_run import make_trained_run

pytestmark = pytest.mark.django_db(transaction=True)

START_TIMEOUT_SECONDS = 60


@pytest.fixture
def gunicorn_url(transactional_db, tmp_path):
    port = free_port()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="ares_site.test_settings",
        DATABASE_URL=database_url_from_settings(connection.settings_dict),
        ARTIFACTS_DIR=str(settings.ARTIFACTS_DIR),
    )
    log = open(tmp_path / "gunicorn.log", "wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "ares_site.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/schema/", timeout=2)
                break
            except (urllib.error.URLError, OSError):
                assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def call(url: str, *, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        assert error.headers["Content-Type"] == "application/json"
        return error.code, json.loads(error.read())


def test_a_bot_with_a_token(gunicorn_url, trained_artifacts):
    run = make_trained_run(trained_artifacts)
    token = Token.objects.create(user=api_user("bot", "view", "add")).key
    assert call(f"{gunicorn_url}/api/runs/")[0] == 401
    assert call(f"{gunicorn_url}/api/runs/", token="not-a-token")[0] == 401
    status, body = call(f"{gunicorn_url}/api/runs/?symbol=BTCUSDT&status=succeeded", token=token)
    assert status == 200 and [r["id"] for r in body["results"]] == [run.pk]
    status, body = call(f"{gunicorn_url}/api/runs/{run.pk}/promote/", token=token, body={})
    assert status == 409 and body["failed_checks"], body  # the tiny run is worse than a baseline in one regime
    status, body = call(
        f"{gunicorn_url}/api/runs/{run.pk}/promote/", token=token, body={"force": True, "reason": "bot test"}
    )
    assert status == 201 and body["run"] == run.pk and body["promoted_by"] == "bot"
    status, body = call(f"{gunicorn_url}/api/models/BINANCE/BTCUSDT/1h/predict/", token=token, body={})
    assert status == 200, body
    assert body["run_id"] == run.pk and sum(body["probabilities"].values()) == pytest.approx(1.0)
    status, body = call(f"{gunicorn_url}/api/models/BINANCE/ETHUSDT/1h/", token=token)
    assert status == 404 and "promote" in body["detail"]
