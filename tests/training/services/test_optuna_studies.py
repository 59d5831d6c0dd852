"""A real run's LightGBM tunings: each fold's finished study is stored once in the project database with the run
id and its trials, the run page links it, and deleting the run deletes its studies (issue 26)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from training.ml.backends.lightgbm_backend import LightGBMBackend
from training.ml.optuna_storage import rdb_storage
from training.ml.presets import SETTINGS
from training.models import TrainingRun
from training.selectors.optuna_studies import optuna_study_ids_by_run, run_optuna_studies
from training.services.runs import optuna_storage_url, training_run_create, training_run_execute

TRIALS = 3


@pytest.fixture
def lightgbm_in_tiny(monkeypatch):
    """The `tiny` preset with LightGBM beside the logistic regression in the bull regime, 3 trials, 2 folds."""
    monkeypatch.setitem(SETTINGS["tiny"]["ensembles"], "bull_trend", ["logreg", "lightgbm"])
    monkeypatch.setitem(SETTINGS["tiny"], "n_folds", 2)
    monkeypatch.setitem(LightGBMBackend.preset_params, "tiny", {"n_trials": TRIALS, "early_stopping_rounds": 5})


@pytest.mark.slow
def test_a_runs_studies_are_stored_once_per_fold_linked_and_deleted_with_the_run(
    transactional_db, profile, dataset, launcher_client, lightgbm_in_tiny, settings
):
    import optuna

    settings.OPTUNA_DASHBOARD_URL = "http://127.0.0.1:8080/"
    run = training_run_create(
        profile=profile, symbol=dataset.symbol, interval=dataset.interval, preset="tiny", enqueue=False
    )
    training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert "lightgbm" in run.result["ensembles"]["bull_trend"]["models"]

    url = rdb_storage(optuna_storage_url())  # NullPool: no idle connection left open on PostgreSQL
    mine = [s for s in optuna.get_all_study_summaries(url) if s.user_attrs.get("run_id") == run.pk]
    assert sorted(s.user_attrs["fold"] for s in mine) == [0, 1]  # once per fold
    for summary in mine:
        study = optuna.load_study(study_name=summary.study_name, storage=url)
        assert study.user_attrs == {
            "run_id": run.pk,
            "regime": "bull_trend",
            "fold": summary.user_attrs["fold"],
            "model": "lightgbm",
        }
        assert len(study.trials) == TRIALS and all(t.state.name in ("COMPLETE", "PRUNED") for t in study.trials)
    stored = run.result["ensembles"]["bull_trend"]["models"]["lightgbm"]["best_params"]
    last = next(s for s in mine if s.user_attrs["fold"] == 1)
    assert optuna.load_study(study_name=last.study_name, storage=url).best_params == stored

    listed = run_optuna_studies(run=run)
    assert [s["name"] for s in listed] == sorted(s.study_name for s in mine)
    page = launcher_client.get(reverse("training:run_detail", args=[run.pk])).content.decode()
    for study in listed:
        assert f'<a href="http://127.0.0.1:8080/dashboard/studies/{study["id"]}">{study["name"]}</a>' in page
        assert f"({TRIALS} trials)" in page

    names = {s.study_name for s in mine}
    ids = {s._study_id for s in mine}
    run.delete()
    # This run's own studies are gone (another test's studies may carry a reused run id on a shared database).
    assert not ids & set(optuna_study_ids_by_run().get(run.pk, []))
    assert not names & {s.study_name for s in optuna.get_all_study_summaries(url)}
