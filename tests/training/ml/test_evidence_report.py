import copy

import pytest

from training.ml.backends.keras_advice import MSG_PENALTY_SHARE
from training.ml.backends.lightgbm_backend import MSG_NO_EFFECT as MSG_LIGHTGBM_NO_EFFECT
from training.ml.collapse import MSG_COLLAPSED
from training.ml.evidence_report import MSG_ENSEMBLE_WORSE, MSG_GAPS, measured_warnings

WORSE = {"baseline": "majority", "metric": "log_loss", "difference": 0.02, "ci95_low": 0.01, "ci95_high": 0.03}


@pytest.mark.slow
def test_measured_warnings_name_penalty_share_collapse_no_effect_worse_ensemble_and_gaps(smoke_result):
    """The real smoke result's bull_trend, its measurements set to what each warning is about."""
    result = copy.deepcopy(smoke_result)
    section = result["ensembles"]["bull_trend"]
    result["ensembles"] = {"bull_trend": section}
    section["models"] = {key: section["models"][key] for key in ("lstm", "lightgbm")}
    lstm, lightgbm = section["models"]["lstm"], section["models"]["lightgbm"]
    lstm["evidence"].update(penalty_share_at_best_epoch=0.62, best_epoch=3)
    lstm.update(collapsed=True, spread={"proba_std": 0.0, "class_shares": {"down": 0.0, "flat": 0.0, "up": 1.0}})
    lightgbm["evidence"].update(reg_alpha=0.01, zero_leaf_share=0.001)
    lightgbm["collapsed"] = section["ensemble"]["collapsed"] = False
    section["ensemble"]["vs_baseline"] = {**WORSE, "verdict": "worse"}
    result["data"]["gaps"] = {"count": 1, "missing_bars": 72, "largest": {"missing": 72, "after": "T"}}

    assert measured_warnings(result) == [
        MSG_GAPS.format(count=1, missing=72, largest=72, after="T"),
        MSG_PENALTY_SHARE.format(where="bull_trend/lstm", penalty_share=0.62, best_iteration=3),
        MSG_COLLAPSED.format(name="bull_trend/lstm", cls="up", share=1.0, std=0.0),
        MSG_LIGHTGBM_NO_EFFECT.format(where="bull_trend/lightgbm", reg_alpha=0.01, zero_share=0.001),
        MSG_ENSEMBLE_WORSE.format(regime="bull_trend", baseline="majority", difference=0.02, low=0.01, high=0.03),
    ]
    assert "62%" in measured_warnings(result)[1]
