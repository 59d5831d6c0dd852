"""End to end: the engine trades a synthetic series with a planted effect and finds it; on a martingale it finds
nothing. Both run paths (one process, regime parts) reach the record through the same function."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.training.ml.trading.synthetic import synthetic_candles
from training.ml.manager import TrainingManager
from training.ml.parameters import BASE_DEFAULTS
from training.ml.regime_parts import merge_regime_parts, regimes_of_run, train_regime_part
from training.ml.regularization import resolve_config
from training.ml.results import RunResult
from training.ml.trading.system import Trials
from training.ml.trading.window import VALIDATION_FILE, WINDOW_FILE

CONFIG = resolve_config(dict(BASE_DEFAULTS))
BARS = 6000
# more bars and a longer test block than ``tiny`` keeps, so the common test window holds ~1,800 bars
OVERRIDES = {"plots": False, "max_rows": BARS, "test_fraction": 0.4}

pytestmark = pytest.mark.slow


def train(candles, directory, **kwargs) -> RunResult:
    manager = TrainingManager(
        CONFIG, preset="tiny", seed=42, artifacts_dir=directory, preset_overrides=OVERRIDES, **kwargs
    )
    return RunResult.from_dict(manager.run_full_training("SYN", candles=candles)).validate()


def no_skill_is_never_better(result: RunResult) -> None:
    for section in result.ensembles.values():
        for record in [*section.models.values(), section.ensemble]:
            if record is not None and (record.test_spread or {}).get("collapsed"):
                assert record.vs_baseline.verdict == "no skill"


def test_a_planted_effect_is_found(tmp_path):
    result = train(synthetic_candles(BARS, edge=2.0, seed=1), tmp_path)
    trading = result.trading
    assert trading.window["bars"] > 1000
    assert trading.before_costs.sharpe_ci95_low > 0
    assert trading.before_costs.shift_null_p < 0.01
    assert trading.verdict == "better"
    assert any(v.model == "ensemble" and v.holm_verdict == "better" for v in trading.verdicts)
    # what costs take: the same positions, less cost × turnover
    assert trading.after_costs.stats.sharpe < trading.before_costs.stats.sharpe
    assert trading.after_costs.stats.trades == trading.before_costs.stats.trades
    no_skill_is_never_better(result)
    for name in (WINDOW_FILE, VALIDATION_FILE):
        frame = pd.read_csv(tmp_path / name)
        assert frame["bar"].is_monotonic_increasing and frame["bar"].is_unique  # the bar in the run's candles
        assert set(frame["position"]) <= {-1.0, 0.0, 1.0}  # the traded position, a column of its own
    assert len(pd.read_csv(tmp_path / WINDOW_FILE)) == trading.window["bars"]
    assert trading.summary_line().startswith("system: Sharpe after 10 bps +")


def test_a_martingale_is_not(tmp_path):
    result = train(synthetic_candles(BARS, edge=0.0, seed=1), tmp_path, trials=Trials(n=5, sharpes=[0.01, -0.02, 0.0]))
    trading = result.trading
    assert trading.before_costs.sharpe_ci95_low < 0 < trading.before_costs.sharpe_ci95_high
    assert trading.verdict != "better"
    assert not any(v.holm_verdict == "better" for v in trading.verdicts)
    assert all(v.holm_p >= v.p_value for v in trading.verdicts)
    assert trading.deflation.n_trials == 5 and trading.deflation.trials_with_sharpe == 4
    assert trading.deflation.sharpe_variance == pytest.approx(
        np.var([0.01, -0.02, 0.0, trading.after_costs.per_bar_sharpe], ddof=1)
    )
    assert trading.deflation.dsr <= trading.after_costs.psr
    no_skill_is_never_better(result)


def test_regime_parts_reach_the_same_record(tmp_path):
    candles = synthetic_candles(BARS, edge=2.0, seed=1)
    single = train(candles, tmp_path / "single").trading
    run_dir = tmp_path / "parts"
    parts = {
        regime: train_regime_part(
            regime=regime,
            config=CONFIG,
            preset="tiny",
            seed=42,
            run_dir=run_dir,
            candles=candles,
            symbol="SYN",
            exchange="BINANCE",
            interval="1h",
            preset_overrides=OVERRIDES,
        )
        for regime in regimes_of_run()
    }
    assert all("trading" not in p or p["trading"] is None for p in parts.values())  # parts leave it to the merge
    merged = merge_regime_parts(
        parts=parts,
        workers={},
        run_dir=run_dir,
        preset="tiny",
        wall_started=0.0,
        candles=candles,
        preset_overrides=OVERRIDES,
    )
    trading = RunResult.from_dict(merged).trading
    assert trading.window == single.window
    assert trading.theta.theta == single.theta.theta
    assert trading.after_costs.stats.sharpe == pytest.approx(single.after_costs.stats.sharpe)
    assert (run_dir / WINDOW_FILE).is_file()
