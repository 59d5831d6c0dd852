"""Run pages with 5,000 runs and their per-model rows, in a temporary SQLite database (or DATABASE_URL's server
with BENCH_DATABASE_URL): median / p95 response time and SQL query count of the run list, a run detail and the JSON
endpoint, and the launch request → queued response time. Prints its figures."""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = tempfile.mkdtemp(prefix="ares-bench-runs-")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ["HTTPS"] = os.environ["SECURE_SSL_REDIRECT"] = "0"
os.environ["ARTIFACTS_DIR"] = f"{TMP}/artifacts"
os.environ["STATIC_ROOT"] = f"{TMP}/static"
os.environ["CELERY_BROKER_URL"] = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/12")
os.environ["DJANGO_SETTINGS_MODULE"] = "ares_site.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", 5000))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 60))
MODELS = ("lightgbm", "lstm", "transformer", "logreg", "tabnet")
REGIMES = ("trending", "ranging", "volatile")


def populate():
    from django.contrib.auth.models import User

    from tests.training.runs_helpers import make_dataset, make_profile, sample_metrics, sample_result
    from training.models import ModelResult, TrainingRun
    from training.services.runs import library_versions, model_result_rows

    user = User.objects.create_superuser("bench", "bench@example.com", "bench-pw")
    profiles = [make_profile(f"profile-{i}", is_default=(i == 0), l1_alpha=0.01 * (i + 1)) for i in range(5)]
    dataset = make_dataset(rows=300)
    config = profiles[0].resolved_config()
    result = sample_result(config)
    for regime in REGIMES:
        result["ensembles"][regime] = {
            **result["ensembles"]["trending"],
            "models": {
                m: {**result["ensembles"]["trending"]["models"]["lightgbm"], "metrics": sample_metrics(0.5)}
                for m in MODELS
            },
        }
    snapshot = {
        "config": config,
        "profile": {"id": profiles[0].pk, "name": profiles[0].name},
        "preset": {"name": "quick", "params": {}},
        "data": {"rows": 300},
        "seed": 42,
        "library_versions": library_versions(),
    }
    now = timezone.now()
    runs = [
        TrainingRun(
            symbol="BTCUSDT" if i % 3 else "ETHUSDT",
            profile=profiles[i % 5],
            dataset=dataset,
            preset="quick",
            launched_by=user,
            status="succeeded" if i % 7 else "failed",
            progress=1.0,
            stage="done",
            snapshot=snapshot,
            report={},
            result=result,
            log="line\n" * 200,
            started_at=now,
            finished_at=now,
        )
        for i in range(RUNS)
    ]
    TrainingRun.objects.bulk_create(runs, batch_size=500)
    rows = []
    for run in TrainingRun.objects.only("id"):
        rows.extend(model_result_rows(run, result))
        if len(rows) > 5000:
            ModelResult.objects.bulk_create(rows, batch_size=1000)
            rows = []
    ModelResult.objects.bulk_create(rows, batch_size=1000)
    return user, TrainingRun.objects.order_by("-id").values_list("id", flat=True)[RUNS // 2]


def measure(client, url):
    client.get(url)  # warm
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(ctx.captured_queries)


def main():
    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    started = time.perf_counter()
    user, run_id = populate()
    from training.models import ModelResult, RegularizationProfile, TrainingRun

    print(
        f"database: {connection.vendor}; {TrainingRun.objects.count()} runs, {ModelResult.objects.count()} "
        f"model rows (populated in {time.perf_counter() - started:.1f} s); {REQUESTS} requests per page"
    )
    client = Client()
    client.force_login(user)
    pages = [
        ("run list", "/runs/"),
        ("run list, filtered, page 50", "/runs/?symbol=BTCUSDT&status=succeeded&page=50"),
        ("run detail", f"/runs/{run_id}/"),
        ("JSON endpoint", f"/api/runs/{run_id}/"),
    ]
    print(f"{'page':32} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for name, url in pages:
        median, p95, queries = measure(client, url)
        print(f"{name:32} {median:10.1f} {p95:8.1f} {queries:8d}")

    import redis

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    profile = RegularizationProfile.objects.get(is_default=True)
    data = {"symbol": "BTCUSDT", "interval": "1h", "exchange": "BINANCE", "profile": profile.pk, "preset": "quick"}
    times = []
    try:
        for _ in range(20):
            start = time.perf_counter()
            response = client.post("/runs/new/", data)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 302, response.content[:500]
        run = TrainingRun.objects.order_by("-id").first()
        assert run.status == "queued" and broker.llen("training") == 20
    finally:
        broker.delete("training")
    times.sort()
    print(
        f"{'launch POST → queued response':32} {statistics.median(times):10.1f} {times[-2]:8.1f}   (20 launches, "
        f"task published to Redis)"
    )


if __name__ == "__main__":
    main()
