"""The health-lane gunicorn worker: /healthz is answered while every page thread is busy, on a fresh connection
and on a kept-alive one, and a connection that sends nothing is dropped after gthread's own budget. The same test
on gunicorn's stock gthread shows /healthz queued behind the page (so it can fail)."""

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from ares_site.embedded_redis import free_port
from ares_site.gunicorn_worker import (
    DEFAULT_KEEPALIVE_REQUESTS,
    DEFAULT_SWITCH_INTERVAL_MS,
    MSG_BAD_KEEPALIVE_REQUESTS,
    MSG_BAD_SWITCH_INTERVAL,
    connection_cap,
)
from ares_site.local_run import (
    RunAppError,
    web_command,
    web_health_lane,
    web_keepalive_requests,
    web_switch_interval_ms,
)

SLOW = 3.0


def serve(*, health_lane: bool, env: dict | None = None, workers: int = 1, keep_alive: int | None = None):
    port = free_port()
    command = web_command(port=port, workers=workers, threads=1, health_lane=health_lane)
    if keep_alive is not None:  # seconds an idle kept-alive connection stays open (gunicorn's default: 2)
        command += ["--keep-alive", str(keep_alive)]
    command[command.index("ares_site.wsgi:application")] = "tests.ares_site.slow_pages_wsgi:application"
    process = subprocess.Popen(
        command,
        cwd=Path(__file__).resolve().parents[2],
        env={"PATH": "/usr/bin:/bin", "SLOW_SECONDS": str(SLOW), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return process, f"http://127.0.0.1:{port}"
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("gunicorn did not answer within 60 s")


def health_seconds_beside_a_slow_page(base: str) -> tuple[float, float]:
    """Seconds to /healthz on a fresh and on a kept-alive connection while /slow holds the only page thread."""
    kept = requests.Session()
    assert kept.get(f"{base}/healthz", timeout=10).text == "/healthz"
    slow = threading.Thread(target=requests.get, args=(f"{base}/slow",), kwargs={"timeout": 30})
    slow.start()
    time.sleep(0.5)  # /slow is being served
    t = time.perf_counter()
    assert requests.get(f"{base}/healthz", timeout=30).text == "/healthz"
    fresh = time.perf_counter() - t
    t = time.perf_counter()
    assert kept.get(f"{base}/healthz", timeout=30).text == "/healthz"
    again = time.perf_counter() - t
    slow.join()
    return fresh, again


@pytest.mark.parametrize("health_lane", [True, False])
def test_healthz_is_answered_while_the_page_threads_are_busy(health_lane):
    process, base = serve(health_lane=health_lane)
    try:
        fresh, kept = health_seconds_beside_a_slow_page(base)
        if health_lane:
            assert fresh < 1.0 and kept < 1.0, (fresh, kept)
        else:  # the stock worker queues it behind the page
            assert fresh > 1.5, (fresh, kept)
        assert requests.get(f"{base}/page", timeout=10).text == "/page"  # pages still go to the page threads
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_connection_that_sends_nothing_is_dropped_and_a_late_request_still_served():
    process, base = serve(health_lane=True)
    port = int(base.rsplit(":", 1)[1])
    try:
        idle = socket.create_connection(("127.0.0.1", port), timeout=30)
        late = socket.create_connection(("127.0.0.1", port), timeout=30)
        time.sleep(1.0)  # nothing sent yet: it waits in the poller, not in a thread
        late.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert late.recv(100).startswith(b"HTTP/1.1 200")
        t = time.perf_counter()
        assert idle.recv(100) == b""  # closed by the worker: gthread's data wait (5 s) plus keep-alive (2 s)
        assert time.perf_counter() - t < 15
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_health_lane_is_a_setting():
    assert web_health_lane({}) is True and web_health_lane({"WEB_HEALTH_LANE": "0"}) is False
    with pytest.raises(RunAppError):
        web_health_lane({"WEB_HEALTH_LANE": "maybe"})
    assert "ares_site.gunicorn_worker.HealthLaneThreadWorker" in web_command(port=1)
    assert (
        web_command(port=1, health_lane=False)[web_command(port=1, health_lane=False).index("--worker-class") + 1]
        == "gthread"
    )
    assert sys.executable == web_command(port=1)[0]


@pytest.mark.parametrize(("setting", "expected"), [(None, "1"), ("0.5", "0.5")])
def test_the_worker_hands_the_interpreter_lock_over_every_switch_interval(setting, expected):
    """The health-lane worker sets WEB_SWITCH_INTERVAL_MS (default 1 ms, CPython's own 5 ms) in its process, so a
    probe waits less for the lock behind computing page threads."""
    process, base = serve(health_lane=True, env={"WEB_SWITCH_INTERVAL_MS": setting} if setting else None)
    try:
        assert requests.get(f"{base}/switch-interval", timeout=10).text == expected
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_switch_interval_is_a_checked_setting():
    assert web_switch_interval_ms({}) == DEFAULT_SWITCH_INTERVAL_MS == 1.0
    assert web_switch_interval_ms({"WEB_SWITCH_INTERVAL_MS": " 5 "}) == 5.0
    for bad in ("0", "fast", "1000", "nan"):
        with pytest.raises(RunAppError) as refused:
            web_switch_interval_ms({"WEB_SWITCH_INTERVAL_MS": bad})
        assert str(refused.value) == MSG_BAD_SWITCH_INTERVAL.format(raw=bad)


def _kept_alive_answers(port: int, count: int) -> list[bytes]:
    """The Connection header of each answer to ``count`` requests sent one after another on one socket, until the
    server closes it."""
    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        reader = sock.makefile("rb")
        for _ in range(count):
            try:
                sock.sendall(b"GET /page HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            except OSError:
                break
            status = reader.readline()
            if not status:
                break
            headers = {}
            for line in iter(reader.readline, b"\r\n"):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip().lower()
            reader.read(int(headers["content-length"]))
            answers.append(headers.get("connection", "keep-alive"))
    return answers


@pytest.mark.parametrize(("setting", "served"), [(None, DEFAULT_KEEPALIVE_REQUESTS), ("3", 3)])
def test_a_kept_alive_connection_is_closed_after_its_last_request(setting, served):
    """The worker closes a connection after WEB_KEEPALIVE_REQUESTS answers (the last says so), so clients that
    keep their connections reconnect and spread over the processes; until then it stays open."""
    process, base = serve(health_lane=True, env={"WEB_KEEPALIVE_REQUESTS": setting} if setting else None)
    try:
        answers = _kept_alive_answers(int(base.rsplit(":", 1)[1]), served + 5)
        assert answers == ["keep-alive"] * (served - 1) + ["close"], answers
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_keepalive_request_limit_is_checked_before_the_server_starts():
    assert web_keepalive_requests({}) == DEFAULT_KEEPALIVE_REQUESTS == 20
    assert web_keepalive_requests({"WEB_KEEPALIVE_REQUESTS": " 7 "}) == 7
    for bad in ("0", "-1", "2.5", "many", "100001"):
        with pytest.raises(RunAppError) as refused:
            web_keepalive_requests({"WEB_KEEPALIVE_REQUESTS": bad})
        assert str(refused.value) == MSG_BAD_KEEPALIVE_REQUESTS.format(raw=bad)


def _pid_of(session: requests.Session, base: str) -> int:
    return int(session.get(f"{base}/pid", timeout=10).text)


def test_no_process_holds_more_than_its_share_of_connections_plus_one():
    """20 clients connect one after another to two gunicorn processes and keep their connections: whichever process
    wins each accept, neither holds more than ceil(20 / 2) + 1 = 11 (the stock worker let one take nearly all)."""
    process, base = serve(health_lane=True, workers=2, keep_alive=60)  # none closed while the others connect
    try:
        seen, deadline = set(), time.monotonic() + 60
        while len(seen) < 2 and time.monotonic() < deadline:  # both processes up (each answers on a connection)
            with requests.Session() as probe:
                seen.add(_pid_of(probe, base))
        assert len(seen) == 2, seen
        time.sleep(1.5)  # a process publishes its count at least once a second (gthread's poll timeout)
        sessions = [requests.Session() for _ in range(20)]
        held = [_pid_of(session, base) for session in sessions]
        counts = sorted(held.count(pid) for pid in set(held))
        assert len(counts) == 2 and counts[-1] <= 11, counts
        assert [_pid_of(session, base) for session in sessions] == held  # the connections were kept
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_process_may_hold_its_share_plus_one_and_some_process_always_accepts():
    assert connection_cap(0, [], 1000) == 1  # alone: always one more than it holds
    assert connection_cap(7, [], 1000) == 8
    assert connection_cap(6, [0], 1000) == 4  # 6 of 6 held: it stops, the other accepts
    assert connection_cap(0, [6], 1000) == 4
    assert connection_cap(30, [20], 1000) == 26 and connection_cap(20, [30], 1000) == 26
    assert connection_cap(30, [20], 10) == 10  # never above gunicorn's worker_connections
    for total in range(0, 60):
        for mine in range(total + 1):
            caps = [connection_cap(mine, [total - mine], 1000), connection_cap(total - mine, [mine], 1000)]
            assert mine < caps[0] or total - mine < caps[1], (mine, total)  # someone accepts the next one
