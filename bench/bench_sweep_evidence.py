"""A sweep's evidence on the offline sample, trained inline (no worker), in a temporary SQLite database:
per-backend curves with intervals and seed spread, best vs least regularized on validation and on test, PBO, and
what the advisor suggests for the default profile's own run.

    .venv/bin/python bench/bench_sweep_evidence.py --preset smoke --seeds 1 --axis sklearn.alpha=0.1:1000:5

The issue's measurement asks for ``quick``, 3 seeds, 2 workers (see bench_sweeps.py for workers); this script
prints the same figures for whatever preset and seeds it is given, with the load average beside the wall time.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="ares-bench-sweep-evidence-"))
os.environ["DATABASE_URL"] = f"sqlite:///{TMP}/bench.sqlite3"
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ["HTTPS"] = "0"
os.environ["ARTIFACTS_DIR"] = str(TMP / "artifacts")
os.environ["STATIC_ROOT"] = str(TMP / "static")
os.environ["DJANGO_SETTINGS_MODULE"] = "ares_site.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ares_site.embedded_redis import start_embedded_redis  # noqa: E402

REDIS = start_embedded_redis(directory=TMP / "redis")
os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = os.environ["CELERY_RESULT_BACKEND"] = REDIS.url

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="smoke")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--axis", default="sklearn.alpha=0.1:1000:5")
    args = parser.parse_args()
    from training.models import RegularizationProfile
    from training.selectors.run_advice import run_advice
    from training.selectors.sweep_evidence import evidence_lines, sweep_evidence
    from training.selectors.sweeps import sweep_points
    from training.selectors.trading import sweep_trading
    from training.services.runs import training_run_create, training_run_execute
    from training.services.sweeps import sweep_create, sweep_reconcile

    call_command("migrate", verbosity=0)
    call_command("load_default_profile", verbosity=0)
    call_command("load_sample_data", verbosity=0)
    profile = RegularizationProfile.objects.get(is_default=True)
    print(f"load average before: {os.getloadavg()}")
    started = time.perf_counter()
    sweep = sweep_create(profile=profile, symbol="BTCUSDT", preset=args.preset, axes=[args.axis], seeds=args.seeds)
    for point in sweep_points(sweep=sweep):
        run = training_run_execute(run_id=point.run_id)
        print(f"  point {point.index} {point.values} seed {run.seed}: {run.status}", flush=True)
    sweep = sweep_reconcile(sweep=sweep)
    wall = time.perf_counter() - started
    print(f"{len(sweep_points(sweep=sweep))} runs inline in {wall:.0f} s; load average after: {os.getloadavg()}")
    points = sweep_points(sweep=sweep)
    evidence = sweep_evidence(sweep=sweep, points=points)
    print(f"objective: {sweep.objective_text}")
    for group in evidence["groups"]:
        if not group["complete"]:
            continue
        cells = []
        for regime, models in sorted(group.get("curves", {}).items()):
            c = models.get(evidence["model"])
            if c:
                cells.append(
                    f"{regime} {c['validation_log_loss']:.4f} [{c['band'][0]:.4f}, {c['band'][1]:.4f}] "
                    f"sd {c['seed_spread']:.4f} gap {c['gap']:+.4f}"
                )
        print(f"  {group['values']}: objective {group['objective']:.5f}; " + "; ".join(cells))
    for line in evidence_lines(evidence):
        print(line)
    pbo = sweep_trading(sweep=sweep, points=points)["pbo"]
    print(f"PBO: {pbo.get('pbo', pbo.get('error'))}")
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset=args.preset, enqueue=False)
    run = training_run_execute(run_id=run.pk)
    print(f"advisor on the default profile's {args.preset} run #{run.pk}:")
    for advice in run_advice(run=run):
        print(
            f"  {advice['regime']} {advice['model']} {advice['direction']}: {advice['text']} -> {advice['sweep_axis']}"
        )


if __name__ == "__main__":
    try:
        main()
    finally:
        REDIS.stop()
