"""However `run_app` ends, nothing it started outlives it, and the next `make run` starts on the same ports."""

from __future__ import annotations

import signal
import time

import psutil
import pytest

from ares_site.embedded_redis import free_port
from ares_site.process_lifetime import PID_FILE_NAME
from tests.reliability.supervised_app import SupervisedApp

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.fault]
GONE_WITHIN_SECONDS = 10


def still_alive(processes: list[psutil.Process], *, deadline: float) -> list[str]:
    while True:
        alive = []
        for process in processes:
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{process.pid} {' '.join(process.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.1)


@pytest.mark.timeout(900)
def test_sigkill_then_sighup_of_run_app_leave_no_child_and_the_next_start_works(tmp_path):
    state_dir, redis_port, port = tmp_path / "app", free_port(), free_port()
    first = SupervisedApp(state_dir=state_dir, redis_port=redis_port, port=port)
    second = SupervisedApp(state_dir=state_dir, redis_port=redis_port, port=port)
    try:
        first.start()
        children = first.children()
        names = " ".join(" ".join(child.cmdline()) for child in children)
        assert "redis-server" in names and "celery" in names and "gunicorn" in names, names
        assert len(children) >= 5  # redis, worker + its pool, beat, gunicorn + its workers, the watchdog

        first.process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        first.process.wait(timeout=10)
        assert still_alive(children, deadline=killed_at + GONE_WITHIN_SECONDS) == []
        assert not (state_dir / PID_FILE_NAME).exists()  # the watchdog stopped them and removed the file

        second.start()  # same state folder, same Redis and web ports: nothing is in the way
        children = second.children()
        assert len(children) >= 5
        second.process.send_signal(signal.SIGHUP)  # a closed terminal
        hung_up_at = time.monotonic()
        assert second.process.wait(timeout=60) == 0
        assert still_alive(children, deadline=hung_up_at + GONE_WITHIN_SECONDS) == []
        assert "SIGHUP: stopping what run_app started." in second.text()
    finally:
        first.close()
        second.close()
