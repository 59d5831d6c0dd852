"""Real engine results for the compare page's paired differences (tiny preset, one synthetic series each,
``tests.training.ml.trading.synthetic``): a planted effect (volume announces the next 4 bars' move) learned by a
moderately and an extremely L1-regularized logistic regression, and a martingale (no effect) learned by two L1
strengths. Session-scoped; a test module imports the fixtures it uses."""

from __future__ import annotations

import pytest

from tests.training.ml.trading.synthetic import synthetic_candles
from training.ml.manager import TrainingManager
from training.ml.regularization import resolve_config

PLANTED_L1 = (0.001, 30.0)  # on the planted series the weak one overfits, the strong one keeps what the edge gives
MARTINGALE_L1 = (0.0001, 1.0)


def _train(candles, alphas, directory_factory, name: str) -> list[dict]:
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


@pytest.fixture(scope="session")
def planted_results(tmp_path_factory):
    return _train(synthetic_candles(4000, edge=4.0, seed=2), PLANTED_L1, tmp_path_factory, "planted")


@pytest.fixture(scope="session")
def martingale_results(tmp_path_factory):
    return _train(synthetic_candles(4000, edge=0.0, seed=3), MARTINGALE_L1, tmp_path_factory, "martingale")
