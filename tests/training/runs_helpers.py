"""Fixtures and helpers shared by the training-run tests (a ``pytest_plugins`` entry of ``tests/conftest.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from django.contrib.auth.models import Permission, User

from training.marketdata.candles import Candles, ParsedFile
from training.marketdata.times import interval_ms
from training.models import MarketDataset, RegularizationProfile
from training.services.market_data import dataset_import_candles

CANDLE_ROWS = 3000


def make_profile(name: str = "baseline", *, is_default: bool = False, **values) -> RegularizationProfile:
    return RegularizationProfile.objects.create(name=name, is_default=is_default, **values)


def make_dataset(
    symbol: str = "BTCUSDT", *, exchange: str = "BINANCE", interval: str = "1h", rows: int = CANDLE_ROWS, seed: int = 7
) -> MarketDataset:
    """A synthetic random-walk series stored through the real import service (summary and fingerprint)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, rows)))
    open_ = np.concatenate([close[:1], close[:-1]])
    start_ms = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
    candles = Candles(
        open_time=start_ms + np.arange(rows, dtype="int64") * interval_ms(interval),
        open=open_,
        high=np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.002, rows))),
        low=np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.002, rows))),
        close=close,
        volume=np.abs(rng.normal(1000, 100, rows)),
        quote_volume=np.full(rows, np.nan),
        trades=np.full(rows, -1, dtype="int64"),
    )
    parsed = ParsedFile(name="synthetic", candles=candles, rows_read=rows, line_numbers=np.arange(1, rows + 1))
    return dataset_import_candles(
        parsed=parsed, symbol=symbol, exchange=exchange, interval=interval, source="synthetic"
    ).dataset


def make_user(username: str, *, can_launch: bool) -> User:
    """A user who reads runs; one who can launch may also cancel them (add and change permissions)."""
    user = User.objects.create_user(username=username, password="pw-123-secret")
    codenames = ["view_trainingrun", "add_trainingrun", "change_trainingrun"] if can_launch else ["view_trainingrun"]
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="training", codename__in=codenames))
    return user


@pytest.fixture
def profile(db):
    return make_profile("baseline", is_default=True)


@pytest.fixture
def dataset(db):
    return make_dataset()


@pytest.fixture
def launcher(db):
    return make_user("launcher", can_launch=True)


@pytest.fixture
def viewer(db):
    return make_user("viewer", can_launch=False)


@pytest.fixture
def launcher_client(client, launcher):
    client.force_login(launcher)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def fast_monitor(settings):
    settings.TRAINING_HEARTBEAT_SECONDS = 0.2
    settings.TRAINING_PROGRESS_WRITE_SECONDS = 0.1
    return settings


def make_finished_run(profile, dataset, *, result: dict, user=None, status: str = "succeeded"):
    """A run launched through the service (not enqueued), then given ``result`` — a real engine result (the
    ``smoke_result`` / ``tiny_result`` fixtures) — and its model rows, as the worker stores them."""
    from django.utils import timezone as dj_tz

    from training.models import ModelResult, TrainingRun
    from training.services.runs import model_result_rows, training_run_create
    from training.services.runs.leaderboard import run_leaderboard_columns

    run = training_run_create(
        profile=profile,
        symbol=dataset.symbol,
        exchange=dataset.exchange,
        interval=dataset.interval,
        preset=result["preset"],
        user=user,
        enqueue=False,
    )
    now = dj_tz.now()
    TrainingRun.objects.filter(pk=run.pk).update(
        status=status,
        result=result,
        progress=1.0,
        stage="done",
        started_at=now,
        finished_at=now,
        artifacts_path=result["artifacts"]["path"],
        wall_seconds=0.0,
        **(run_leaderboard_columns(result) if status == "succeeded" else {}),
        log="12:00:00 lightgbm: reg_alpha=0.01 reg_lambda=0.001\n",
    )
    run.refresh_from_db()
    ModelResult.objects.bulk_create(model_result_rows(run, result))
    return run


def metrics_by_model(result: dict) -> dict:
    """A run result's metrics per (regime, model), to compare two runs of the same data."""
    return {
        (regime, model): info["metrics"]
        for regime, section in result["ensembles"].items()
        for model, info in (section.get("models") or {}).items()
    }


def execute_inline(run_id: int):
    """Train a queued run in this process. A worker of this test session (the integration tests') may have taken a
    run that waited longer than its reconciler's grace (its message went to a Redis that worker does not read):
    then the run finishes there, and this waits for it."""
    import time

    from training.models import TrainingRun
    from training.services.runs import training_run_execute

    run = training_run_execute(run_id=run_id)
    deadline = time.monotonic() + 600
    while run is None or not run.is_terminal:
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} did not finish within 600 s")
        time.sleep(0.5)
        run = TrainingRun.objects.get(pk=run_id)
    return run
