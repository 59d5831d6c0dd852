"""Fixtures shared by the training-run tests (imported by the conftest of each folder that needs them)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from django.contrib.auth.models import Permission, User

from training.ml.klines import Candles, ParsedFile, interval_ms
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
    user = User.objects.create_user(username=username, password="pw-123-secret")
    if can_launch:
        user.user_permissions.add(Permission.objects.get(codename="add_trainingrun"))
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


def sample_metrics(base: float) -> dict:
    split = {
        "accuracy": base,
        "balanced_accuracy": base - 0.02,
        "macro_f1": base - 0.05,
        "log_loss": 1.05,
        "confusion_matrix": [[5, 1, 0], [1, 5, 1], [0, 1, 5]],
    }
    return {"train": {**split, "macro_f1": base + 0.1}, "validation": split, "test": {**split, "macro_f1": base - 0.1}}


def sample_result(
    config: dict, *, artifacts_path: str = "", plots: list[str] | None = None, lightgbm_base: float = 0.61
) -> dict:
    """A result dict of the engine's documented shape (the UI's input), with distinctive numbers."""
    models = {
        "lightgbm": {
            "metrics": sample_metrics(lightgbm_base),
            "train_val_gap": {"log_loss": 0.25, "accuracy": 0.15},
            "fit_seconds": 1.25,
            "evidence": {"zero_leaf_share": 0.1},
            "history": {"train_loss": [1.0, 0.9], "val_loss": [1.0, 0.95]},
            "best_params": {"num_leaves": 17, "learning_rate": 0.05},
            "feature_importance": {"rsi_14": 3.0},
        },
        "logreg": {
            "metrics": sample_metrics(0.55),
            "train_val_gap": {"log_loss": 0.1, "accuracy": 0.08},
            "fit_seconds": 0.4,
            "evidence": {},
            "history": {},
            "best_params": {},
            "feature_importance": {},
        },
    }
    return {
        "symbol": "BTCUSDT",
        "exchange": "BINANCE",
        "interval": "1h",
        "preset": "smoke",
        "seed": 42,
        "data": {
            "rows": 900,
            "first_open_time": "2024-01-01T00:00:00+00:00",
            "last_open_time": "2024-02-07T11:00:00+00:00",
        },
        "regularization": {
            "config": config,
            "report": {},
            "applied": {"lightgbm": {"reg_alpha": config["lightgbm"]["reg_alpha"]}},
        },
        "features": ["rsi_14"],
        "regimes": {"distribution": {"trending": 500, "ranging": 20}, "rule": "ADX > 25"},
        "regime_series": {"time": [], "close": [], "regime": []},
        "ensembles": {
            "trending": {
                "status": "trained",
                "reason": "",
                "rows": 500,
                "models": models,
                "ensemble": {"metrics": sample_metrics(0.63)},
                "baselines": {
                    "majority": sample_metrics(0.34),
                    "persistence": sample_metrics(0.4),
                    "definitions": {"majority": "the most frequent training class"},
                },
            },
            "ranging": {"status": "skipped", "reason": "only 20 rows (< 200)", "rows": 20, "models": {}},
        },
        "plots": plots or [],
        "artifacts": {"path": artifacts_path, "manifest": "manifest.json", "files": plots or []},
        "timings": {"stages": {"fit": 2.0}, "fit_seconds_total": 1.65, "wall_seconds": 3.1},
        "library_versions": {"lightgbm": "4.7.0"},
    }


def make_finished_run(profile, dataset, *, user=None, tmp_path=None, status="succeeded", lightgbm_base=0.61):
    """A run launched through the service (not enqueued), then given a stored outcome as the worker would."""
    from django.utils import timezone as dj_tz

    from training.models import ModelResult, TrainingRun
    from training.services.runs import model_result_rows, training_run_create

    run = training_run_create(
        profile=profile,
        symbol=dataset.symbol,
        exchange=dataset.exchange,
        interval=dataset.interval,
        preset="smoke",
        user=user,
        enqueue=False,
    )
    plots = []
    artifacts = ""
    if tmp_path is not None:
        directory = tmp_path / f"run-{run.pk}"
        directory.mkdir()
        (directory / "learning_curves.png").write_bytes(b"\x89PNG\r\n\x1a\nfake-but-served")
        (directory / "manifest.json").write_text("{}")
        plots, artifacts = ["learning_curves.png"], str(directory)
    result = sample_result(run.snapshot["config"], artifacts_path=artifacts, plots=plots, lightgbm_base=lightgbm_base)
    now = dj_tz.now()
    TrainingRun.objects.filter(pk=run.pk).update(
        status=status,
        result=result,
        progress=1.0,
        stage="done",
        started_at=now,
        finished_at=now,
        artifacts_path=artifacts,
        log="12:00:00 lightgbm: reg_alpha=0.01 reg_lambda=0.001\n",
    )
    run.refresh_from_db()
    ModelResult.objects.bulk_create(model_result_rows(run, result))
    return run
