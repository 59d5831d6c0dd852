"""REST API figures, in a temporary SQLite database (BENCH_DATABASE_URL for another server), through Django's
test client with a token (no network): `GET /api/runs/` median / p95 with 100,000 runs (first page, and a
filtered deep page), and `POST /api/models/BINANCE/BTCUSDT/1h/predict/` — the first (cold) call of the process
and warm p50 / p95 — with a real run trained here on the offline sample (tiny preset). Run it on an otherwise idle machine:
    .venv/bin/python bench/bench_api.py"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TMP = tempfile.mkdtemp(prefix="ares-bench-api-")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ["HTTPS"] = os.environ["SECURE_SSL_REDIRECT"] = "0"
os.environ["ARTIFACTS_DIR"] = f"{TMP}/artifacts"
os.environ["STATIC_ROOT"] = f"{TMP}/static"
Path(os.environ["STATIC_ROOT"]).mkdir(parents=True, exist_ok=True)
os.environ["DJANGO_SETTINGS_MODULE"] = "ares_site.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from bench_support import analyze, load  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", 100_000))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 100))
PRESET = os.environ.get("BENCH_PRESET", "tiny")


def populate_runs(profile, dataset, user) -> None:
    from training.models import TrainingRun

    snapshot = {"config": profile.resolved_config(), "profile": {"id": profile.pk, "name": profile.name}, "seed": 42}
    now = timezone.now()
    batch = []
    for i in range(RUNS):
        batch.append(
            TrainingRun(
                symbol="BTCUSDT" if i % 3 else "ETHUSDT",
                profile=profile,
                dataset=dataset,
                preset="quick",
                launched_by=user,
                status="succeeded" if i % 7 else "failed",
                trigger=("web", "api", "schedule")[i % 3],
                progress=1.0,
                stage="done",
                snapshot=snapshot,
                started_at=now,
                finished_at=now,
            )
        )
        if len(batch) == 5000:
            TrainingRun.objects.bulk_create(batch)
            batch = []
    TrainingRun.objects.bulk_create(batch)


def timed(call, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


def p95(times: list[float]) -> float:
    return times[max(int(len(times) * 0.95) - 1, 0)]


def main():
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from training.models import MarketDataset, RegularizationProfile, TrainingRun
    from training.services.market_data import dataset_load_sample
    from training.services.registry import model_promote
    from training.services.runs import training_run_create, training_run_execute

    setup_test_environment()
    call_command("migrate", verbosity=0)
    user = User.objects.create_superuser("bench", "bench@example.com", "bench-pw")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    dataset_load_sample()
    profile = RegularizationProfile.objects.create(name="bench", is_default=True)
    started = time.perf_counter()
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset=PRESET, enqueue=False)
    training_run_execute(run_id=run.pk, task_id="bench")
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    model_promote(run=run)
    print(f"trained run #{run.pk} ({PRESET} preset, offline sample) in {time.perf_counter() - started:.1f} s")

    url = "/api/models/BINANCE/BTCUSDT/1h/predict/"
    start = time.perf_counter()
    response = client.post(url, {}, format="json")
    cold = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.content
    warm = timed(lambda: client.post(url, {}, format="json"), REQUESTS)
    print(f"predict ({response.json()['bars_used']} stored bars, regime {response.json()['regime']}):")
    print(
        f"  first (cold) call {cold:.0f} ms; warm median {statistics.median(warm):.1f} ms, p95 {p95(warm):.1f} ms"
        f"   {load()}"
    )

    started = time.perf_counter()
    populate_runs(profile, MarketDataset.objects.get(), user)
    print(
        f"\n{TrainingRun.objects.count():,} runs in {connection.vendor} (inserted in {time.perf_counter() - started:.1f} s)"
    )
    print(f"ANALYZE took {analyze(connection):.1f} s; {load()}")
    print(f"{'GET':48} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for name in (
        "/api/runs/",
        "/api/runs/?page=2000",
        "/api/runs/?symbol=BTCUSDT&status=succeeded&trigger=api",
        "/api/runs/?symbol=BTCUSDT&status=succeeded&trigger=api&page=50",
    ):
        client.get(name)
        times = timed(lambda name=name: client.get(name), REQUESTS)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(name).status_code == 200
        print(
            f"{name:48} {statistics.median(times):10.1f} {p95(times):8.1f} {len(queries.captured_queries):8d}"
            f"   {load()}"
        )


if __name__ == "__main__":
    main()
