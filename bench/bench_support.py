"""What every bench prints beside its figures: the load average, a database with planner statistics (``ANALYZE``
after populating), and A/B timings interleaved in one process so a loaded machine slows both sides alike."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def analyze(connection) -> float:
    """Planner statistics after a bulk insert (PostgreSQL ``VACUUM ANALYZE``, SQLite ``ANALYZE``); seconds taken."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return time.perf_counter() - started


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[int(0.95 * (len(ordered) - 1))]


def interleaved(cases: dict[str, Callable[[], object]], repetitions: int) -> dict[str, list[float]]:
    """Milliseconds per call of each case, the cases called in turn (A, B, A, B, …) after one warm-up call each."""
    for call in cases.values():
        call()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repetitions):
        for name, call in cases.items():
            started = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def report(samples: dict[str, list[float]], *, reference: str | None = None, width: int = 44) -> None:
    """p50 / p95 per case, the p50 ratio to ``reference`` (first case by default) and the load average."""
    reference = reference or next(iter(samples))
    base = statistics.median(samples[reference])
    for name, values in samples.items():
        median = statistics.median(values)
        print(
            f"  {name:<{width}} p50 {median:8.2f} ms  p95 {p95(values):8.2f} ms  "
            f"x{median / base:5.2f} vs {reference[:24]!r}  {load()}"
        )
