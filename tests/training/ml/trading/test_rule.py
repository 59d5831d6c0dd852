"""The declared rule and its costs on a hand-checkable 10-bar example."""

import numpy as np
import pytest

from training.ml.trading.rule import (
    MSG_HOLD,
    TradingSettings,
    net_returns,
    positions,
    signal,
    turnover,
)
from training.ml.trading.stats import per_bar_sharpe, return_statistics

R = np.array([0.010, -0.020, 0.015, 0.005, -0.010, -0.012, 0.004, 0.008, 0.020, -0.006])
POSITION = np.array([0, 1, 1, 1, 0, -1, -1, 0, 1, 1], dtype=float)


def test_costs_are_charged_on_every_change_by_its_size():
    # changes: 0→1 (bar 1), 1→0 (4), 0→−1 (5), −1→0 (7), 0→1 (8): 5 sides
    assert turnover(POSITION).tolist() == [0, 1, 0, 0, 1, 1, 0, 1, 1, 0]
    gross = net_returns(POSITION, R, 0.0)
    net = net_returns(POSITION, R, 10.0)
    assert gross.tolist() == pytest.approx([0, -0.02, 0.015, 0.005, 0, 0.012, -0.004, 0, 0.02, -0.006])
    assert (gross - net).tolist() == pytest.approx([0, 1e-3, 0, 0, 1e-3, 1e-3, 0, 1e-3, 1e-3, 0])
    # the mean falls by exactly cost × turnover / bars = 0.001 × 5 / 10; the std by what the changed bars imply
    assert gross.mean() - net.mean() == pytest.approx(0.0005)
    assert per_bar_sharpe(gross) == pytest.approx(0.022 / 10 / np.std(gross, ddof=1))
    assert per_bar_sharpe(net) == pytest.approx((0.022 - 0.005) / 10 / np.std(net, ddof=1))
    assert np.std(net, ddof=1) == pytest.approx(np.std(gross - 1e-3 * turnover(POSITION), ddof=1))


def test_a_long_to_short_flip_pays_two_sides():
    assert turnover([1, -1]).tolist() == [1, 2]
    assert net_returns([1, -1], [0.0, 0.0], 10.0).tolist() == pytest.approx([-0.001, -0.002])


def test_statistics_of_the_example():
    s = return_statistics(net_returns(POSITION, R, 10.0), POSITION, periods=8760)
    assert s["trades"] == 3 and s["exposure"] == pytest.approx(0.7) and s["bars"] == 10
    assert s["turnover_per_year"] == pytest.approx(5 / 10 * 8760)
    assert s["total_return"] == pytest.approx(np.expm1(0.017))
    # held bars 1, 2, 3, 5, 6, 8, 9 net of costs: −0.021, 0.015, 0.005, 0.011, −0.004, 0.019, −0.006
    assert s["hit_rate"] == pytest.approx(4 / 7)


def test_the_threshold_and_long_flat():
    score = np.array([0.2, -0.2, 0.05, np.nan])
    assert signal(score, 0.1, allow_short=True).tolist() == [1, -1, 0, 0]
    assert signal(score, 0.1, allow_short=False).tolist() == [1, 0, 0, 0]


def test_hold_for_the_horizon_or_re_decide_every_bar():
    score = np.array([0.5, -0.5, -0.5, 0.0, 0.0, -0.5, 0.5])
    assert positions(score, 0.1, allow_short=True, hold="bar", horizon=3).tolist() == [1, -1, -1, 0, 0, -1, 1]
    assert positions(score, 0.1, allow_short=True, hold="horizon", horizon=3).tolist() == [1, 1, 1, 0, 0, -1, -1]


def test_settings_are_checked():
    with pytest.raises(ValueError, match="hold must be one of"):
        TradingSettings(hold="week")
    assert MSG_HOLD
    with pytest.raises(ValueError, match="cost_bps"):
        TradingSettings(cost_bps=-1)
    with pytest.raises(ValueError, match="grid"):
        TradingSettings(theta_grid=())
    settings = TradingSettings(cost_bps=5, allow_short=False)
    assert TradingSettings.from_dict(settings.to_dict()) == settings
    assert settings.describe() == "long/flat, held for the label horizon, 5 bps per side"
