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

Used by `make run` (`--worker-class ares_site.gunicorn_worker.HealthLaneThreadWorker`, see local_run.web_command).
"""

from __future__ import annotations

import os
import selectors
import socket
import sys
import time
from concurrent import futures
from functools import partial

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
