"""The worker's app-version check against what the web published (``web_versions``), in this process: the commit
decides when both sides know it; the other start checks run in real worker processes (``test_two_hosts_s3``)."""

from __future__ import annotations

import logging
import socket

import pytest

from ares_site.app_version import app_code_version
from training.models import WebVersion
from training.services.web_versions import web_version_publish
from training.services.worker_checks import MSG_NO_WEB_VERSION, version_problem, worker_start_problems

OTHER_COMMIT = "0" * 40


@pytest.fixture
def code_version(monkeypatch):
    """``app_code_version`` read afresh from the environment this test sets (and again after it)."""
    app_code_version.cache_clear()
    yield monkeypatch
    monkeypatch.undo()  # the environment back first: nothing may cache the version this test set
    app_code_version.cache_clear()


@pytest.mark.django_db
def test_no_published_web_version_is_not_a_refusal_and_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="training.services.worker_checks"):
        assert version_problem(worker="w1@host-b") is None
    assert MSG_NO_WEB_VERSION.split(";")[0].format(worker="w1@host-b") in caplog.text


@pytest.mark.django_db
def test_the_same_version_on_another_commit_is_refused_naming_both(code_version):
    code_version.setenv("APP_COMMIT", OTHER_COMMIT)
    web_version_publish(host="web-1")
    assert version_problem(worker="w1@host-b") is None  # the web's own version and commit
    code_version.setenv("APP_COMMIT", "1" * 40)
    app_code_version.cache_clear()
    problem = version_problem(worker="w1@host-b")
    version = app_code_version()["version"]
    assert problem.startswith(f"this worker runs app version {version} (commit 111111111111), the web on web-1 ")
    assert f"serves {version} (commit 000000000000)" in problem


@pytest.mark.django_db(transaction=True)  # the start check closes its connection, as a worker's does
def test_the_latest_web_start_is_the_one_compared_and_a_start_check_reports_it(code_version, settings, tmp_path):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    code_version.setenv("APP_VERSION", "1.0.0")
    web_version_publish(host="old-web")
    code_version.setenv("APP_VERSION", "2.0.0")
    app_code_version.cache_clear()
    web_version_publish()  # this host's web, started later with the new version
    assert WebVersion.objects.get(host=socket.gethostname()).version == "2.0.0"
    assert worker_start_problems(worker="w1@host-b") == []
    code_version.setenv("APP_VERSION", "1.0.0")
    app_code_version.cache_clear()
    problems = worker_start_problems(worker="w1@host-b")
    assert len(problems) == 1 and f"the web on {socket.gethostname()} serves 2.0.0" in problems[0], problems
