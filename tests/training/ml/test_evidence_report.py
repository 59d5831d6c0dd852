from training.ml.collapse import MSG_COLLAPSED
from training.ml.evidence_report import (
    MSG_ENSEMBLE_WORSE,
    MSG_GAPS,
    MSG_LIGHTGBM_NO_EFFECT,
    MSG_PENALTY_SHARE,
    measured_warnings,
)

WORSE = {"baseline": "majority", "metric": "log_loss", "difference": 0.02, "ci95_low": 0.01, "ci95_high": 0.03}


def regime(models: dict, ensemble: dict) -> dict:
    return {"status": "trained", "reason": "", "models": models, "ensemble": ensemble}


def test_measured_warnings_name_penalty_share_collapse_no_effect_worse_ensemble_and_gaps():
    lstm = {
        "evidence": {"penalty_share_at_best_epoch": 0.62, "best_epoch": 3},
        "collapsed": True,
        "spread": {"proba_std": 0.0, "class_shares": {"down": 0.0, "flat": 0.0, "up": 1.0}},
    }
    lightgbm = {"evidence": {"reg_alpha": 0.01, "zero_leaf_share": 0.001}, "collapsed": False, "spread": {}}
    result = {
        "data": {"gaps": {"count": 1, "missing_bars": 72, "largest": {"missing": 72, "after": "T"}}},
        "ensembles": {
            "bull_trend": regime(
                {"lstm": lstm, "lightgbm": lightgbm},
                {"vs_baseline": {**WORSE, "verdict": "worse"}, "collapsed": False, "spread": {}},
            )
        },
    }
    assert measured_warnings(result) == [
        MSG_GAPS.format(count=1, missing=72, largest=72, after="T"),
        MSG_PENALTY_SHARE.format(where="bull_trend/lstm", share=0.62, epoch=3),
        MSG_COLLAPSED.format(name="bull_trend/lstm", cls="up", share=1.0, std=0.0),
        MSG_LIGHTGBM_NO_EFFECT.format(where="bull_trend/lightgbm", alpha=0.01, share=0.001),
        MSG_ENSEMBLE_WORSE.format(regime="bull_trend", baseline="majority", difference=0.02, low=0.01, high=0.03),
    ]
    assert "62%" in measured_warnings(result)[1]
