"""/healthz beside computing pages, by interpreter switch interval: one real gunicorn process of the health-lane
worker (WEB_THREADS page threads) serving tests/ares_site/slow_pages_wsgi.py, whose `/spin` computes SPIN_SECONDS
(20 ms) of CPU like a page; BENCH_CLIENTS (8) clients keep every page thread busy while one prober asks /healthz
in a loop. The variants (WEB_SWITCH_INTERVAL_MS 5 = CPython's default, and 1 = the worker's default) run in turn,
BENCH_ROUNDS (2) times BENCH_SECONDS (15) each, so a loaded machine slows both alike. Prints per variant and round
pages/s and /healthz p50/p95/p99 beside the load average.
    flock /work/heavy.lock .venv/bin/python bench/bench_health_lane.py"""

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ares_site.embedded_redis import free_port  # noqa: E402
from ares_site.local_run import web_command  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_CLIENTS", 8))
SECONDS = float(os.environ.get("BENCH_SECONDS", 15))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2))
THREADS = int(os.environ.get("WEB_THREADS", 4))
VARIANTS = [v.strip() for v in os.environ.get("BENCH_VARIANTS", "5,1").split(",")]


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def measure(switch_ms: str) -> str:
    port = free_port()
    command = web_command(port=port, workers=1, threads=THREADS)
    command[command.index("ares_site.wsgi:application")] = "tests.ares_site.slow_pages_wsgi:application"
    env = {"PATH": "/usr/bin:/bin", "WEB_SWITCH_INTERVAL_MS": switch_ms, "SPIN_SECONDS": "0.02"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert requests.get(f"{base}/switch-interval", timeout=2).text == f"{float(switch_ms):g}"
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        stop = time.monotonic() + SECONDS
        pages, probes = [0], []

        def client():
            own = requests.Session()
            while time.monotonic() < stop:
                own.get(f"{base}/spin", timeout=30)
                pages[0] += 1

        def prober():
            own = requests.Session()
            while time.monotonic() < stop:
                t = time.perf_counter()
                own.get(f"{base}/healthz", timeout=30)
                probes.append((time.perf_counter() - t) * 1000)
                time.sleep(0.02)

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)] + [threading.Thread(target=prober)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        return (
            f"switch {switch_ms:>3} ms: pages {pages[0] / SECONDS:6.1f}/s  /healthz n={len(probes)} p50 "
            f"{statistics.median(probes):6.1f} ms  p95 {percentile(probes, 0.95):6.1f} ms  p99 "
            f"{percentile(probes, 0.99):6.1f} ms  load {load()}"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    print(f"{CLIENTS} clients on {THREADS} page threads, 20 ms CPU a page, {SECONDS:g} s a run; load {load()}")
    for round_ in range(1, ROUNDS + 1):
        for variant in VARIANTS:
            print(f"round {round_}  {measure(variant)}", flush=True)


if __name__ == "__main__":
    main()
