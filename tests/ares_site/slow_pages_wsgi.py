"""A WSGI app for the gunicorn worker test: `/slow` holds its thread for SLOW_SECONDS, `/healthz` answers at once.
The worker under test is gunicorn's real process; only the pages behind it are this small."""

import os
import time

SLOW_SECONDS = float(os.environ.get("SLOW_SECONDS", "3"))


def application(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(SLOW_SECONDS)
    body = environ["PATH_INFO"].encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
