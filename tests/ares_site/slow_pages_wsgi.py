"""A WSGI app for the gunicorn worker test: `/slow` holds its thread for SLOW_SECONDS, `/healthz` answers at once,
`/switch-interval` answers the process's interpreter switch interval in milliseconds, `/pid` the process's id,
`/spin` computes for
SPIN_SECONDS of CPU (a page's work, for bench/bench_health_lane.py).
The worker under test is gunicorn's real process; only the pages behind it are this small."""

import os
import sys
import time

SLOW_SECONDS = float(os.environ.get("SLOW_SECONDS", "3"))
SPIN_SECONDS = float(os.environ.get("SPIN_SECONDS", "0.02"))


def application(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(SLOW_SECONDS)
    if environ["PATH_INFO"] == "/spin":
        until = time.thread_time() + SPIN_SECONDS
        while time.thread_time() < until:
            sum(range(200))
    body = environ["PATH_INFO"].encode()
    if environ["PATH_INFO"] == "/switch-interval":
        body = f"{sys.getswitchinterval() * 1000:g}".encode()
    if environ["PATH_INFO"] == "/pid":
        body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
