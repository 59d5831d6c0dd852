import json

import numpy as np
import pytest

from tests.fixtures.results import RESULT_CONFIG, RESULT_EXCHANGE, RESULT_SYMBOL
from training.ml.artifacts import load_ensemble, verify_manifest
from training.ml.backends import registered_backends
from training.ml.ensembles import BaseEnsemble
from training.ml.errors import RegularizationInvalid, TrainingCancelled
from training.ml.features import compute_features
from training.ml.manager import MAX_SERIES_POINTS, TrainingManager
from training.ml.presets import get_preset
from training.ml.regimes import REGIMES
from training.ml.regularization import resolve_config

CONFIG = resolve_config({"l1_alpha": 0.05, "l2_alpha": 0.01, "dropout_rate": 0.2})


class BullLinear(BaseEnsemble):
    regime = "bull_trend"
    model_keys = ("logreg", "lightgbm")


class VolatileLinear(BaseEnsemble):
    regime = "volatile"
    model_keys = ("logreg",)


FAST = {"bull_trend": BullLinear, "volatile": VolatileLinear}
FAST_PRESET = {"max_rows": 2500, "plots": False, "models": {"lightgbm": {"n_trials": 2}}}


@pytest.mark.slow
def test_smoke_run_end_to_end_with_all_five_backends(smoke_run):
    result, events, logs = smoke_run.result, smoke_run.events, smoke_run.logs
    assert json.loads(json.dumps(result)) == result
    assert (result["symbol"], result["exchange"], result["preset"]) == (RESULT_SYMBOL, RESULT_EXCHANGE, "smoke")
    assert result["data"]["rows"] == get_preset("smoke")["max_rows"]
    assert set(result["regimes"]["distribution"]) == set(REGIMES)
    assert sum(result["regimes"]["distribution"].values()) == result["data"]["labeled_rows"]
    assert len(result["regime_series"]["time"]) <= MAX_SERIES_POINTS
    trained = {r: s for r, s in result["ensembles"].items() if s["status"] == "trained"}
    assert set(trained) == set(REGIMES)
    used = {k for s in trained.values() for k in s["models"]}
    assert used == set(registered_backends())
    assert set(result["regularization"]["applied"]) == used
    by_regime = result["regularization"]["applied_by_regime"]
    assert {r: set(models) for r, models in by_regime.items()} == {r: set(s["models"]) for r, s in trained.items()}
    seeds = {by_regime[r]["lightgbm"]["sampler"]["seed"] for r in trained}
    assert len(seeds) == len(trained)  # Optuna's sampler is seeded per regime (and fold)
    for section in trained.values():
        for record in [*section["models"].values(), section["ensemble"]]:
            assert record["vs_baseline"]["baseline"] == section["comparison"]["best_baseline"]
            assert isinstance(record["collapsed"], bool) and "proba_std" in record["spread"]
            assert record["metrics"]["validation"]["n"] == section["comparison"]["validation_rows"]
        ensemble, n_folds = section["ensemble"], len(section["split"]["folds"])
        assert ensemble["combiner_rule"]["validation_rows"] == section["comparison"]["validation_rows"]
        assert ensemble["combiner"] in ensemble["candidates"] and ensemble["vs_best_member"]["verdict"]
        if n_folds >= 2:  # the chosen combiner forward-chained over folds 2..k: the ensemble's same-model gap
            assert len(ensemble["train_val_gap"]["folds"]) == n_folds - 1
    assert "measured_warnings" in result["regularization"]["report"]
    assert result["data"]["gaps"]["count"] == 0
    for section in trained.values():
        for model in section["models"].values():
            assert model["fit_seconds"] > 0
            assert set(model["metrics"]) == {"train", "validation", "test"}
        assert section["ensemble"]["metrics"]["test"]["log_loss"] > 0
        assert section["baselines"]["persistence"]["test"]["n"] == section["split"]["test"]
    lstm = trained["bull_trend"]["models"]["lstm"]
    assert len(lstm["history"]["train_loss"]) == len(lstm["history"]["val_loss"]) >= 1
    assert lstm["evidence"]["penalty_share_of_loss"] > 0
    assert trained["bull_trend"]["models"]["lightgbm"]["best_params"]
    assert result["regularization"]["applied"]["lightgbm"]["reg_alpha"] == RESULT_CONFIG["lightgbm"]["reg_alpha"]
    assert any("Regularization for bear_trend/transformer (tensorflow)" in line for line in logs)
    timings = result["timings"]
    assert 0 < timings["fit_seconds_total"] < timings["wall_seconds"]
    assert {"features", "labels", "regimes", "training", "save", "report"} <= set(timings["stages"])
    fractions = [e[1] for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    stages = [e[0] for e in events]
    assert stages.index("regularization") < stages.index("features") < stages.index("training")
    assert sum(1 for e in events if e[0] == "training" and "fitted in" in e[2]) == sum(
        len(s["models"]) * len(s["split"]["folds"]) for s in trained.values()
    )


@pytest.mark.slow
def test_progress_names_the_step_running_now_before_it_ends(smoke_run):
    training = [(fraction, message) for stage, fraction, message in smoke_run.events if stage == "training"]
    fitted = [i for i, (_, message) in enumerate(training) if "fitted in" in message]
    assert fitted
    for i in fitted:  # each fit was announced, at the fraction reached so far, right before it ended
        regime, rest = training[i][1].split(": ", 1)
        model, fold = rest.split(" fold ")[0], rest.split(" fold ")[1].split(" ")[0]
        assert training[i - 1][1] == f"{regime}: fitting {model}, fold {fold} …"
        assert training[i - 1][0] < training[i][0]
    combiner = [i for i, (_, message) in enumerate(training) if "choosing and calibrating the combiner" in message]
    assert len(combiner) == len(smoke_run.result["ensembles"])
    assert all("combiner" in training[i + 1][1] and "chosen" in training[i + 1][1] for i in combiner)


@pytest.mark.slow
def test_every_regime_explains_its_combiner_choice(smoke_run):
    result = smoke_run.result
    for regime, section in result["ensembles"].items():
        ensemble = section["ensemble"]
        candidates = ensemble["candidates"]
        assert set(candidates) == {"best_single", "average", "weighted", "meta"}  # smoke: 2 folds
        chosen = candidates[ensemble["combiner"]]["validation_log_loss"]
        assert chosen <= candidates["best_single"]["validation_log_loss"]
        assert ensemble["metrics"]["validation"]["log_loss"] <= chosen + 1e-9  # calibration fitted on these rows
        assert set(ensemble["combiner_weights"]) == set(section["models"])
        assert sum(ensemble["combiner_weights"].values()) == pytest.approx(1.0)
        vs = ensemble["vs_best_member"]
        assert vs["member"] in section["models"] and vs["ci95_low"] <= vs["difference"] <= vs["ci95_high"]
        calibration = ensemble["calibration"]
        assert calibration["method"] == "temperature" and calibration["parameter"]["temperature"] > 0
        assert calibration["test"]["rows"] == section["split"]["test"]
        assert f"reliability_{regime}.png" in result["plots"]


@pytest.mark.slow
def test_artifacts_reload_to_identical_probabilities(smoke_run, tmp_path):
    import shutil
    from pathlib import Path

    import lightgbm

    from training.ml.dataset import FeatureMatrix

    result, candles = smoke_run.result, smoke_run.candles
    directory = tmp_path / "artifacts"  # a copy: the shared run's files stay untouched
    shutil.copytree(Path(result["artifacts"]["path"]), directory)
    assert verify_manifest(directory) == []
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["features"] == result["features"]
    assert manifest["library_versions"]["lightgbm"] == lightgbm.__version__
    assert set(result["plots"]) <= set(manifest["files"]) and "regimes.png" in result["plots"]
    frame = compute_features(candles)
    matrix = FeatureMatrix.from_frame(frame, list(frame.columns))
    for regime in manifest["trained_regimes"]:
        loaded = load_ensemble(directory / regime)
        saved = loaded.saved_test_predictions()
        np.testing.assert_allclose(
            loaded.predict_proba(matrix, saved["positions"]), saved["ensemble"], rtol=0, atol=1e-6
        )
        base = loaded.base_proba(matrix, saved["positions"])
        for key, proba in base.items():
            np.testing.assert_allclose(proba, saved[f"base_{key}"], rtol=0, atol=1e-6)
        saved_base = {key: saved[f"base_{key}"] for key in base}
        assert np.array_equal(loaded.stacker.predict_proba(saved_base), saved["ensemble"])  # combiner + calibration
        assert loaded.stacker.combiner.key == result["ensembles"][regime]["ensemble"]["combiner"]
    (directory / manifest["trained_regimes"][0] / "stacker.json").write_bytes(b"tampered")
    assert verify_manifest(directory) == [f"{manifest['trained_regimes'][0]}/stacker.json"]


def test_invalid_regularization_stops_before_any_training(btc_candles, tmp_path):
    bad = resolve_config({"l1_alpha": 0.05, "l2_alpha": 0.01, "dropout_rate": 0.2}, {"sklearn": {"l1_ratio": 1.5}})
    stages = []
    manager = TrainingManager(bad, preset="smoke", artifacts_dir=tmp_path, progress=lambda s, f, m: stages.append(s))
    with pytest.raises(RegularizationInvalid) as exc:
        manager.run_full_training("BTCUSDT", candles=btc_candles)
    assert "l1_ratio" in str(exc.value) and exc.value.report["ok"] is False
    assert "features" not in stages and "training" not in stages
    assert manager.applied["bull_trend"]["logreg"]["values"]["l1_ratio"] == 1.5  # applied, then rejected
    assert not any(tmp_path.iterdir())


def test_warnings_are_kept_in_the_result(btc_candles, tmp_path):
    loud = resolve_config({"l1_alpha": 0.05, "l2_alpha": 0.01, "dropout_rate": 0.2}, {"lightgbm": {"reg_alpha": 150}})
    manager = TrainingManager(
        loud, preset="smoke", artifacts_dir=tmp_path, ensembles=FAST, preset_overrides=FAST_PRESET
    )
    result = manager.run_full_training("BTCUSDT", candles=btc_candles)
    assert result["regularization"]["report"]["status"] == "warning"
    assert any("reg_alpha" in w for w in result["regularization"]["report"]["warnings"])
    assert result["regularization"]["applied"]["lightgbm"]["reg_alpha"] == 150


def test_should_stop_cancels_between_models(btc_candles, tmp_path):
    messages = []

    def should_stop():
        return len(messages) >= 2  # after two fitted folds

    manager = TrainingManager(
        CONFIG,
        preset="smoke",
        artifacts_dir=tmp_path,
        ensembles=FAST,
        preset_overrides=FAST_PRESET,
        should_stop=should_stop,
        progress=lambda s, f, m: messages.append(m) if "fitted" in m else None,
    )
    with pytest.raises(TrainingCancelled):
        manager.run_full_training("BTCUSDT", candles=btc_candles)
    assert len(messages) == 2


def test_same_seed_repeats_lightgbm_and_logistic_metrics(btc_candles, tmp_path):
    def run(directory):
        manager = TrainingManager(
            CONFIG, preset="smoke", seed=3, artifacts_dir=directory, ensembles=FAST, preset_overrides=FAST_PRESET
        )
        return manager.run_full_training("BTCUSDT", candles=btc_candles)["ensembles"]["bull_trend"]

    first, second = run(tmp_path / "a"), run(tmp_path / "b")
    for key in ("logreg", "lightgbm"):
        assert first["models"][key]["metrics"] == second["models"][key]["metrics"]
    assert first["ensemble"]["metrics"] == second["ensemble"]["metrics"]


def test_skipped_regime_is_recorded_in_the_result(btc_candles, tmp_path):
    manager = TrainingManager(
        CONFIG,
        preset="smoke",
        artifacts_dir=tmp_path,
        ensembles=FAST,
        preset_overrides=FAST_PRESET | {"min_rows": 100_000},
    )
    result = manager.run_full_training("BTCUSDT", candles=btc_candles)
    for regime in FAST:
        section = result["ensembles"][regime]
        assert section["status"] == "skipped"
        assert section["reason"].startswith(f"Only {section['rows']} labeled rows in regime {regime}")
    assert result["artifacts"]["files"] == ["manifest.json"]


def test_lightgbm_studies_are_written_once_per_fold_with_the_run_id(btc_candles, tmp_path):
    """Tuning runs in memory; each fold's finished study is written once, with its trials and the run id."""
    import optuna

    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    manager = TrainingManager(
        CONFIG,
        preset="smoke",
        artifacts_dir=tmp_path / "run",
        ensembles={"bull_trend": BullLinear},
        preset_overrides=FAST_PRESET,
        optuna_storage=storage,
        run_id=4242,
    )
    result = manager.run_full_training("BTCUSDT", candles=btc_candles)
    assert manager.run_tag.startswith("run4242-")
    names = sorted(s.study_name for s in optuna.get_all_study_summaries(storage))
    assert names == [f"{manager.run_tag}-bull_trend-fold{j}" for j in range(2)]
    n_trials = FAST_PRESET["models"]["lightgbm"]["n_trials"]
    for fold, name in enumerate(names):
        study = optuna.load_study(study_name=name, storage=storage)
        assert study.user_attrs == {"run_id": 4242, "regime": "bull_trend", "fold": fold, "model": "lightgbm"}
        assert len(study.trials) == n_trials and [t.number for t in study.trials] == list(range(n_trials))
        assert all(t.state.name in ("COMPLETE", "PRUNED") for t in study.trials)
    last = optuna.load_study(study_name=names[-1], storage=storage)
    model = result["ensembles"]["bull_trend"]["models"]["lightgbm"]
    assert model["best_params"] == last.best_params  # the stored study is the one the model was refit from


def test_the_overview_and_a_regime_s_plots_are_drawn_in_the_plotting_thread_while_regimes_train(
    btc_candles, tmp_path, monkeypatch
):
    import threading
    import time

    from training.ml import plots

    events = []
    draw, train, overview = plots.regime_plots, TrainingManager.train_regime, plots.plot_regimes

    def drawing(directory, regime, section):
        events.append(("draw", regime, threading.current_thread().name, time.perf_counter()))
        return draw(directory, regime, section)

    def drawing_overview(directory, times, close, regimes):
        events.append(("draw", "overview", threading.current_thread().name, time.perf_counter()))
        return overview(directory, times, close, regimes)

    def training(self, regime, data):
        trained = train(self, regime, data)
        events.append(("trained", regime, threading.current_thread().name, time.perf_counter()))
        return trained

    monkeypatch.setattr(plots, "regime_plots", drawing)
    monkeypatch.setattr(plots, "plot_regimes", drawing_overview)
    monkeypatch.setattr(TrainingManager, "train_regime", training)
    manager = TrainingManager(
        CONFIG, preset="smoke", artifacts_dir=tmp_path, ensembles=FAST, preset_overrides=FAST_PRESET | {"plots": True}
    )
    result = manager.run_full_training("BTCUSDT", candles=btc_candles)

    draws = {regime: (thread, at) for kind, regime, thread, at in events if kind == "draw"}
    trained = {regime: at for kind, regime, _, at in events if kind == "trained"}
    assert set(draws) == {*FAST, "overview"}  # once each: record_run did not draw them again
    assert all(thread.startswith("plots") for thread, _ in draws.values())
    assert draws["overview"][1] < trained["bull_trend"]  # the overview is drawn while the first regime trains
    assert draws["bull_trend"][1] < trained["volatile"]  # bull's plots began before the next regime finished
    for regime in FAST:
        assert f"learning_curves_{regime}.png" in result["plots"] or f"confusion_{regime}.png" in result["plots"]
    assert result["plots"][0] == "regimes.png"
    assert all((tmp_path / name).is_file() for name in result["plots"])
    assert set(result["plots"]) <= set(result["artifacts"]["files"])


def test_a_plot_that_fails_fails_the_run_with_its_error(btc_candles, tmp_path, monkeypatch):
    from training.ml import plots

    def broken(directory, regime, section):
        raise RuntimeError(f"no reliability plot for {regime}")

    monkeypatch.setattr(plots, "plot_reliability", broken)
    manager = TrainingManager(
        CONFIG, preset="smoke", artifacts_dir=tmp_path, ensembles=FAST, preset_overrides=FAST_PRESET | {"plots": True}
    )
    with pytest.raises(RuntimeError, match="no reliability plot for bull_trend"):
        manager.run_full_training("BTCUSDT", candles=btc_candles)
