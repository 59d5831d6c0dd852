"""Runs over several Celery workers and sweeps, on the offline sample, in a temporary SQLite database with an
embedded Redis and real `celery worker` processes (concurrency 1 each), started warm as ``make run`` starts them
(``WORKER_WARM_IMPORTS=1``; set it to 0 for cold workers). Prints:

- ``quick`` with 1 worker (the plain run) and with 2 workers (``TRAINING_REGIME_TASKS``: the run's regimes as
  parts both workers take): wall time, sum of fit seconds, wall / sum of fits;
- a 9-point ``smoke`` grid sweep (l1_alpha × dropout_rate) with 2 workers: wall time;
- the peak resident memory of each worker (its main process plus pool process, sampled every 0.5 s).

Run it under the machine's lock: ``flock /work/heavy.lock .venv/bin/python bench/bench_sweeps.py [quick|sweep]``.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="ares-bench-sweeps-"))
os.environ["DATABASE_URL"] = f"sqlite:///{TMP}/bench.sqlite3"
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ["HTTPS"] = "0"
os.environ["ARTIFACTS_DIR"] = str(TMP / "artifacts")
os.environ["STATIC_ROOT"] = str(TMP / "static")
os.environ["DJANGO_SETTINGS_MODULE"] = "ares_site.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")

from ares_site.embedded_redis import start_embedded_redis  # noqa: E402
from ares_site.worker_command import worker_command  # noqa: E402

REDIS = start_embedded_redis(directory=TMP / "redis")
os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = os.environ["CELERY_RESULT_BACKEND"] = REDIS.url

import django  # noqa: E402

django.setup()

import psutil  # noqa: E402
from django.core.management import call_command  # noqa: E402

POLL = 0.5  # memory samples and the sweep's status
RUN_POLL = 0.05  # a run's end: its wall time is the run's, not up to half a second of this loop's sleep


class Worker:
    def __init__(self, name: str, regime_tasks: bool) -> None:
        self.name = f"bench-{name}-{uuid.uuid4().hex[:6]}@%h"
        env = {**os.environ, "TRAINING_REGIME_TASKS": "1" if regime_tasks else "0"}
        env.setdefault("WORKER_WARM_IMPORTS", "1")  # as ``make run`` starts its workers (set it to 0 for cold)
        self.warm = env["WORKER_WARM_IMPORTS"] == "1"
        if self.warm:
            env["LOG_LEVEL"] = "INFO"  # the pool process logs its warm import at INFO: wait_ready reads it
        self.log_path = TMP / f"{name}.log"
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            worker_command(hostname=self.name, loglevel="INFO" if self.warm else "WARNING"),
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.peak = 0
        self._done = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._done.wait(POLL):
            try:
                parent = psutil.Process(self.process.pid)
                rss = parent.memory_info().rss + sum(c.memory_info().rss for c in parent.children(recursive=True))
                self.peak = max(self.peak, rss)
            except psutil.Error:
                pass

    def stop(self) -> None:
        self._done.set()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def is_warm(worker: Worker) -> bool:
    """A warm worker's pool process has logged that it imported the training libraries (a run sent earlier would
    wait in the queue for that import, and count it as the run's wall time)."""
    from training.tasks import MSG_WARM_IMPORTS

    return not worker.warm or MSG_WARM_IMPORTS.split("{")[0] in worker.log_path.read_text(errors="replace")


def wait_ready(workers) -> None:
    from ares_site.celery import app

    names = {w.name.replace("%h", __import__("socket").gethostname()) for w in workers}
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        if names <= {name for reply in replies for name in reply} and all(is_warm(w) for w in workers):
            return
    raise SystemExit("workers did not start")


def with_workers(count: int, regime_tasks: bool, job):
    from django.conf import settings

    settings.TRAINING_REGIME_TASKS = regime_tasks  # runs record the split at launch, in this process
    workers = [Worker(chr(ord("a") + i), regime_tasks) for i in range(count)]
    try:
        wait_ready(workers)
        return job(), [w.peak for w in workers]
    finally:
        for w in workers:
            w.stop()


def wait_run(run_id: int):
    from training.models import TrainingRun

    while True:
        run = TrainingRun.objects.get(pk=run_id)
        if run.is_terminal:
            return run
        time.sleep(RUN_POLL)


def quick_run():
    from training.services.runs import training_run_create

    started = time.perf_counter()
    launched = training_run_create(profile=None, symbol="BTCUSDT", preset="quick")
    launch = time.perf_counter() - started
    run = wait_run(launched.pk)
    wall = time.perf_counter() - started
    assert run.status == "succeeded", (run.error, run.traceback)
    timings = run.result["timings"]
    workers = sorted({s.get("worker") or run.worker for s in run.result["ensembles"].values()})
    queued = (run.started_at - run.created_at).total_seconds()
    outside = (run.finished_at - run.started_at).total_seconds() - timings["wall_seconds"]
    stages = ", ".join(f"{k} {v:.1f}" for k, v in timings["stages"].items() if v >= 0.05)
    print(
        f"  launch call {launch:.2f} s, queued {queued:.1f} s, in the worker outside the engine {outside:.1f} s, "
        "after the run ended "
        f"{wall - (run.finished_at - run.created_at).total_seconds():.1f} s; engine stages (s): {stages}"
    )
    return wall, timings["fit_seconds_total"], timings["wall_seconds"], workers


def grid_sweep():
    from training.selectors.sweeps import sweep_status
    from training.services.sweeps import sweep_create, sweep_reconcile

    started = time.perf_counter()
    sweep = sweep_create(
        profile=None, symbol="BTCUSDT", preset="smoke", axes=["l1_alpha=1e-4:1:3", "dropout_rate=0,0.25,0.5"]
    )
    while True:
        sweep = sweep_reconcile(sweep=sweep)
        status = sweep_status(sweep=sweep)
        if status["active"] == 0 and status["pending"] == 0:
            break
        time.sleep(POLL)
    return time.perf_counter() - started, status, sweep


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def mib(value: int) -> str:
    return f"{value / 2**20:.0f} MiB"


def main(which: str) -> None:
    call_command("migrate", verbosity=0)
    call_command("load_default_profile", verbosity=0)
    call_command("load_sample_data", verbosity=0)
    print(f"cpu cores: {os.cpu_count()}; database: SQLite; artifacts in {TMP}; load average {load()}")
    if which in ("all", "quick"):
        for count, regime_tasks in ((1, False), (2, True)):
            (wall, fits, engine_wall, workers), peaks = with_workers(count, regime_tasks, quick_run)
            print(
                f"quick, {count} worker(s){' (regime parts)' if regime_tasks else ''}: wall {wall:.1f} s "
                f"(engine {engine_wall:.1f} s), sum of fits {fits:.1f} s, wall / sum of fits {wall / fits:.2f}; "
                f"regimes trained on {len(workers)} worker(s); peak memory {', '.join(mib(p) for p in peaks)}; "
                f"load average {load()}"
            )
    if which in ("all", "sweep"):
        (wall, status, sweep), peaks = with_workers(2, False, grid_sweep)
        print(
            f"smoke grid sweep, 9 points, 2 workers: wall {wall:.1f} s; {status['status']}: {status['detail']}; "
            f"best {sweep.best_point.values if sweep.best_point else None}; peak memory "
            f"{', '.join(mib(p) for p in peaks)}; load average {load()}"
        )


if __name__ == "__main__":
    try:
        main(sys.argv[1] if len(sys.argv) > 1 else "all")
    finally:
        REDIS.stop()
