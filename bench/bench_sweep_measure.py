"""Issue 20's measurement: sweeps on real Celery workers, with the evidence a quant would sign.

On the offline sample (``quick`` by default), in a temporary SQLite database with an embedded Redis and real
``celery worker`` processes (concurrency 1 each, ``--workers`` of them):

1. the default profile's own run and what the regularization advisor suggests for it;
2. a log sweep of ``sklearn.alpha`` and one of ``lightgbm.reg_lambda`` (``--points`` values each, ``--seeds``
   seeds per value): wall time, per-backend curves (per regime and point: validation log loss mean, its 95 %
   interval, the seeds' spread), best vs runner-up and vs least regularized (validation), best vs least regularized
   on the held-out test block with its interval, PBO;
3. a sweep around the advisor's first suggestion (its own pre-filled axis, "sweep around this") and whether that
   sweep confirms it;
4. with ``--es-off``: the ``lightgbm.reg_lambda`` sweep again with ``lightgbm.early_stopping=off`` (L2 alone).

Each figure is printed with the load average beside it, as soon as it is measured (stdout is flushed).

    .venv/bin/python bench/bench_sweep_measure.py                          # the issue's measurement (long)
    .venv/bin/python bench/bench_sweep_measure.py --preset tiny --points 2 --seeds 1 --stages alpha   # smoke
    .venv/bin/python bench/bench_sweep_measure.py --report-db /tmp/ares-bench-…/bench.sqlite3 --report-sweep 1

``--report-db``/``--report-sweep`` print the figures of a sweep of a (still running) bench's database from the
points finished so far (complete value groups only; reads, writes nothing).
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="ares-bench-sweep-measure-"))
REPORT_DB = sys.argv[sys.argv.index("--report-db") + 1] if "--report-db" in sys.argv else None
os.environ["DATABASE_URL"] = f"sqlite:///{REPORT_DB or f'{TMP}/bench.sqlite3'}"
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ["HTTPS"] = "0"
# Whole runs per worker: since runs record the split at launch (snapshot "regime_tasks"), this process decides it.
os.environ.setdefault("TRAINING_REGIME_TASKS", "0")
os.environ["ARTIFACTS_DIR"] = str(TMP / "artifacts")
os.environ["STATIC_ROOT"] = str(TMP / "static")
os.environ["DJANGO_SETTINGS_MODULE"] = "ares_site.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ares_site.embedded_redis import start_embedded_redis  # noqa: E402
from ares_site.worker_command import worker_command  # noqa: E402

REDIS = start_embedded_redis(directory=TMP / "redis")
os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = os.environ["CELERY_RESULT_BACKEND"] = REDIS.url

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench.bench_support import load  # noqa: E402

POLL = 2.0


def say(text: str) -> None:
    print(f"{text}  [{load()}]", flush=True)


class Worker:
    def __init__(self, name: str) -> None:
        self.name = f"bench-{name}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
        self.log = open(TMP / f"worker-{name}.log", "ab")
        self.process = subprocess.Popen(
            worker_command(hostname=self.name, loglevel="WARNING"),
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def wait_ready(workers) -> None:
    from ares_site.celery import app

    names = {w.name for w in workers}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        if names <= {name for reply in replies for name in reply}:
            return
    raise SystemExit("workers did not start")


def wait_run(run_id: int):
    from training.models import TrainingRun

    while True:
        run = TrainingRun.objects.get(pk=run_id)
        if run.is_terminal:
            return run
        time.sleep(POLL)


def run_sweep(label: str, *, profile, preset: str, axes: list[str], seeds: int, objective_model=None):
    from training.selectors.sweeps import sweep_status
    from training.services.sweeps import sweep_create, sweep_reconcile

    started = time.perf_counter()
    sweep = sweep_create(
        profile=profile, symbol="BTCUSDT", preset=preset, axes=axes, seeds=seeds, objective_model=objective_model
    )
    say(f"{label}: sweep #{sweep.pk} {axes}, {seeds} seed(s), objective {sweep.objective_text}")
    while True:
        sweep = sweep_reconcile(sweep=sweep)
        status = sweep_status(sweep=sweep)
        if status["active"] == 0 and status["pending"] == 0:
            break
        time.sleep(POLL)
    wall = time.perf_counter() - started
    say(f"{label}: {status['status']} ({status['detail']}) in wall {wall:.0f} s")
    return sweep, report_sweep(label, sweep)


def band(c: dict) -> str:
    return f"{c['validation_log_loss']:.4f} [{c['band'][0]:.4f}, {c['band'][1]:.4f}] sd {c['seed_spread']:.4f}"


def report_sweep(label: str, sweep) -> dict:
    from training.selectors.sweep_evidence import evidence_lines, sweep_evidence, sweep_mechanism
    from training.selectors.sweeps import sweep_points
    from training.selectors.trading import sweep_trading

    points = sweep_points(sweep=sweep)
    evidence = sweep_evidence(sweep=sweep, points=points)
    reached = sorted({key for axis in sweep.axes for key in axis.get("reaches", [])})
    print(f"  {label}: per-backend curves (validation log loss mean [95 % interval] seed sd; gap):", flush=True)
    for group in sorted(evidence["groups"], key=lambda g: g["index"]):
        if not group["complete"]:
            done = sum(1 for p in group["points"] if p.recorded)
            state = "left out: a run failed or was cancelled" if group["failed"] else "not finished"
            print(
                f"    {group['values']}: incomplete, {done} of {len(group['points'])} run(s) recorded ({state})",
                flush=True,
            )
            continue
        print(
            f"    {group['values']}: objective {group['objective']:.5f} (seed sd {group['objective_seed_sd']:.5f})",
            flush=True,
        )
        for regime, models in sorted(group.get("curves", {}).items()):
            cells = [
                f"{model} {band(c)} gap {c['gap']:+.3f}" if c.get("gap") is not None else f"{model} {band(c)}"
                for model, c in sorted(models.items())
                if model in reached or model == evidence["model"]
            ]
            print(f"      {regime}: " + "; ".join(cells), flush=True)
    for line in evidence_lines(evidence):
        say(f"  {label}: {line}")
    for line in sweep_mechanism(sweep=sweep, points=points):
        say(f"  {label}: mechanism: {line}")
    pbo = sweep_trading(sweep=sweep, points=points)["pbo"]
    shown = pbo.get("pbo") if isinstance(pbo, dict) else pbo
    say(f"  {label}: PBO {shown if shown is not None else (pbo or {}).get('error') or pbo}")
    return evidence


def confirms(advice: dict, sweep, evidence: dict) -> str:
    """Whether the sweep around a suggestion confirms it: the best point lies on the suggested side of the current
    value and beats the current value's point with an interval that excludes 0 (``no effect``: no point differs)."""
    from training.ml.sweep_evidence import NO_EVIDENCE

    param = sweep.params[0]
    current = advice["current"]
    best = evidence["best"]
    if best is None:
        return "no finished point"
    if advice["direction"] == "no effect":
        return "confirmed: no point differs" if evidence["no_evidence"] else f"not confirmed: {evidence['verdict']}"
    best_value = best["values"][param]
    vs_current = next(
        (c for c in evidence["vs_others"] if abs(c["other_values"][param] - current) <= 1e-9 * max(current, 1)), None
    )
    side = best_value > current if advice["direction"] == "stronger" else best_value < current
    if best_value == current:
        return f"not confirmed: the current value {current:g} is the best point"
    if not side:
        return f"not confirmed: the best point {best_value:g} is on the other side of {current:g}"
    if vs_current is None:
        return f"inconclusive: best {best_value:g} on the suggested side; {current:g} is not a swept point"
    text = (
        f"{vs_current['difference']:+.5f} [{vs_current['ci95_low']:+.5f}, {vs_current['ci95_high']:+.5f}] "
        f"on {vs_current['rows']} rows"
    )
    if vs_current["verdict"] == NO_EVIDENCE:
        return f"not confirmed: best {best_value:g} vs current {current:g}: {text} (no evidence)"
    return f"confirmed: best {best_value:g} vs current {current:g}: {text} ({vs_current['verdict']})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--points", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stages", default="advisor,alpha,lambda,around", help="comma list; also es_off")
    parser.add_argument("--alpha", default="1:100", help="LOW:HIGH of the sklearn.alpha sweep (default's 10 mid)")
    parser.add_argument("--reg-lambda", default="0.001:10", help="LOW:HIGH of the lightgbm.reg_lambda sweep")
    parser.add_argument("--report-db", default=None)
    parser.add_argument("--report-sweep", type=int, default=None)
    args = parser.parse_args()
    if args.report_db:
        from training.models import Sweep

        sweep = Sweep.objects.get(pk=args.report_sweep)
        report_sweep(f"sweep #{sweep.pk} {[a['param'] for a in sweep.axes]}", sweep)
        return
    stages = args.stages.split(",")
    from training.models import RegularizationProfile, TrainingRun
    from training.selectors.run_advice import run_advice
    from training.services.runs import training_run_create

    call_command("migrate", verbosity=0)
    call_command("load_default_profile", verbosity=0)
    call_command("load_sample_data", verbosity=0)
    profile = RegularizationProfile.objects.get(is_default=True)
    say(f"cpu cores {os.cpu_count()}; preset {args.preset}; {args.workers} workers; artifacts in {TMP}")
    workers = [Worker(chr(ord("a") + i)) for i in range(args.workers)]
    total = time.perf_counter()
    try:
        wait_ready(workers)
        advice = []
        if "advisor" in stages or "around" in stages:
            started = time.perf_counter()
            run = wait_run(training_run_create(profile=profile, symbol="BTCUSDT", preset=args.preset).pk)
            say(
                f"default profile's {args.preset} run #{run.pk}: {run.status} in wall {time.perf_counter() - started:.0f} s"
            )
            if run.status != TrainingRun.Status.SUCCEEDED:
                print(run.error, flush=True)
            advice = run_advice(run=run)
            config = (run.snapshot or {}).get("config") or {}
            for a in advice:
                section, name = (
                    (a["sweep_axis"].split("=", 1)[0].split(".", 1) + [""])[:2] if a["sweep_axis"] else ("", "")
                )
                a["current"] = float((config.get(section) or {}).get(name) or 0.0) if name else None
                say(
                    f"  advisor {a['regime']} {a['model']} {a['direction']}: {a['text']} "
                    f"(evidence: {'; '.join(a['evidence'])}) -> {a['sweep_axis'] or 'no sweep'}"
                )
            if not advice:
                say("  advisor: no suggestion")
        if "alpha" in stages:
            run_sweep(
                "sklearn.alpha",
                profile=profile,
                preset=args.preset,
                axes=[f"sklearn.alpha={args.alpha}:{args.points}"],
                seeds=args.seeds,
            )
        if "lambda" in stages:
            run_sweep(
                "lightgbm.reg_lambda",
                profile=profile,
                preset=args.preset,
                axes=[f"lightgbm.reg_lambda={args.reg_lambda}:{args.points}"],
                seeds=args.seeds,
            )
        if "around" in stages:
            order = {"stronger": 0, "weaker": 1, "no effect": 2}
            chosen = sorted((a for a in advice if a["sweep_axis"]), key=lambda a: order.get(a["direction"], 3))
            if not chosen:
                say("sweep around: the advisor offered no sweep")
            else:
                a = chosen[0]
                say(f"sweep around this: {a['regime']} {a['model']} {a['direction']} -> {a['sweep_axis']}")
                sweep, evidence = run_sweep(
                    "around",
                    profile=profile,
                    preset=args.preset,
                    axes=[a["sweep_axis"]],
                    seeds=args.seeds,
                    objective_model=a["model"],
                )
                say(f"  around: {confirms(a, sweep, evidence)}")
        if "es_off" in stages:
            run_sweep(
                "lightgbm.reg_lambda, early stopping off",
                profile=profile,
                preset=args.preset,
                axes=[f"lightgbm.reg_lambda={args.reg_lambda}:{args.points}", "lightgbm.early_stopping=off"],
                seeds=args.seeds,
            )
    finally:
        for w in workers:
            w.stop()
    say(f"total wall {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    try:
        main()
    finally:
        REDIS.stop()
