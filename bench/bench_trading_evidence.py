"""The trading evidence on the offline sample, and what computing it costs.

Usage: python bench/bench_trading_evidence.py [preset=quick] [sweep_preset=smoke] [sweep_points=5]

1. One run of ``preset`` with the default profile on the shipped offline sample (BTC/USD hourly): the system's
   after-cost Sharpe at 10 bps and at 0 bps with their intervals, PSR, DSR with N and the trials' variance,
   shift-null p, θ, the common window; the wall time of the ``trading`` stage against the run's wall time. The
   run's record is then recomputed from its stored predictions (``trading_record``) to time it alone.
2. A sweep of ``sweep_points`` L1 strengths (``sweep_preset``) on the same data: each point's after-cost Sharpe,
   and the PBO (CSCV, S = 16) over the points' validation returns. N for the run of step 1 counts these runs too
   (the bench has no database: N = 1 + sweep points, variance of their per-bar Sharpe ratios).
Prints the load average beside the figures (the machine is shared).
"""

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from training.marketdata.sample import read_sample_frame
from training.ml.manager import TrainingManager, run_candles
from training.ml.parameters import BASE_DEFAULTS
from training.ml.regularization import resolve_config
from training.ml.results import RunResult
from training.ml.trading.pbo import cscv
from training.ml.trading.sharpe_tests import deflated_sharpe_ratio
from training.ml.trading.system import Trials, trading_record
from training.ml.trading.window import VALIDATION_FILE, read_validation_returns

PRESET = sys.argv[1] if len(sys.argv) > 1 else "quick"
SWEEP_PRESET = sys.argv[2] if len(sys.argv) > 2 else "smoke"
SWEEP_POINTS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
L1_VALUES = np.geomspace(1e-4, 1.0, SWEEP_POINTS)


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def train(preset: str, config: dict, directory: str) -> tuple[RunResult, float]:
    started = time.perf_counter()
    manager = TrainingManager(config, preset=preset, seed=42, artifacts_dir=directory)
    result = RunResult.from_dict(manager.run_full_training("BTCUSDT", candles=read_sample_frame()))
    return result, time.perf_counter() - started


def show(label: str, e) -> None:
    s = e.stats
    print(
        f"  {label}: Sharpe {s.sharpe:+.2f} [{e.sharpe_ci95_low:+.2f}, {e.sharpe_ci95_high:+.2f}], PSR {e.psr:.3f}, "
        f"shift-null p {e.shift_null_p:.3f} ({e.shift_null_shifts} shifts), total return {s.total_return:+.4f}, "
        f"max drawdown {s.max_drawdown:.4f}, trades {s.trades}, exposure {s.exposure:.2f}, turnover/yr "
        f"{s.turnover_per_year:.0f}"
    )


def main() -> None:
    config = resolve_config(dict(BASE_DEFAULTS))
    print(f"load average before: {load()}")
    run_dir = tempfile.mkdtemp(prefix="bench-trading-")
    result, wall = train(PRESET, config, run_dir)
    trading = result.trading
    stage = result.timings.stages.get("trading", 0.0)
    print(
        f"run ({PRESET}, default profile, offline sample): wall {wall:.1f} s, trading stage {stage:.2f} s "
        f"({100 * stage / wall:.2f} % of the run), load average {load()}"
    )
    started = time.perf_counter()
    again = trading_record(
        run_dir=Path(run_dir),
        candles=run_candles(read_sample_frame(), result_preset(PRESET)),
        regimes=list(result.ensembles),
        ensembles=result.ensembles,
        horizon=int(result.labels["horizon"]),
        interval=result.interval,
        seed=result.seed,
    )
    print(
        f"  recomputed from the stored predictions in {time.perf_counter() - started:.2f} s; same Sharpe: "
        f"{again.after_costs.stats.sharpe == trading.after_costs.stats.sharpe}"
    )
    print(
        f"  window {trading.window['first_open_time'][:16]} → {trading.window['last_open_time'][:16]}, "
        f"{trading.window['bars']} bars ({trading.window['bars_with_prediction']} with a prediction), "
        f"θ = {trading.theta.theta}, rule: {trading.settings['described']}"
    )
    show(f"after {trading.after_costs.cost_bps:g} bps", trading.after_costs)
    show("at 0 bps", trading.before_costs)
    print(
        f"  buy and hold: Sharpe {trading.buy_and_hold.sharpe:+.2f}, total return {trading.buy_and_hold.total_return:+.4f}"
    )
    print(f"  {trading.headline}")

    sharpes, returns = [], {}
    for alpha in L1_VALUES:
        directory = tempfile.mkdtemp(prefix="bench-sweep-")
        point_config = resolve_config({**BASE_DEFAULTS, "l1_alpha": float(alpha)})
        point, point_wall = train(SWEEP_PRESET, point_config, directory)
        t = point.trading
        sharpes.append(t.after_costs.per_bar_sharpe)
        returns[f"{alpha:.0e}"] = read_validation_returns(Path(directory) / VALIDATION_FILE)
        print(
            f"sweep point l1_alpha={alpha:.0e} ({SWEEP_PRESET}): after-cost Sharpe {t.after_costs.stats.sharpe:+.2f} "
            f"[{t.after_costs.sharpe_ci95_low:+.2f}, {t.after_costs.sharpe_ci95_high:+.2f}], wall {point_wall:.1f} s"
        )
    frame = pd.DataFrame(returns).dropna()
    out = cscv(frame.to_numpy())
    print(
        f"PBO over {out['configurations']} sweep points ({SWEEP_PRESET}): {out['pbo']:.3f} (S = {out['blocks']}, "
        f"{out['splits']} splits, {out['bars']} shared validation bars); mean in-sample per-bar Sharpe "
        f"{out['mean_in_sample_sharpe']:+.4f} → out of sample {out['mean_out_of_sample_sharpe']:+.4f}"
    )
    trials = Trials(n=1 + SWEEP_POINTS, sharpes=sharpes)
    a = trading.after_costs
    variance = float(np.var([*sharpes, a.per_bar_sharpe], ddof=1))
    dsr, sr0 = deflated_sharpe_ratio(
        a.per_bar_sharpe, a.stats.bars, skew=a.skewness, kurtosis=a.kurtosis, n_trials=trials.n, variance=variance
    )
    print(
        f"DSR of the {PRESET} run with N = {trials.n} (itself + the sweep points), variance of the per-bar Sharpe "
        f"ratios {variance:.3e}: {dsr:.3f} (SR0 {sr0:.4f} per bar); with N = 1 it is the PSR {a.psr:.3f}"
    )
    print(f"load average after: {load()}")


def result_preset(name: str) -> dict:
    from training.ml.presets import get_preset

    return get_preset(name)


if __name__ == "__main__":
    main()
