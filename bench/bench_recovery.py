"""Recovery and health figures of `make run`'s process tree (run_app with one worker, its persistent embedded Redis
and gunicorn) in a temporary SQLite database, training on the offline sample. Prints:

1. Redis SIGKILL while run A (smoke) trains and run B (tiny) waits in the queue: seconds until Redis answers
   again with B's message still queued, until A finishes, until B starts, and B's pickup delay after A.
2. Redis SIGKILL with the worker idle: seconds from the SIGKILL until run D, launched as soon as Redis answers
   again, is running (the worker has reconnected and taken it).
3. `/healthz`: first answer, then median / p95 / max of BENCH_HEALTH_REQUESTS sequential requests.

Run it under the shared lock: `flock /work/heavy.lock .venv/bin/python bench/bench_recovery.py`.
"""

import os
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="ares-bench-recovery-"))


def free_port() -> int:
    from ares_site.embedded_redis import free_port as pick

    return pick()


REDIS_PORT = free_port()
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
STATE = TMP / "state"
STATE.mkdir()
os.environ.update(
    DATABASE_URL=f"sqlite:///{STATE}/db.sqlite3",
    SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    HTTPS="0",
    ARTIFACTS_DIR=str(TMP / "artifacts"),
    STATIC_ROOT=str(TMP / "static"),
    REDIS_URL=REDIS_URL,
    CELERY_BROKER_URL=REDIS_URL,
    CELERY_RESULT_BACKEND=REDIS_URL,
    DJANGO_SETTINGS_MODULE="ares_site.settings",
    LOG_LEVEL="WARNING",
    ADMIN_PASSWORD="bench-admin-pw-123",
    ENV_FILE=str(TMP / "empty.env"),
    WORKERS="1",
)
(TMP / "empty.env").write_text("")
HEALTH_REQUESTS = int(os.environ.get("BENCH_HEALTH_REQUESTS", 200))

import django  # noqa: E402

django.setup()

from tests.reliability.supervised_app import SupervisedApp  # noqa: E402
from training.models import TrainingRun  # noqa: E402
from training.services.runs import training_run_create  # noqa: E402

SYMBOL = "BTCUSDT"  # the offline sample run_app loads


def wait(predicate, timeout: float = 300, step: float = 0.05) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(step)
    raise SystemExit(f"timed out after {timeout} s")


def status(run_id: int) -> str:
    return TrainingRun.objects.values_list("status", flat=True).get(pk=run_id)


def redis_holds(task_id: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.2, socket_timeout=0.5)
        return any(task_id.encode() in raw for raw in client.lrange("training", 0, -1))
    except (redis.RedisError, OSError):
        return False


def health_times(base: str) -> list[float]:
    times = []
    for _ in range(HEALTH_REQUESTS):
        started = time.perf_counter()
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
            assert response.status == 200
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    app = SupervisedApp(state_dir=STATE, redis_port=REDIS_PORT, port=free_port())
    app.env["LOG_LEVEL"] = "WARNING"
    try:
        started = time.monotonic()
        app.start()
        print(f"run_app up in {time.monotonic() - started:.1f} s (WORKERS=1)")
        base = f"http://127.0.0.1:{app.port}"

        a = training_run_create(profile=None, symbol=SYMBOL, preset="smoke")
        wait(lambda: status(a.pk) == "running")
        b = training_run_create(profile=None, symbol=SYMBOL, preset="tiny")
        wait(lambda: redis_holds(b.celery_task_id))
        time.sleep(0.2)
        app.child(contains="redis-server").send_signal(signal.SIGKILL)
        killed = time.monotonic()
        back = wait(lambda: redis_holds(b.celery_task_id))
        a_done = wait(lambda: status(a.pk) in TrainingRun.TERMINAL)
        b_running = wait(lambda: status(b.pk) != "queued")
        wait(lambda: status(b.pk) in TrainingRun.TERMINAL)
        print("1. Redis SIGKILL with run A (smoke) training and run B (tiny) queued:")
        print(f"   Redis answering again with B's message still queued: {back - killed:.2f} s after the SIGKILL")
        print(
            f"   A finished {a_done - killed:.1f} s after the SIGKILL ({status(a.pk)}); B left the queue after "
            f"{b_running - killed:.1f} s = {b_running - a_done:.2f} s after A ({status(b.pk)})"
        )

        app.child(contains="redis-server").send_signal(signal.SIGKILL)
        killed = time.monotonic()
        wait(_redis_up)
        d = None
        while d is None:
            try:
                d = training_run_create(profile=None, symbol=SYMBOL, preset="tiny")
            except Exception:
                time.sleep(0.05)
        d_running = wait(lambda: status(d.pk) != "queued")
        wait(lambda: status(d.pk) in TrainingRun.TERMINAL)
        print("2. Redis SIGKILL with the worker idle, run D launched as soon as Redis answers:")
        print(f"   D started {d_running - killed:.2f} s after the SIGKILL ({status(d.pk)})")

        first_started = time.perf_counter()
        urllib.request.urlopen(f"{base}/healthz", timeout=10).read()
        first = (time.perf_counter() - first_started) * 1000
        times = health_times(base)
        p95 = statistics.quantiles(times, n=20)[18]
        print(
            f"3. /healthz over {len(times)} sequential requests (2 gunicorn workers): first {first:.0f} ms, "
            f"median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, max {max(times):.0f} ms"
        )
    finally:
        app.close()


def _redis_up() -> bool:
    from ares_site.embedded_redis import redis_answers

    return redis_answers(REDIS_URL, timeout=0.2)


if __name__ == "__main__":
    main()
