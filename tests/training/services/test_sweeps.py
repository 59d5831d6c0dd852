"""Sweep services with a real Redis that has no worker (runs stay queued), and one real inline training."""

import time
from statistics import fmean

import pytest
from django.core.exceptions import ValidationError
from simple_history.utils import get_history_model_for_model

from ares_site.embedded_redis import free_port
from tests.conftest import celery_app_using
from tests.training.runs_helpers import make_dataset, make_profile
from training.ml.presets import PRESETS
from training.models import RegularizationProfile, Sweep, TrainingRun
from training.selectors.market_data import DATASET_NOT_FOUND, NO_DATASETS
from training.selectors.sweeps import run_objective, sweep_points, sweep_status
from training.services import sweep_optuna
from training.services.runs import MSG_UNKNOWN_PRESET, training_run_execute
from training.services.sweeps import (
    MAX_TRIALS,
    MSG_BEST_HISTORY,
    MSG_NO_BEST,
    MSG_NOT_CANCELLABLE,
    MSG_TRIALS_REQUIRED,
    sweep_cancel,
    sweep_create,
    sweep_reconcile,
    sweep_save_best_profile,
)

Status = TrainingRun.Status


def queued_tasks(broker) -> int:
    return sum(broker.llen(queue) for queue in (b"training", b"default", b"celery"))


def wait_until_finished(run_id: int, timeout: float = 600.0):
    from training.models import TrainingRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = TrainingRun.objects.get(pk=run_id)
        if run.is_terminal:
            return run
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not finish within {timeout:g} s")


def create(profile, **kwargs):
    params = {"profile": profile, "symbol": "btcusdt", "preset": "smoke", "axes": ["l1_alpha=0.001,0.1"]}
    params.update(kwargs)
    return sweep_create(**params)


@pytest.mark.django_db(transaction=True)
def test_a_grid_sweep_queues_one_ordinary_run_per_point_with_the_point_applied(test_broker):
    profile, _ = make_profile("baseline", is_default=True, lightgbm_reg_lambda=2.0), make_dataset()
    before = profile.resolved_config()
    sweep = create(profile, axes=["l1_alpha=0.001,0.1", "lightgbm.reg_alpha=1e-2:1:3"], name="l1 vs reg_alpha")
    points = sweep_points(sweep=sweep)
    assert [p.values for p in points][:2] == [
        {"l1_alpha": 0.001, "lightgbm.reg_alpha": 0.01},
        {"l1_alpha": 0.001, "lightgbm.reg_alpha": 0.1},
    ]
    assert len(points) == 6 and sweep.asked == 6 and queued_tasks(test_broker) == 6
    for point in points:
        run = point.run
        assert run.sweep == sweep and run.profile == profile and run.status == Status.QUEUED
        assert run.symbol == "BTCUSDT" and run.preset == "smoke" and run.seed == sweep.seed
        config = run.snapshot["config"]
        assert config["l1_alpha"] == point.values["l1_alpha"] == config["sklearn"]["alpha"]
        assert config["lightgbm"]["reg_alpha"] == point.values["lightgbm.reg_alpha"]
        assert config["lightgbm"]["reg_lambda"] == 2.0  # the profile's override stays
        assert run.snapshot["sweep"] == {"id": sweep.pk, "values": point.values}
    profile.refresh_from_db()
    assert profile.resolved_config() == before and RegularizationProfile.objects.count() == 1
    assert sweep_status(sweep=sweep)["status"] == "queued"


@pytest.mark.django_db(transaction=True)
def test_a_point_the_report_refuses_stores_nothing_and_queues_nothing(test_broker):
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    with pytest.raises(ValidationError) as exc:
        create(profile, axes=["sklearn.alpha=1,0"])
    assert exc.value.messages[0].startswith("Point sklearn.alpha=0: Profile 'baseline' cannot be used: ")
    assert "C cannot be derived" in exc.value.messages[0]
    assert not Sweep.objects.exists() and not TrainingRun.objects.exists() and queued_tasks(test_broker) == 0


@pytest.mark.django_db
def test_launch_checks_are_reported_together():
    profile = make_profile("baseline", is_default=True)
    with pytest.raises(ValidationError) as exc:
        create(profile, preset="huge", axes=["l1_alpha=-1"], mode="optuna")
    assert exc.value.messages == [
        "The 'l1_alpha' parameter of the base settings must be a float in the range [0, inf); got -1.0.",
        MSG_UNKNOWN_PRESET.format(name="huge", known=", ".join(PRESETS)),
        DATASET_NOT_FOUND.format(exchange="BINANCE", symbol="BTCUSDT", interval="1h", available=NO_DATASETS),
        MSG_TRIALS_REQUIRED.format(most=MAX_TRIALS),
    ]


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_sweep_cancels_its_runs_and_says_so(test_broker):
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    sweep = create(profile)
    sweep = sweep_cancel(sweep=sweep)
    assert {p.run.status for p in sweep_points(sweep=sweep)} == {Status.CANCELLED}
    assert sweep_status(sweep=sweep)["status"] == "cancelled" and sweep.finished_at
    with pytest.raises(ValidationError) as exc:
        sweep_cancel(sweep=sweep)
    assert exc.value.messages == [MSG_NOT_CANCELLABLE.format(pk=sweep.pk, status="cancelled")]


@pytest.mark.django_db(transaction=True)
def test_an_optuna_sweep_asks_no_more_trials_once_the_broker_refuses_a_run():
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    with celery_app_using(f"redis://127.0.0.1:{free_port()}/0"):  # nothing answers there
        sweep = create(profile, mode="optuna", n_trials=5, parallel=2, axes=["l1_alpha=1e-4:1:5"])
    runs = [point.run for point in sweep_points(sweep=sweep)]
    assert len(runs) == 1 and runs[0].status == Status.FAILED and runs[0].error  # not five failed runs


@pytest.mark.django_db(transaction=True)
def test_an_optuna_sweep_asks_as_runs_finish_and_tells_each_outcome(test_broker):
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    sweep = create(profile, mode="optuna", n_trials=3, parallel=2, axes=["l1_alpha=1e-4:1:5", "dropout_rate=0,0.5"])
    points = sweep_points(sweep=sweep)
    assert len(points) == 2 and [p.trial_number for p in points] == [0, 1] and queued_tasks(test_broker) == 2
    for point in points:
        assert 1e-4 <= point.values["l1_alpha"] <= 1 and point.values["dropout_rate"] in (0.0, 0.5)
        assert point.run.snapshot["config"]["l1_alpha"] == point.values["l1_alpha"]
    assert sweep_status(sweep=sweep)["pending"] == 1

    TrainingRun.objects.filter(pk=points[0].run_id).update(status=Status.FAILED, error="worker lost: test")
    sweep = sweep_reconcile(sweep=sweep)
    points = sweep_points(sweep=sweep)
    assert len(points) == 3 and sweep.asked == 3 and points[2].trial_number == 2 and points[0].recorded
    trials = sweep_optuna.study_trials(name=sweep.optuna_study_name, seed=sweep.seed)
    assert [t["state"] for t in trials] == ["FAIL", "RUNNING", "RUNNING"]
    assert sweep_reconcile(sweep=sweep).asked == 3  # never more than n_trials

    TrainingRun.objects.filter(pk__in=[p.run_id for p in points[1:]]).update(status=Status.CANCELLED)
    sweep = sweep_reconcile(sweep=sweep)
    status = sweep_status(sweep=sweep)
    assert status["status"] == "failed" and "worker lost: test" in status["detail"] and sweep.finished_at
    assert sweep.best_point is None
    with pytest.raises(ValidationError) as exc:
        sweep_save_best_profile(sweep=sweep, name="best")
    assert exc.value.messages == [MSG_NO_BEST.format(pk=sweep.pk)]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_points_trained_inline_give_objectives_a_best_point_and_a_profile_from_it(test_broker, fast_monitor):
    profile, _ = make_profile("baseline", is_default=True, tabnet_lambda_l2=0.01), make_dataset()
    # the ensemble's objective chosen explicitly (by default it would be logreg's own: the one model l1 reaches)
    sweep = create(profile, axes=["l1_alpha=0.0001,1"], name="l1", preset="tiny", objective_model="ensemble")
    assert sweep.objective == Sweep.Objective.ENSEMBLE_VAL_LOG_LOSS and sweep.objective_model == ""
    for point in sweep_points(sweep=sweep):
        # A worker of this test session (the integration tests') may have taken a point that waited long enough
        # for its reconciler: then it finishes there.
        run = training_run_execute(run_id=point.run_id) or wait_until_finished(point.run_id)
        assert run.status == Status.SUCCEEDED, run.error
    sweep = sweep_reconcile(sweep=sweep)
    points = sweep_points(sweep=sweep)
    assert sweep_status(sweep=sweep)["status"] == "succeeded"
    for point in points:
        ensembles = point.run.result["ensembles"]
        expected = fmean(
            e["ensemble"]["metrics"]["validation"]["log_loss"] for e in ensembles.values() if e["status"] == "trained"
        )
        assert point.objective == pytest.approx(expected)
        assert (point.objective, point.summary) == run_objective(point.run.result)
        assert set(point.summary["backends"]) == {"logreg", "ensemble"}  # the tiny preset's one model
    assert sweep.best_point == min(points, key=lambda p: p.objective)

    saved = sweep_save_best_profile(sweep=sweep, name="l1 best")
    assert saved.l1_alpha == sweep.best_point.values["l1_alpha"] and saved.tabnet_lambda_l2 == 0.01
    assert saved.resolved_config() == sweep.best_point.run.snapshot["config"]
    assert f"sweep #{sweep.pk} “l1”" in saved.description and not saved.is_default
    history = get_history_model_for_model(RegularizationProfile).objects.filter(id=saved.pk).get()
    assert history.history_change_reason == MSG_BEST_HISTORY.format(pk=sweep.pk)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_re_running_failed_points_completes_the_sweep_and_the_best_ignores_failed_ones_meanwhile(test_broker):
    from training.selectors.sweep_evidence import MSG_FAILED_IGNORED, sweep_evidence
    from training.services.sweeps import MSG_RERUN_NOT_FAILED, sweep_point_rerun

    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    with celery_app_using(f"redis://127.0.0.1:{free_port()}/0"):  # nothing answers there: every point fails
        sweep = create(profile, preset="tiny", axes=["sklearn.alpha=0.1,10"])
    first, second = sweep_points(sweep=sweep)
    assert {first.run.status, second.run.status} == {Status.FAILED}
    failed_run = first.run_id
    first = sweep_point_rerun(point=first)
    assert first.run_id != failed_run and first.run.rerun_of_id == failed_run and not first.recorded
    assert first.run.snapshot["config"] == TrainingRun.objects.get(pk=failed_run).snapshot["config"]
    assert training_run_execute(run_id=first.run_id).status == Status.SUCCEEDED
    sweep = sweep_reconcile(sweep=sweep)
    assert sweep_status(sweep=sweep)["status"] == "failed" and sweep.best_point == first
    evidence = sweep_evidence(sweep=sweep, points=sweep_points(sweep=sweep))
    assert evidence["left_out"] == 1 and evidence["note"] == MSG_FAILED_IGNORED.format(count=1)
    with pytest.raises(ValidationError) as exc:
        sweep_point_rerun(point=sweep_points(sweep=sweep)[0])
    assert exc.value.messages == [MSG_RERUN_NOT_FAILED.format(index=0, pk=sweep.pk, status="succeeded")]

    second = sweep_point_rerun(point=second)
    assert training_run_execute(run_id=second.run_id).status == Status.SUCCEEDED
    sweep = sweep_reconcile(sweep=sweep)
    assert sweep_status(sweep=sweep)["status"] == "succeeded" and sweep.finished_at is not None
    assert all(p.recorded and p.objective is not None for p in sweep_points(sweep=sweep))
    assert sweep.best_point == min(sweep_points(sweep=sweep), key=lambda p: p.objective)
