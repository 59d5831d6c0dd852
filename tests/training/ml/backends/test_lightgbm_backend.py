import numpy as np
import optuna
import pytest

from training.ml.backends.lightgbm_backend import SEARCH_SPACE, LightGBMBackend
from training.ml.errors import TrainingCancelled

from .conftest import PROFILE, build, split

pytestmark = pytest.mark.slow


def test_library_kwargs_map_the_profile_section():
    backend = LightGBMBackend({"reg_alpha": 0.4, "reg_lambda": 1.5})
    assert backend.library_kwargs() == {"reg_alpha": 0.4, "reg_lambda": 1.5}
    params = backend.train_params({"learning_rate": 0.1, "num_leaves": 31})
    assert params["deterministic"] is True and params["force_row_wise"] is True and params["num_threads"] == 1


def test_booster_gets_fixed_profile_values_and_optuna_never_searches_them(fitted, tmp_path):
    backend, _ = fitted("lightgbm")
    section = PROFILE["lightgbm"]
    assert backend.model.params["reg_alpha"] == section["reg_alpha"]
    assert backend.model.params["reg_lambda"] == section["reg_lambda"]
    trials = backend.study.trials
    assert len(trials) == 3
    for trial in trials:
        assert set(trial.params) == set(SEARCH_SPACE)
        assert trial.user_attrs["reg_alpha"] == section["reg_alpha"]
        assert trial.user_attrs["reg_lambda"] == section["reg_lambda"]
    assert backend.evidence()["best_params"] == backend.study.best_params
    assert sum(backend.evidence()["n_trials"].values()) == 3

    backend.save(tmp_path)
    text = (tmp_path / "lightgbm_model.txt").read_text()
    assert f"[lambda_l1: {section['reg_alpha']:g}]" in text
    assert f"[lambda_l2: {section['reg_lambda']:g}]" in text


def test_same_seed_repeats_probabilities_exactly():
    X_train, y_train, X_val, y_val, X_test, _ = split("lightgbm")
    first = build("lightgbm", seed=7).fit(X_train, y_train, X_val, y_val).predict_proba(X_test)
    second = build("lightgbm", seed=7).fit(X_train, y_train, X_val, y_val).predict_proba(X_test)
    np.testing.assert_array_equal(first, second)


def test_study_is_stored_in_the_given_storage_and_should_stop_cancels_between_trials(tmp_path):
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) >= 2  # first check is before tuning, the second after trial 1

    backend = build(
        "lightgbm",
        params={"n_trials": 5, "optuna_storage": storage, "study_name": "cancel-me"},
        should_stop=should_stop,
    )
    X_train, y_train, X_val, y_val, _, _ = split("lightgbm")
    with pytest.raises(TrainingCancelled, match="between Optuna trials"):
        backend.fit(X_train, y_train, X_val, y_val)
    study = optuna.load_study(study_name="cancel-me", storage=storage)
    assert len(study.trials) == 1
    assert backend.model is None


def test_a_class_absent_from_training_still_gives_three_columns():
    X_train, y_train, X_val, y_val, X_test, _ = split("lightgbm")
    keep = y_train != 1
    proba = (
        build("lightgbm", params={"n_trials": 1}).fit(X_train[keep], y_train[keep], X_val, y_val).predict_proba(X_test)
    )
    assert proba.shape == (len(X_test), 3)
    assert proba[:, 1].max() < proba[:, [0, 2]].max()


def test_search_space_can_be_narrowed_but_not_extended_to_regularization():
    X_train, y_train, X_val, y_val, _, _ = split("lightgbm")
    backend = build("lightgbm", params={"n_trials": 2, "search_space": {"n_estimators": [50, 60]}})
    backend.fit(X_train, y_train, X_val, y_val)
    assert all(50 <= t.params["n_estimators"] <= 60 for t in backend.study.trials)
    assert backend.library_params["search_space"]["num_leaves"] == list(SEARCH_SPACE["num_leaves"])
    with pytest.raises(ValueError, match="reg_alpha"):
        build("lightgbm", params={"search_space": {"reg_alpha": [0, 1]}}).search_space()


def test_tuning_runs_in_memory_and_the_rdb_storage_gets_the_finished_study_without_a_pooled_connection(tmp_path):
    from sqlalchemy.pool import NullPool

    from training.ml.optuna_storage import rdb_storage

    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    params = {"n_trials": 2, "optuna_storage": storage, "study_name": "kept", "study_user_attrs": {"run_id": 7}}
    backend = build("lightgbm", params=params)
    X_train, y_train, X_val, y_val, _, _ = split("lightgbm")
    backend.fit(X_train, y_train, X_val, y_val)
    assert isinstance(backend.study._storage, optuna.storages.InMemoryStorage)
    stored = optuna.load_study(study_name="kept", storage=storage)
    assert [t.params for t in stored.trials] == [t.params for t in backend.study.trials] and len(stored.trials) == 2
    assert [t.value for t in stored.trials] == [t.value for t in backend.study.trials]
    assert stored.user_attrs == {"run_id": 7} and backend.stored_study == {"name": "kept", "id": stored._study_id}
    assert isinstance(rdb_storage(storage).engine.pool, NullPool)


def test_tpe_starts_up_on_at_most_a_third_of_the_trials_and_is_seeded_by_the_backend_seed():
    assert build("lightgbm", params={"n_trials": 10}).startup_trials() == 3
    assert build("lightgbm", params={"n_trials": 3}).startup_trials() == 1
    assert build("lightgbm", params={"n_trials": 30, "startup_trials": 20}).startup_trials() == 10
    X_train, y_train, X_val, y_val, _, _ = split("lightgbm")
    params = {"n_trials": 6}
    first = build("lightgbm", seed=1, params=params).fit(X_train, y_train, X_val, y_val)
    again = build("lightgbm", seed=1, params=params).fit(X_train, y_train, X_val, y_val)
    other = build("lightgbm", seed=2, params=params).fit(X_train, y_train, X_val, y_val)
    sampler = first.study.sampler
    assert isinstance(sampler, optuna.samplers.TPESampler) and sampler._n_startup_trials == 2
    assert isinstance(first.study.pruner, optuna.pruners.MedianPruner)
    assert [t.params for t in first.study.trials] == [t.params for t in again.study.trials]
    assert [t.params for t in first.study.trials] != [t.params for t in other.study.trials]
    assert first.evidence()["sampler"] == {"name": "TPESampler", "seed": 1, "n_startup_trials": 2}


def test_leaf_statistics_count_the_trees_used_and_l1_zeroes_leaves():
    X_train, y_train, X_val, y_val, _, _ = split("lightgbm")
    params = {"n_trials": 1, "search_space": {"n_estimators": [60, 60], "num_leaves": [31, 31]}}
    plain = build("lightgbm", reg={"reg_alpha": 0.0, "reg_lambda": 0.0}, params=params)
    strong = build("lightgbm", reg={"reg_alpha": 5.0, "reg_lambda": 0.0}, params=params)
    plain_stats = plain.fit(X_train, y_train, X_val, y_val).evidence()
    strong_stats = strong.fit(X_train, y_train, X_val, y_val).evidence()
    frame = plain.model.trees_to_dataframe()
    assert plain.best_iteration > 1
    used = frame[(frame["tree_index"] >= 3) & (frame["tree_index"] < plain.best_iteration * 3)]
    assert plain_stats["trees"] == plain.best_iteration * 3
    assert plain_stats["splits"] == int(used["split_feature"].notna().sum())
    assert plain_stats["leaves"] == int(used["split_feature"].isna().sum())
    assert plain_stats["zero_leaf_share"] < strong_stats["zero_leaf_share"]
    assert strong_stats["mean_abs_leaf"] < plain_stats["mean_abs_leaf"]


def test_sample_weight_of_ones_changes_nothing_and_other_weights_change_the_model():
    X_train, y_train, X_val, y_val, X_test, _ = split("lightgbm")
    params = {"n_trials": 1, "search_space": {"n_estimators": [40, 40]}}
    plain = build("lightgbm", params=params).fit(X_train, y_train, X_val, y_val).predict_proba(X_test)
    ones = build("lightgbm", params=params).fit(X_train, y_train, X_val, y_val, sample_weight=np.ones(len(y_train)))
    np.testing.assert_array_equal(plain, ones.predict_proba(X_test))
    weights = np.linspace(0.2, 1.8, len(y_train))
    weighted = build("lightgbm", params=params).fit(X_train, y_train, X_val, y_val, sample_weight=weights)
    assert np.abs(weighted.predict_proba(X_test) - plain).max() > 1e-3
    assert weighted.library_params["sample_weight"] is True
