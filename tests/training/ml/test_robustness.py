import numpy as np
import pandas as pd
import pytest

from training.ml.predict import CLASS_NAMES
from training.ml.robustness import HELPS, NO_EVIDENCE, cross_market_table, regularization_effect, sign_test

BARS = 1500


def predictions(y: np.ndarray, proba: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(proba, columns=list(CLASS_NAMES))
    frame.insert(0, "y", y)
    frame.insert(0, "open_time", pd.date_range("2022-01-01", periods=len(y), freq="h", tz="UTC"))
    return frame


def calibrated(rng, n: int) -> np.ndarray:
    """Near the base rates (a well regularized model on a martingale), with small independent noise."""
    p = np.full((n, 3), 1 / 3) + rng.normal(0, 0.01, (n, 3))
    return p / p.sum(axis=1, keepdims=True)


def overconfident(rng, n: int) -> np.ndarray:
    """0.8 on a random class every bar: an under-regularized model that fitted noise."""
    p = np.full((n, 3), 0.1)
    p[np.arange(n), rng.integers(0, 3, n)] = 0.8
    return p


def test_the_cross_market_table_finds_the_planted_effect_and_no_evidence_where_there_is_none():
    rng = np.random.default_rng(11)
    y = rng.integers(0, 3, BARS)  # labels of a martingale: nothing to learn
    planted = regularization_effect(
        predictions(y, calibrated(rng, BARS)), predictions(y, overconfident(rng, BARS)), market="A 1h", horizon=4
    )
    null = regularization_effect(
        predictions(y, calibrated(rng, BARS)), predictions(y, calibrated(rng, BARS)), market="B 1h", horizon=4
    )
    table = cross_market_table([planted, null])
    assert [(r.market, r.effect) for r in table.rows] == [("A 1h", HELPS), ("B 1h", NO_EVIDENCE)]
    assert planted.ci95_high < 0 < null.ci95_high and null.ci95_low < 0 and planted.bars == BARS
    assert (table.helps, table.hurts, table.unchanged, table.sign_test_p) == (1, 0, 1, 1.0)
    assert planted.after_cost_sharpe is None  # filled by the trading-evidence work, never faked here


def test_sign_test_matches_the_binomial_worked_example():
    # 9 of 10 signed markets help: two-sided P = 2 * (C(10,9) + C(10,10)) / 2**10 = 22 / 1024.
    assert sign_test(9, 1) == pytest.approx(22 / 1024)
    assert sign_test(0, 0) is None
