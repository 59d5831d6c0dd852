"""The run list at scale: 100,000 runs in a temporary SQLite database (BENCH_DATABASE_URL for another server);
p50/p95 of the unfiltered list (page 1 and 50), filtered lists at page 50, and a run page with a real result,
each beside the load average, after ANALYZE. Then two A/B comparisons interleaved in this process (issue 26): the
run page with the type hints cached per record class vs resolved on every load, and the filtered API list and
count with ``distinct=False`` vs django-filter's default ``SELECT DISTINCT``.
Prints its figures. Aim: filtered page 50 < 50 ms, unfiltered < 20 ms (p95).
    BENCH_RUNS=1000000 .venv/bin/python bench/bench_run_list.py"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TMP = tempfile.mkdtemp(prefix="ares-bench-run-list-")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ["HTTPS"] = os.environ["SECURE_SSL_REDIRECT"] = "0"
os.environ["ARTIFACTS_DIR"] = f"{TMP}/artifacts"
os.environ["STATIC_ROOT"] = f"{TMP}/static"
os.environ["DJANGO_SETTINGS_MODULE"] = "ares_site.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# No collectstatic here: templates link static files by their plain names.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

from bench_support import analyze, interleaved, load, report  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", 100_000))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 40))
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT")
STATUSES = ("succeeded", "succeeded", "succeeded", "failed", "cancelled", "queued")


def populate():
    from django.contrib.auth.models import User

    from tests.training.runs_helpers import make_dataset, make_profile
    from tests.training.views.real_runs import make_real_run
    from training.models import TrainingRun

    user = User.objects.create_superuser("bench", "bench@example.com", "bench-pw")
    profiles = [make_profile(f"profile-{i}", is_default=(i == 0), l1_alpha=0.01 * (i + 1)) for i in range(10)]
    dataset = make_dataset(rows=3000)
    real = make_real_run(profiles[0], dataset, user=user)
    batch = []
    for i in range(RUNS):
        batch.append(
            TrainingRun(
                symbol=SYMBOLS[i % len(SYMBOLS)],
                profile=profiles[(i // 7) % len(profiles)],
                dataset=dataset,
                preset="quick",
                status=STATUSES[(i * 7) % len(STATUSES)],
                progress=1.0,
                stage="done",
                launched_by=user,
                snapshot={},
            )
        )
        if len(batch) == 5000:
            TrainingRun.objects.bulk_create(batch)
            batch = []
    TrainingRun.objects.bulk_create(batch)
    return user, profiles, real


def timed(client: Client, url: str) -> tuple[float, float]:
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> None:
    setup_test_environment()
    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    user, profiles, real = populate()
    print(f"populated {RUNS:,} runs in {time.perf_counter() - t:.0f} s ({os.environ['DATABASE_URL'].split(':')[0]})")
    print(f"ANALYZE took {analyze(connection):.1f} s; {load()}")
    client = Client()
    client.force_login(user)
    cases = {
        "unfiltered, page 1": "/runs/",
        "unfiltered, page 50": "/runs/?page=50",
        "sort=symbol, page 50": "/runs/?sort=symbol&page=50",
        "trigger=web+preset=quick, page 50": "/runs/?trigger=web&preset=quick&page=50",
        "status=succeeded, page 50": "/runs/?status=succeeded&page=50",
        "symbol=ETHUSDT, page 50": "/runs/?symbol=ETHUSDT&page=50",
        "symbol+status, page 50": "/runs/?symbol=ETHUSDT&status=failed&page=50",
        f"profile={profiles[3].pk}, page 50": f"/runs/?profile={profiles[3].pk}&page=50",
        f"run page #{real.pk} (real tiny result)": f"/runs/{real.pk}/",
    }
    client.get("/runs/")
    for name, url in cases.items():
        median, p95 = timed(client, url)
        print(f"{name:42s} p50 {median:7.1f} ms   p95 {p95:7.1f} ms   {load()}")
    ab_type_hints(client, real)
    ab_distinct(user)


def ab_type_hints(client: Client, real) -> None:
    from training.ml.results import base

    cached, uncached = base.record_schema, base.record_schema.__wrapped__
    url = f"/runs/{real.pk}/"

    def page(schema):
        def call():
            base.record_schema = schema
            assert client.get(url).status_code == 200

        return call

    print(f"\nA/B, interleaved: run page #{real.pk} (real tiny result), {REQUESTS} requests each")
    try:
        report(interleaved({"type hints cached": page(cached), "resolved per load": page(uncached)}, REQUESTS))
    finally:
        base.record_schema = cached


def ab_distinct(user) -> None:
    from rest_framework.test import APIClient

    from training.api.filters import RunFilter

    api = APIClient()
    api.force_authenticate(user)
    filters = [RunFilter.base_filters[name] for name in ("status", "trigger")]

    def listed(url: str, distinct: bool):
        def call():
            for item in filters:
                item.distinct = distinct
            assert api.get(url).status_code == 200

        return call

    for url in ("/api/runs/?status=succeeded&status=failed&page=50", "/api/runs/?status=failed&trigger=web"):
        print(f"\nA/B, interleaved: GET {url} ({REQUESTS} requests each; the list and its count)")
        try:
            report(interleaved({"distinct=False": listed(url, False), "SELECT DISTINCT": listed(url, True)}, REQUESTS))
        finally:
            for item in filters:
                item.distinct = False


if __name__ == "__main__":
    main()
