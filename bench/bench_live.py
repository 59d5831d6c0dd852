"""The active model's life, measured in a temporary SQLite database (BENCH_DATABASE_URL for another server):

1. A simulated month of live bars for one market: a real run (tiny preset) trained on the offline sample minus
   its last BENCH_DAYS days, promoted, then the rest fed one day per step: each hour the bot asks for the new bar
   (candles sent in the request, logged), at the end of the day the day's candles are imported (which matures the
   logged predictions) and the monitor runs. Printed per day: matured count, live log loss vs the best baseline,
   hit rate, open alerts, and the import+mature and monitor wall times.
2. `POST /api/models/BINANCE/BTCUSDT/1h/predict/` through Django's test client, warm: p50 / p95 for a new bar
   (prediction computed and logged) and for the same bar again (answered from the log), interleaved.
3. The monitor's wall time over 10 markets (the month's log copied to 9 more markets, each with its own run row),
   first pass (training rows read and features computed per run) and second pass.
The load average is printed beside the figures; timings swing with load, compare the ratios of one run.
    .venv/bin/python bench/bench_live.py"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = tempfile.mkdtemp(prefix="ares-bench-live-")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ["HTTPS"] = os.environ["SECURE_SSL_REDIRECT"] = "0"
os.environ["ARTIFACTS_DIR"] = f"{TMP}/artifacts"
os.environ["STATIC_ROOT"] = f"{TMP}/static"
Path(os.environ["STATIC_ROOT"]).mkdir(parents=True, exist_ok=True)
os.environ["DJANGO_SETTINGS_MODULE"] = "ares_site.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

DAYS = int(os.environ.get("BENCH_DAYS", 30))
PRESET = os.environ.get("BENCH_PRESET", "tiny")
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 40))
MARKETS = 10


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def parsed(frame: pd.DataFrame):
    from training.marketdata.candles import Candles, ParsedFile

    n = len(frame)
    candles = Candles(
        open_time=(frame["open_time"].astype("int64") // 1_000_000).to_numpy(dtype="int64"),
        **{c: frame[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close", "volume")},
        quote_volume=np.full(n, np.nan),
        trades=np.full(n, -1, dtype="int64"),
    )
    return ParsedFile(name="bench", candles=candles, rows_read=n, line_numbers=np.arange(1, n + 1))


def rows(frame: pd.DataFrame) -> list:
    columns = frame[["open_time", "open", "high", "low", "close", "volume"]]
    return [[t.isoformat(), o, h, lo, c, v] for t, o, h, lo, c, v in columns.itertuples(index=False)]


def pct(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[max(int(round(len(ordered) * q)) - 1, 0)]


def main() -> None:
    setup_test_environment()
    call_command("migrate", verbosity=0)
    from training.marketdata.sample import read_sample_frame
    from training.ml.predict import predictor_for
    from training.models import ActiveModel, MonitorAlert, PredictionLog, RegularizationProfile, TrainingRun
    from training.selectors.live import live_metrics
    from training.services.market_data import dataset_import_candles
    from training.services.monitor import monitor_run
    from training.services.predictions import prediction_serve
    from training.services.registry import model_promote
    from training.services.runs import training_run_create, training_run_execute

    candles = read_sample_frame()
    live_bars = DAYS * 24
    history, rest = candles.iloc[:-live_bars].reset_index(drop=True), candles.iloc[-live_bars:].reset_index(drop=True)
    market = {"symbol": "BTCUSDT", "exchange": "BINANCE", "interval": "1h"}
    dataset_import_candles(parsed=parsed(history), **market, source="bench: sample without its last days")
    profile = RegularizationProfile.objects.create(name="bench", is_default=True)
    start = time.perf_counter()
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset=PRESET, enqueue=False)
    run = training_run_execute(run_id=run.pk, task_id="bench")
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    print(f"trained run #{run.pk} ({PRESET}) on {len(history)} bars in {time.perf_counter() - start:.1f} s; {load()}")
    promotion = model_promote(run=run, force=True, reason="bench")
    print(f"promotion checks: {[(c['key'], c['status']) for c in promotion.checks]}")
    needed = predictor_for(run.pk, run.artifacts_path).needed_bars + 16

    print(f"\n1. simulated month: {DAYS} days x 24 bars, one day per step; {load()}")
    print(
        "day  matured  log_loss  best_baseline       vs (95% CI)                 hit   alerts  predict_ms  import_ms  monitor_ms"
    )
    window = history.iloc[-needed:]
    for day in range(DAYS):
        bars = rest.iloc[day * 24 : (day + 1) * 24]
        predict_ms = []
        for i in range(len(bars)):
            frame = pd.concat([window, bars.iloc[: i + 1]]).iloc[-needed:]
            t = time.perf_counter()
            prediction_serve(run=run, candles=rows(frame), source="api")
            predict_ms.append((time.perf_counter() - t) * 1000)
        window = pd.concat([window, bars]).iloc[-needed:]
        t = time.perf_counter()
        dataset_import_candles(parsed=parsed(bars), **market, source="bench: live day")
        import_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        monitor_run()
        monitor_ms = (time.perf_counter() - t) * 1000
        live = live_metrics(active=ActiveModel.objects.get())
        alerts = ",".join(MonitorAlert.objects.filter(cleared_at__isnull=True).values_list("kind", flat=True)) or "-"
        if live.get("matured"):
            vs = live.get("vs_best_baseline")
            verdict = (
                f"{vs['verdict']} {vs['difference']:+.3f} ({vs['ci95_low']:+.3f}…{vs['ci95_high']:+.3f})"
                if vs
                else "no interval yet"
            )
            best = f"{live['best_baseline']} {live['baselines'][live['best_baseline']]:.4f}"
            print(
                f"{day + 1:>3}  {live['matured']:>7}  {live['log_loss']:.4f}    {best:<18}  {verdict:<27} "
                f"{live['hit_rate']['value']:.3f}  {alerts:<6}  {statistics.median(predict_ms):>10.1f}  "
                f"{import_ms:>9.1f}  {monitor_ms:>10.1f}"
            )
    raised = MonitorAlert.objects.order_by("raised_at")
    print(f"alerts raised over the month: {raised.count()}")
    for alert in raised:
        print(
            f"  {alert.kind}: raised {alert.raised_at:%H:%M:%S}, cleared {alert.cleared_at and f'{alert.cleared_at:%H:%M:%S}'}: {alert.message}"
        )

    print(
        f"\n2. POST predict, warm, {REQUESTS} new bars (computed + logged) interleaved with the same bar again (from the log); {load()}"
    )
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.create_superuser("bench", password="bench-pw-123"))
    url = "/api/models/BINANCE/BTCUSDT/1h/predict/"
    old = history.iloc[-(needed + REQUESTS + 1) :].reset_index(drop=True)  # bars no one has asked for yet
    client.post(url, {"candles": rows(old.iloc[:needed])}, content_type="application/json")  # warm-up
    from training.selectors.predictions import run_predict

    new_ms, hit_ms, bare_ms = [], [], []
    for i in range(1, REQUESTS + 1):
        body = {"candles": rows(old.iloc[i : i + needed])}
        t = time.perf_counter()
        run_predict(run=run, candles=body["candles"])  # the same computation without the API and the log
        bare_ms.append((time.perf_counter() - t) * 1000)
        for times in (new_ms, hit_ms):
            t = time.perf_counter()
            response = client.post(url, body, content_type="application/json")
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, response.content
    print(f"new bar (API, computed + logged): p50 {statistics.median(new_ms):.1f} ms, p95 {pct(new_ms, 0.95):.1f} ms")
    print(f"same bar (API, from the log):     p50 {statistics.median(hit_ms):.1f} ms, p95 {pct(hit_ms, 0.95):.1f} ms")
    print(
        f"computation alone (no API, no log): p50 {statistics.median(bare_ms):.1f} ms, p95 {pct(bare_ms, 0.95):.1f} ms"
    )
    print(f"ratio new bar / computation alone (p50): {statistics.median(new_ms) / statistics.median(bare_ms):.2f}")
    print(f"logged predictions: {PredictionLog.objects.count()}")

    print(
        f"\n3. monitor over {MARKETS} markets (the month's log copied to {MARKETS - 1} more, each its own run row); {load()}"
    )
    logs = list(PredictionLog.objects.filter(run=run))
    for k in range(1, MARKETS):
        symbol = f"SIM{k}USDT"
        copy = TrainingRun.objects.get(pk=run.pk)
        copy.pk, copy.symbol = None, symbol
        copy.save()
        ActiveModel.objects.create(
            exchange="BINANCE", symbol=symbol, interval="1h", run=copy, promoted_at=promotion.promoted_at
        )
        for log in logs:
            log.pk, log.symbol, log.run = None, symbol, copy
        PredictionLog.objects.bulk_create(logs)
    for name in ("first", "second"):
        t = time.perf_counter()
        result = monitor_run()
        print(
            f"{name} pass: {time.perf_counter() - t:.2f} s for {len(result)} markets; open alerts {sum(result.values())}"
        )
    print(load())


if __name__ == "__main__":
    main()
