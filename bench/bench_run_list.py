"""The run list at scale: 100,000 runs in a temporary SQLite database (BENCH_DATABASE_URL for another server);
p50/p95 of the unfiltered list (page 1 and 50), filtered lists at page 50, a run page with a real result, and the
same for the API's list and run detail, each beside the load average, after ANALYZE (the runs are copied by the
database itself, ``bench_support.copy_rows``: 1,000,000 in a minute or two). Then A/B comparisons interleaved in
this process (issue 26): the run page and the API run detail from the run page cache vs rendered every time, the
run page (uncached) with the type hints cached per record class vs resolved on every load, and the filtered API
list and count with ``distinct=False`` vs django-filter's default ``SELECT DISTINCT``.
Prints its figures. Aim: filtered page 50 < 50 ms (the API's too, at 1,000,000 runs), unfiltered < 20 ms (p95).
The leaderboard (issue 25 item 5): the list sorted by a metric column (after-cost Sharpe, Δ log loss, duration)
and filtered (verdict, min Sharpe), the page's and the API's; aim p95 < 50 ms at 100,000 runs (the page) and at
1,000,000 (the API). BENCH_CASES=leaderboard runs only those (no A/B comparisons).
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

from bench_support import analyze, copy_rows, interleaved, load, report  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", 100_000))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 40))
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT")
STATUSES = ("succeeded", "succeeded", "succeeded", "failed", "cancelled", "queued")
ONLY = os.environ.get("BENCH_CASES", "")
# The leaderboard's columns of the copies, each list a length prime to the others' so the rows mix: about one
# run in twelve "better", Sharpe in [-3, 3], Δ log loss in [-0.05, 0.05], wall time 30 s to 30 min.
VERDICTS = ["no evidence"] * 8 + ["worse"] * 3 + ["better"]
SHARPES = [round(-3 + 6 * ((i * 37) % 101) / 100, 4) for i in range(101)]
DELTAS = [round(-0.05 + 0.1 * ((i * 29) % 89) / 88, 5) for i in range(89)]
WALLS = [round(30 + 1770 * ((i * 17) % 53) / 52, 1) for i in range(53)]


def populate():
    """The bench's runs: one real ``tiny`` run, then RUNS synthetic finished runs copied by the database from one
    template row (``copy_rows``: symbol, profile, status and trigger varying; a second apart, newest last)."""
    from django.contrib.auth.models import User

    from tests.training.runs_helpers import make_dataset, make_profile
    from tests.training.views.real_runs import make_real_run
    from training.models import TrainingRun

    user = User.objects.create_superuser("bench", "bench@example.com", "bench-pw")
    profiles = [make_profile(f"profile-{i}", is_default=(i == 0), l1_alpha=0.01 * (i + 1)) for i in range(10)]
    dataset = make_dataset(rows=3000)
    template = TrainingRun.objects.create(
        symbol=SYMBOLS[0],
        profile=profiles[0],
        dataset=dataset,
        preset="quick",
        status="succeeded",
        progress=1.0,
        stage="done",
        launched_by=user,
        snapshot={},
        regime_verdicts={"bull": "no evidence", "bear": "worse", "sideways": "skipped"},
    )
    if RUNS:
        seconds = copy_rows(
            connection,
            TrainingRun,
            template.pk,
            RUNS - 1,
            {
                "symbol": list(SYMBOLS),
                "profile_id": (7, [p.pk for p in profiles]),
                "status": [STATUSES[(i * 7) % len(STATUSES)] for i in range(len(STATUSES))],
                "trigger": ["web", "api", "schedule"],
                "system_verdict": VERDICTS,
                "sharpe_after_costs": SHARPES,
                "log_loss_delta": DELTAS,
                "wall_seconds": WALLS,
            },
        )
        print(f"copied {RUNS - 1:,} runs in {seconds:.1f} s")
    else:
        template.delete()
    real = make_real_run(profiles[0], dataset, user=user)
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
    leaderboard = {
        "board: sort=sharpe, page 1": "/runs/?sort=sharpe",
        "board: sort=sharpe, page 50": "/runs/?sort=sharpe&page=50",
        "board: sort=log_loss, page 50": "/runs/?sort=log_loss&page=50",
        "board: sort=duration, page 50": "/runs/?sort=duration&page=50",
        "board: verdict=better, sort=sharpe, page 50": "/runs/?verdict=better&sort=sharpe&page=50",
        "board: not better, sort=log_loss, page 50": "/runs/?verdict=not+better&sort=log_loss&page=50",
        "board: sharpe_min=1, sort=sharpe, page 50": "/runs/?sharpe_min=1&sort=sharpe&page=50",
        "board: status+sharpe_min, sort=log_loss": "/runs/?status=succeeded&sharpe_min=0.5&sort=log_loss",
        "board: symbol+verdict, sort=sharpe": "/runs/?symbol=ETHUSDT&verdict=better&sort=sharpe",
        "API board: sort=sharpe, page 50": "/api/runs/?sort=sharpe&page=50",
        "API board: verdict=better, sort=sharpe": "/api/runs/?verdict=better&sort=sharpe",
        "API board: sharpe_min=1, sort=sharpe, p50": "/api/runs/?sharpe_min=1&sort=sharpe&page=50",
        "API board: status+trigger, sort=log_loss": "/api/runs/?status=succeeded&trigger=api&sort=log_loss",
        "API board: symbol+verdict+min, sort=sharpe": "/api/runs/?symbol=BTCUSDT&verdict=better&sharpe_min=0&sort=sharpe",
    }
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
        "API: newest 25": "/api/runs/",
        "API: page 2000": "/api/runs/?page=2000",
        "API: two statuses, page 50": "/api/runs/?status=succeeded&status=failed&page=50",
        "API: status+trigger": "/api/runs/?status=failed&trigger=web",
        "API: symbol+status+trigger, page 50": "/api/runs/?symbol=BTCUSDT&status=succeeded&trigger=api&page=50",
        f"API: run #{real.pk} detail": f"/api/runs/{real.pk}/",
    }
    reference = {name: cases[name] for name in ("unfiltered, page 1", "unfiltered, page 50", "API: newest 25")}
    cases = {**reference, **leaderboard} if ONLY == "leaderboard" else {**cases, **leaderboard}
    client.get("/runs/")
    for name, url in cases.items():
        median, p95 = timed(client, url)
        print(f"{name:44s} p50 {median:7.1f} ms   p95 {p95:7.1f} ms   {load()}")
    if ONLY == "leaderboard":
        return
    ab_page_cache(client, real)
    ab_type_hints(client, real)
    ab_distinct(user)


def ab_page_cache(client: Client, real) -> None:
    seconds = settings.RUN_PAGE_CACHE_SECONDS

    def get(url: str, cache_seconds: int):
        def call():
            settings.RUN_PAGE_CACHE_SECONDS = cache_seconds
            assert client.get(url).status_code == 200

        return call

    try:
        for url in (f"/runs/{real.pk}/", f"/api/runs/{real.pk}/"):
            print(f"\nA/B, interleaved: {url} (real tiny result), {REQUESTS} requests each")
            report(interleaved({"run page cache": get(url, 86400), "rendered every time": get(url, 0)}, REQUESTS))
    finally:
        settings.RUN_PAGE_CACHE_SECONDS = seconds


def ab_type_hints(client: Client, real) -> None:
    from training.ml.results import base

    cached, uncached = base.record_schema, base.record_schema.__wrapped__
    url = f"/runs/{real.pk}/"
    seconds, settings.RUN_PAGE_CACHE_SECONDS = settings.RUN_PAGE_CACHE_SECONDS, 0  # every page parses its result

    def page(schema):
        def call():
            base.record_schema = schema
            assert client.get(url).status_code == 200

        return call

    print(f"\nA/B, interleaved: run page #{real.pk} (real tiny result, no page cache), {REQUESTS} requests each")
    try:
        report(interleaved({"type hints cached": page(cached), "resolved per load": page(uncached)}, REQUESTS))
    finally:
        base.record_schema = cached
        settings.RUN_PAGE_CACHE_SECONDS = seconds


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
