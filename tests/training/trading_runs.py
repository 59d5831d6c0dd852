"""Real engine results on one synthetic series with a planted effect (``tests.training.ml.trading.synthetic``),
one per L1 strength (tiny preset): configurations on the same bars, for PBO and the sweep's trading evidence.
Registered through ``pytest_plugins`` in ``tests/conftest.py``."""

from __future__ import annotations

import pytest

from tests.training.ml.trading.synthetic import synthetic_candles
from training.ml.manager import TrainingManager
from training.ml.regularization import resolve_config

STRENGTHS = (0.0001, 0.01, 1.0)


@pytest.fixture(scope="session")
def strength_results(tmp_path_factory):
    candles = synthetic_candles(4000, edge=1.5, seed=2)
    return train_l1_strengths(candles, STRENGTHS, tmp_path_factory, "l1")


def train_l1_strengths(candles, alphas, directory_factory, name: str) -> list[dict]:
    """Real tiny runs on ``candles``, one per base L1 strength in ``alphas`` (plots off, 40 % test)."""
    results = []
    for alpha in alphas:
        manager = TrainingManager(
            resolve_config({"l1_alpha": alpha, "l2_alpha": 0.001, "dropout_rate": 0.2}),
            preset="tiny",
            seed=42,
            artifacts_dir=directory_factory.mktemp(f"{name}-{alpha}"),
            preset_overrides={"plots": False, "max_rows": 4000, "test_fraction": 0.4},
        )
        results.append(manager.run_full_training("BTCUSDT", candles=candles))
    return results
