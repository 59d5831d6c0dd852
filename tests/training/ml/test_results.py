import json

import pytest

from training.ml.manager import TrainingManager
from training.ml.regularization import resolve_config
from training.ml.results import (
    MSG_UNKNOWN_KEYS,
    RegimeResult,
    ResultInvalid,
    RunResult,
    SplitMetrics,
)

CONFIG = resolve_config({"l1_alpha": 0.01, "l2_alpha": 0.001, "dropout_rate": 0.2})


@pytest.fixture(scope="module")
def tiny_result(btc_candles, tmp_path_factory) -> dict:
    manager = TrainingManager(CONFIG, preset="tiny", seed=5, artifacts_dir=tmp_path_factory.mktemp("tiny"))
    return manager.run_full_training("BTCUSDT", candles=btc_candles)


def test_the_stored_dict_reads_back_into_the_same_typed_result(tiny_result):
    typed = RunResult.from_dict(tiny_result).validate()
    assert typed.to_dict() == tiny_result
    assert json.loads(json.dumps(tiny_result)) == tiny_result
    section = typed.ensembles["bull_trend"]
    model = section.models["logreg"]
    assert model.train_val_gap.log_loss == pytest.approx(
        model.metrics.validation.log_loss - model.metrics.train.log_loss
    )
    assert set(tiny_result["ensembles"]["bull_trend"]["models"]["logreg"]["train_val_gap"]) >= {"log_loss", "accuracy"}


def test_validate_lists_every_problem(tiny_result):
    broken = json.loads(json.dumps(tiny_result))
    model = broken["ensembles"]["bull_trend"]["models"]["logreg"]
    model["metrics"]["test"]["accuracy"] = 1.5
    model["train_val_gap"]["log_loss"] += 0.5
    with pytest.raises(ResultInvalid) as exc:
        RunResult.from_dict(broken).validate()
    where = "RunResult.ensembles.bull_trend.models.logreg"
    assert exc.value.problems == [
        f"{where}.train_val_gap does not match its train and validation metrics",
        f"{where}.metrics.test.accuracy must be in [0, 1]; got 1.5",
    ]


def test_unknown_keys_are_refused_and_optional_fields_default(tiny_result):
    drifted = {**tiny_result, "extra": 1}
    with pytest.raises(ResultInvalid, match="unknown keys"):
        RunResult.from_dict(drifted)
    assert MSG_UNKNOWN_KEYS.format(where="RunResult", keys=["extra"]) in str(
        pytest.raises(ResultInvalid, RunResult.from_dict, drifted).value
    )
    skipped = RegimeResult.from_dict({"status": "skipped", "reason": "too few rows", "rows": 3})
    assert skipped.validate().models == {} and skipped.ensemble is None


def test_a_trained_regime_without_models_and_a_skip_without_reason_are_invalid():
    assert RegimeResult(status="trained", reason="", rows=10).all_problems("r") == [
        f"r: a trained regime needs {name}" for name in ("models", "ensemble", "baselines", "split", "feature_names")
    ]
    assert RegimeResult.skipped("", 0).all_problems("r") == ["r: a skipped regime needs a reason"]


def test_confusion_matrix_must_count_n_rows():
    metrics = SplitMetrics(
        n=5, accuracy=0.5, balanced_accuracy=0.5, macro_f1=0.5, log_loss=1.0, confusion_matrix=[[1, 0, 0]] * 3
    )
    assert metrics.all_problems("m") == ["m.confusion_matrix counts 3 rows, n = 5"]
