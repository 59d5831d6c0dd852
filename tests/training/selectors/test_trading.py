"""The trading selectors: the trials a run counts, PBO over runs on the same bars, a sweep in trading terms.
Runs are real engine results on synthetic series (tiny preset, three regularization strengths)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.training.runs_helpers import make_finished_run
from tests.training.trading_runs import STRENGTHS
from training.models import Sweep, SweepPoint, TrainingRun
from training.selectors.trading import (
    MSG_DEGRADATION_TOO_FEW,
    MSG_PBO_TOO_FEW,
    run_trials,
    runs_pbo,
    sweep_trading,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_trials_count_the_runs_on_the_market_and_dataset(profile, dataset, strength_results):
    first = make_finished_run(profile, dataset, result=strength_results[0])
    second = make_finished_run(profile, dataset, result=strength_results[1])
    TrainingRun.objects.filter(pk=second.pk).update(status="failed")
    third = make_finished_run(profile, dataset, result=strength_results[2])
    trials = run_trials(run=third)
    assert trials.n == 2  # the succeeded other run, and the run itself
    assert trials.sharpes == [pytest.approx(strength_results[0]["trading"]["after_costs"]["per_bar_sharpe"])]
    assert run_trials(run=first).n == 2


def test_pbo_over_runs_needs_two_and_reads_their_validation_returns(profile, dataset, strength_results):
    runs = [make_finished_run(profile, dataset, result=r) for r in strength_results]
    assert runs_pbo(runs=runs[:1])["error"] == MSG_PBO_TOO_FEW.format(n=1)
    out = runs_pbo(runs=runs)
    assert out["configurations"] == 3 and out["blocks"] == 16 and out["splits"] == 12870
    assert 0.0 <= out["pbo"] <= 1.0 and out["runs"] == [r.pk for r in runs]
    assert sum(out["logit_histogram"]["counts"]) == out["splits"]


def test_a_sweep_in_trading_terms(profile, dataset, strength_results):
    sweep = Sweep.objects.create(
        symbol="BTCUSDT", profile=profile, preset="tiny", axes=[{"param": "l1_alpha", "values": list(STRENGTHS)}]
    )
    for index, (alpha, result) in enumerate(zip(STRENGTHS, strength_results, strict=True)):
        run = make_finished_run(profile, dataset, result=result)
        SweepPoint.objects.create(sweep=sweep, run=run, index=index, values={"l1_alpha": alpha})
    points = list(sweep.points.select_related("run").order_by("index"))
    out = sweep_trading(sweep=sweep, points=points)
    rows = out["points"]
    assert [r["least_regularized"] for r in rows] == [True, False, False]
    assert rows[0]["vs_least_regularized"] is None
    for row, result in zip(rows, strength_results, strict=True):
        after = result["trading"]["after_costs"]
        assert row["sharpe"] == pytest.approx(after["stats"]["sharpe"])
        assert row["degradation"] == pytest.approx(row["validation_sharpe"] - row["sharpe"])
    for row in rows[1:]:
        paired = row["vs_least_regularized"]
        assert paired["ci95_low"] <= paired["difference"] <= paired["ci95_high"]
        # the window files keep 8 significant digits
        assert paired["difference"] == pytest.approx(row["sharpe"] - rows[0]["sharpe"], rel=1e-6)
    verdict = out["degradation_verdict"]
    assert verdict["reduced"] == (verdict["rho"] < 0 and rows[-1]["degradation"] < rows[0]["degradation"])
    assert ("did not" in verdict["text"]) is (not verdict["reduced"])
    assert out["pbo"]["configurations"] == 3
    few = sweep_trading(sweep=sweep, points=points[:2])
    assert few["degradation_verdict"]["text"] == MSG_DEGRADATION_TOO_FEW
    assert np.isfinite(few["points"][1]["vs_least_regularized"]["difference"])
