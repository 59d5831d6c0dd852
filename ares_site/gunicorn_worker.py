"""gunicorn's threaded worker (gthread) with a lane of its own for `/healthz`.

Stock gthread hands every readable connection to one thread pool in arrival order, so under load a health probe
waits behind every page queued before it (measured: `/healthz` p95 2.2 s at 50 clients). This worker peeks at
the first bytes a connection sent (MSG_PEEK: nothing is consumed, the stock parser reads the request as usual)
and hands `GET /healthz` / `HEAD /healthz` to a small pool of its own (HEALTH_THREADS threads), everything else
to the stock pool of `--threads`. A brand-new connection that has sent nothing yet waits in the worker's poller
(gthread's own pending list, not a thread) until its first bytes arrive, so a load balancer's probe on a fresh
connection gets the lane too. The same port answers both: nothing for an operator to configure.

A lane thread still needs the interpreter lock, held by page threads that compute: CPython hands it over every
``sys.getswitchinterval()`` (5 ms), and a probe takes it a dozen times (each database or Redis round trip gives it
up), each wait up to one interval per busy page thread. The worker sets the interval to WEB_SWITCH_INTERVAL_MS
(default 1 ms), so a probe waits a fifth as long behind pages; pages pay a little more switching.

A kept-alive connection is closed after WEB_KEEPALIVE_REQUESTS (default 20) requests ("Connection: close" on the
last answer), as nginx closes after ``keepalive_requests``: the client reconnects, and the process that accepts the
new connection first is the one whose main thread is free, the less busy one. Without it, clients that keep their
connections stay where the start-up burst put them (bench_operations: 42 of 50 on one of the two processes, whose
clients then waited about five times as long as the other's).

Each process also accepts new connections only while it holds at most its share of all the processes' connections
plus one (``ceil(total / processes) + 1``; the counts sit in shared memory made before gunicorn forks its workers):
whichever process wakes first wins an accept, and without a cap that was often the same one. With recycled
connections, the share moves back to an even split within a few requests per client.

Used by `make run` (`--worker-class ares_site.gunicorn_worker.HealthLaneThreadWorker`, see local_run.web_command).
"""

from __future__ import annotations

import math
import os
import selectors
import socket
import sys
import time
from concurrent import futures
from functools import partial
from multiprocessing.sharedctypes import RawArray

from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT, ThreadWorker

HEALTH_REQUEST_STARTS = (b"GET /healthz ", b"GET /healthz?", b"HEAD /healthz ", b"HEAD /healthz?")
PEEK_BYTES = max(len(start) for start in HEALTH_REQUEST_STARTS)


def health_threads() -> int:
    raw = (os.environ.get("WEB_HEALTH_THREADS") or "").strip()
    return int(raw) if raw.isdigit() and int(raw) >= 1 else 2


DEFAULT_SWITCH_INTERVAL_MS = 1.0
MSG_BAD_SWITCH_INTERVAL = "WEB_SWITCH_INTERVAL_MS must be a number of milliseconds from 0.1 to 100, not {raw!r}."


def switch_interval_ms(environ=None) -> float:
    """WEB_SWITCH_INTERVAL_MS (default 1; CPython's own is 5): how often a busy thread hands the interpreter lock
    over. Raises ValueError (MSG_BAD_SWITCH_INTERVAL) for anything but a number from 0.1 to 100."""
    raw = ((os.environ if environ is None else environ).get("WEB_SWITCH_INTERVAL_MS") or "").strip()
    if not raw:
        return DEFAULT_SWITCH_INTERVAL_MS
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0.1 <= value <= 100:
        raise ValueError(MSG_BAD_SWITCH_INTERVAL.format(raw=raw))
    return value


SLOTS = 64  # worker processes a server shares its connection counts among (by gunicorn's worker age)
# Made at import, i.e. in gunicorn's master, which loads the worker class before it forks the workers: every worker
# of one server shares them. Per slot: the worker's pid (0: free) and how many connections it holds.
_PIDS, _CONNECTIONS = RawArray("i", SLOTS), RawArray("i", SLOTS)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def connection_cap(own: int, others: list[int], configured: int) -> int:
    """Connections a process may hold before it stops accepting: its share of all the processes' (``own`` and
    ``others``) plus one, never above ``configured`` (gunicorn's ``worker_connections``). The caps add up to more
    than the total, so some process always accepts."""
    total, processes = own + sum(others), 1 + len(others)
    return min(configured, math.ceil(total / processes) + 1)


DEFAULT_KEEPALIVE_REQUESTS = 20
MSG_BAD_KEEPALIVE_REQUESTS = "WEB_KEEPALIVE_REQUESTS must be a whole number of requests from 1 to 100000, not {raw!r}."


def keepalive_requests(environ=None) -> int:
    """WEB_KEEPALIVE_REQUESTS (default 20): requests a kept-alive connection serves before the worker closes it.
    Raises ValueError (MSG_BAD_KEEPALIVE_REQUESTS) for anything but a whole number from 1 to 100000."""
    raw = ((os.environ if environ is None else environ).get("WEB_KEEPALIVE_REQUESTS") or "").strip()
    if not raw:
        return DEFAULT_KEEPALIVE_REQUESTS
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise ValueError(MSG_BAD_KEEPALIVE_REQUESTS.format(raw=raw))
    return int(raw)


def is_health_request(head: bytes | None) -> bool:
    return bool(head) and head.startswith(HEALTH_REQUEST_STARTS)


class HealthLaneThreadWorker(ThreadWorker):
    @property
    def worker_connections(self) -> int:
        """gthread reads this once per pass of its loop to decide whether to accept: publishes this process's
        connection count and answers its cap (``connection_cap``)."""
        slot, pid = self.age % SLOTS, os.getpid()
        _PIDS[slot], _CONNECTIONS[slot] = pid, self.nr_conns
        others = [_CONNECTIONS[i] for i in range(SLOTS) if i != slot and _PIDS[i] not in (0, pid) and _alive(_PIDS[i])]
        return connection_cap(self.nr_conns, others, self._configured_connections)

    @worker_connections.setter
    def worker_connections(self, value: int) -> None:
        self._configured_connections = value

    def run(self):
        try:
            super().run()
        finally:  # this process's slot is free again (a dead process's slot is skipped: ``_alive``)
            if _PIDS[self.age % SLOTS] == os.getpid():
                _PIDS[self.age % SLOTS] = 0

    def init_process(self):
        sys.setswitchinterval(switch_interval_ms() / 1000)
        self.health_pool = futures.ThreadPoolExecutor(max_workers=health_threads(), thread_name_prefix="healthz")
        self.keepalive_requests = keepalive_requests()
        super().init_process()

    def handle_request(self, req, conn):
        """gthread's own, closing the connection after its ``keepalive_requests``-th request (module docstring)."""
        conn.requests_served = getattr(conn, "requests_served", 0) + 1
        if conn.requests_served >= self.keepalive_requests:
            req.force_close()
        return super().handle_request(req, conn)

    def handle_quit(self, sig, frame):
        self.health_pool.shutdown(wait=False)
        super().handle_quit(sig, frame)

    @staticmethod
    def _peek(conn) -> bytes | None:
        """The connection's first unread bytes, None when it has sent nothing yet (never blocks)."""
        try:
            return conn.sock.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return b""  # reset or closed: the stock path reads it and closes the connection

    def enqueue_req(self, conn):
        buffered = conn.parser is not None and conn.parser.unreader.buf.getvalue()
        head = None if buffered else self._peek(conn)
        if head is None and not buffered and not conn.initialized and not conn.data_ready:
            self._wait_for_first_bytes(conn)
            return
        pool = self.health_pool if is_health_request(head) else self.tpool
        future = pool.submit(self.handle, conn)
        future.add_done_callback(lambda done: self.method_queue.defer(self.finish_request, conn, done))

    def _wait_for_first_bytes(self, conn):
        """In the poller like gthread's deferred connections; dropped after the stock budget (the data wait of
        a pool thread plus the keep-alive timeout) when nothing arrives."""
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + DEFAULT_WORKER_DATA_TIMEOUT + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))
