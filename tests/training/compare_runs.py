"""Real engine results for the compare page's paired differences (tiny preset, one synthetic series each,
``tests.training.ml.trading.synthetic``): a planted effect (volume announces the next 4 bars' move) learned by a
moderately and an extremely L1-regularized logistic regression, and a martingale (no effect) learned by two L1
strengths. Session-scoped; a test module imports the fixtures it uses."""

from __future__ import annotations

import pytest

from tests.training.ml.trading.synthetic import synthetic_candles
from tests.training.trading_runs import train_l1_strengths

PLANTED_L1 = (0.001, 30.0)  # on the planted series the weak one overfits, the strong one keeps what the edge gives
MARTINGALE_L1 = (0.0001, 1.0)


@pytest.fixture(scope="session")
def planted_results(tmp_path_factory):
    return train_l1_strengths(synthetic_candles(4000, edge=4.0, seed=2), PLANTED_L1, tmp_path_factory, "planted")


@pytest.fixture(scope="session")
def martingale_results(tmp_path_factory):
    return train_l1_strengths(synthetic_candles(4000, edge=0.0, seed=3), MARTINGALE_L1, tmp_path_factory, "martingale")
