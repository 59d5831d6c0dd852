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


def _cases(expression: str, values: list) -> str:
    """SQL choosing ``values[expression % len(values)]`` (values are numbers, None or plain identifiers' strings)."""
    quoted = [
        "NULL" if v is None else repr(v) if isinstance(v, (int, float)) else "'" + str(v).replace("'", "''") + "'"
        for v in values
    ]
    whens = " ".join(f"WHEN {i} THEN {v}" for i, v in enumerate(quoted))
    return f"(CASE ({expression}) % {len(values)} {whens} END)"


def copy_rows(connection, model, template_pk: int, count: int, varying: dict[str, list]) -> float:
    """``count`` copies of one stored row of ``model``, made by the database itself in one statement
    (``INSERT … SELECT`` over ``generate_series`` on PostgreSQL, a recursive CTE on SQLite): row i takes
    ``varying[column][f(i) % len]`` for each varying column (``f(i) = i`` unless the column is given as
    ``(step, values)``, then ``i // step``), a unique ``artifacts_key`` and a creation time i seconds before the
    template's, so the list's order is the insertion order reversed. 1,000,000 runs take seconds, not the minutes
    of ``bulk_create``. Seconds taken."""
    started = time.perf_counter()
    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    postgres = connection.vendor == "postgresql"
    exprs = []
    for column in columns:
        spec = varying.get(column)
        if spec is not None:
            step, values = spec if isinstance(spec, tuple) else (1, spec)
            exprs.append(_cases(f"s.i / {step}" if step > 1 else "s.i", values))
        elif column == "created_at":
            exprs.append(
                "t.created_at - s.i * interval '1 second'"
                if postgres
                else "strftime('%Y-%m-%d %H:%M:%f', t.created_at, '-' || s.i || ' seconds')"
            )
        elif column == "artifacts_key":
            exprs.append("md5('bench' || s.i::text)::uuid" if postgres else "printf('%032x', s.i + 4294967296)")
        else:
            exprs.append(f"t.{connection.ops.quote_name(column)}")
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    if postgres:
        sql = (
            f"INSERT INTO {table} ({names}) SELECT {', '.join(exprs)} FROM generate_series(1, {int(count)}) AS s(i), "
            f"{table} t WHERE t.id = {int(template_pk)}"
        )
    else:
        sql = (
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {int(count)}) "
            f"INSERT INTO {table} ({names}) SELECT {', '.join(exprs)} FROM s, {table} t WHERE t.id = {int(template_pk)}"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql)  # no parameters: the statement's % signs are SQL's own
    return time.perf_counter() - started


def copy_runs(template, count: int) -> None:
    """``count`` copies of a real finished run (every 7th failed): the operations benches' run table."""
    from training.models import TrainingRun

    fields = {
        f.attname: getattr(template, f.attname)
        for f in TrainingRun._meta.concrete_fields
        if f.name not in ("id", "artifacts_key", "status")
    }
    copies = [TrainingRun(**fields, status="succeeded" if i % 7 else "failed") for i in range(count)]
    TrainingRun.objects.bulk_create(copies, batch_size=500)
