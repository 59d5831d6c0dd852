"""The pid file and leftover stop of `run_app` against real processes (the whole app is in
tests/reliability/test_supervisor_death.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command

from ares_site.process_lifetime import (
    ALREADY_RUNNING_MESSAGE,
    PID_FILE_NAME,
    PidFile,
    Recorded,
    leftovers_stop,
    process_start_time,
)
from tests.ares_site.test_local_run import live_group_members

SLEEPER_WITH_CHILD = (
    "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "time.sleep(60)"
)


def group_of_two() -> subprocess.Popen:
    """A leader in a session of its own with one child, like a worker and its pool (not a child of run_app)."""
    leader = subprocess.Popen([sys.executable, "-c", SLEEPER_WITH_CHILD], start_new_session=True)
    deadline = time.monotonic() + 10
    while len(live_group_members(leader.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(live_group_members(leader.pid)) == 2
    return leader


def test_leftover_children_recorded_by_pid_and_start_time_are_stopped_with_their_groups(tmp_path):
    path = tmp_path / PID_FILE_NAME
    leftover, stranger = group_of_two(), group_of_two()
    try:
        pid_file = PidFile(path=path)
        pid_file.record_child("celery worker 1", leftover.pid)
        # the same pid recorded with another start time is a reused pid: another process, never touched
        pid_file.children["web server"] = Recorded("web server", stranger.pid, process_start_time(stranger.pid) - 1)
        pid_file.write()
        said = []

        assert leftovers_stop(path, say=said.append, grace=1) == 1

        leftover.wait(timeout=5)
        assert live_group_members(leftover.pid) == []
        assert len(live_group_members(stranger.pid)) == 2
        assert said == [
            f"Stopping celery worker 1 (pid {leftover.pid}) left over from a run_app that ended without stopping it."
        ]
        assert not path.exists()
    finally:
        for process in (leftover, stranger):
            if live_group_members(process.pid):
                os.killpg(process.pid, 9)
            process.wait(timeout=5)


def test_a_group_whose_leader_died_is_still_stopped(tmp_path):
    leader = group_of_two()
    path = tmp_path / PID_FILE_NAME
    pid_file = PidFile(path=path)
    pid_file.record_child("celery worker 1", leader.pid)
    leader.kill()
    leader.wait(timeout=5)
    assert len(live_group_members(leader.pid)) == 1  # the pool process is left, its parent gone

    assert leftovers_stop(path, say=lambda _: None, grace=1) == 1
    deadline = time.monotonic() + 5
    while live_group_members(leader.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_group_members(leader.pid) == []


def test_run_app_refuses_to_start_beside_a_running_one(tmp_path):
    pid_file = PidFile(path=tmp_path / PID_FILE_NAME)
    pid_file.record_supervisor()  # this test process stands for the other run_app
    with pytest.raises(CommandError) as raised:
        call_command("run_app", "--state-dir", str(tmp_path), "--port", "1")
    assert str(raised.value) == ALREADY_RUNNING_MESSAGE.format(pid=os.getpid(), path=pid_file.path)
    assert PidFile.read(pid_file.path).supervisor.pid == os.getpid()  # the other one's file is left alone
