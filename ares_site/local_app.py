"""What a running `make run` serves, recorded in ``var/app.json`` so a plain shell follows it.

`run_app` writes the file (URL, port, broker, result backend and its own pid with the kernel's start time) before
its workers and web server start, and removes it when it stops. Settings read it when the environment names neither the
broker (REDIS_URL / CELERY_BROKER_URL) nor the address (SITE_URL / PORT), and only while the recorded `run_app`
still runs, so a stale file never points a command at an app that is gone. Plain Python: settings import it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ares_site.process_lifetime import process_start_time

APP_FILE_NAME = "app.json"
BROKER_VARIABLES = ("REDIS_URL", "CELERY_BROKER_URL")
ADDRESS_VARIABLES = ("SITE_URL", "PORT")


def app_record_write(*, path: Path, url: str, port: int, broker: str, result_backend: str) -> dict:
    pid = os.getpid()
    record = {
        "url": url,
        "port": port,
        "broker": broker,
        "result_backend": result_backend,
        "pid": pid,
        "start": process_start_time(pid),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump(record, handle)  # the broker URL may carry a password: readable by its owner only
    temporary.replace(path)
    return record


def app_record_remove(path: Path) -> None:
    """Remove the file if this process wrote it (a second run_app that refused to start leaves the first's)."""
    record = app_record_read(path, live_only=False)
    if record is not None and record.get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def app_record_read(path: Path | str, *, live_only: bool = True) -> dict | None:
    """The record at `path`; None when there is none, it does not parse, or (live_only) its run_app has ended."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("pid"), int):
        return None
    if live_only and (record.get("start") is None or process_start_time(record["pid"]) != record["start"]):
        return None
    return record


def app_defaults(path: Path | str | None, environ: dict) -> dict:
    """The settings a plain shell takes from the running app: REDIS_URL, CELERY_BROKER_URL, CELERY_RESULT_BACKEND
    when the environment names no broker, SITE_URL when it names no address (each group on its own)."""
    record = app_record_read(path) if path else None
    if record is None:
        return {}
    defaults = {}
    if not any(environ.get(name) for name in BROKER_VARIABLES):
        defaults.update(
            REDIS_URL=record["broker"],
            CELERY_BROKER_URL=record["broker"],
            CELERY_RESULT_BACKEND=record.get("result_backend") or record["broker"],
        )
    if not any(environ.get(name) for name in ADDRESS_VARIABLES):
        defaults["SITE_URL"] = record["url"]
    return defaults
