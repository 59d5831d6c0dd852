"""Retrain schedules: beat task kept in step with the schedule; the promotion policy on real stored predictions."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_celery_beat.models import PeriodicTask

from tests.training.market_data_server import closed_port_url  # noqa: F401
from tests.training.trained_run import make_trained_run, trained_artifacts, worse_copy  # noqa: F401
from training.marketdata.markets import MSG_NOT_ASCII
from training.ml.presets import PRESETS
from training.models import ActiveModel, RetrainSchedule, TrainingRun
from training.services.registry import model_promote
from training.services.schedules import (
    MSG_POLICY_GUARD,
    MSG_POLICY_NEVER,
    MSG_UNKNOWN_PRESET,
    schedule_apply_policy,
    schedule_create,
    schedule_delete,
    schedule_update,
)

pytestmark = pytest.mark.django_db


def test_create_update_delete_keep_the_beat_task(db):
    schedule = schedule_create(symbol=" ethusdt ", crontab="0  */6 * * *", preset="tiny", fetch=True)
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert (schedule.symbol, schedule.crontab, task.crontab.hour, task.enabled) == (
        "ETHUSDT",
        "0 */6 * * *",
        "*/6",
        True,
    )
    schedule_update(schedule=schedule, data={"enabled": False, "crontab": "15 1 * * *"})
    task.refresh_from_db()
    assert (task.enabled, task.crontab.minute, task.crontab.hour) == (False, "15", "1")
    schedule_delete(schedule=schedule)
    assert not PeriodicTask.objects.exists()


def test_invalid_schedules_are_refused_with_field_errors(db):
    with pytest.raises(ValidationError) as error:
        schedule_create(symbol="BTCUSDT", crontab="* * *", preset="huge")
    assert set(error.value.message_dict) == {"crontab", "preset"}
    assert error.value.message_dict["preset"] == [MSG_UNKNOWN_PRESET.format(name="huge", known=", ".join(PRESETS))]
    assert not RetrainSchedule.objects.exists() and not PeriodicTask.objects.exists()


def test_a_schedule_symbol_that_upper_casing_would_change_is_refused(db):
    with pytest.raises(ValidationError) as error:
        schedule_create(symbol="straße", crontab="0 * * * *", preset="tiny")
    message = MSG_NOT_ASCII.format(label="Symbol", given="straße", upper="STRASSE")
    assert error.value.message_dict["symbol"] == [message]
    assert not RetrainSchedule.objects.exists() and not PeriodicTask.objects.exists()


def policy(promote: str) -> RetrainSchedule:
    return schedule_create(symbol="BTCUSDT", crontab="* * * * *", preset="tiny", promote=promote)


def test_policy_never_and_failed_runs(trained_artifacts):  # noqa: F811
    run = make_trained_run(trained_artifacts)
    assert schedule_apply_policy(schedule=policy("never"), run=run) is None
    run.refresh_from_db()
    assert run.log.rstrip().endswith(MSG_POLICY_NEVER.format(run=run.pk))
    TrainingRun.objects.filter(pk=run.pk).update(status="failed")
    run.refresh_from_db()
    assert schedule_apply_policy(schedule=policy("always"), run=run) is None
    assert not ActiveModel.objects.exists()


def test_policy_not_worse_compares_the_overlapping_test_window(settings, trained_artifacts, tmp_path):  # noqa: F811
    # The guard's baseline check is left out here (the real tiny run fails it) to exercise the policy itself.
    settings.PROMOTION_ENFORCED_CHECKS = ["ensembles_trained", "not_collapsed"]
    good = make_trained_run(trained_artifacts)
    bad = worse_copy(make_trained_run(trained_artifacts), tmp_path)
    schedule = policy("not_worse")
    assert schedule_apply_policy(schedule=schedule, run=bad).reason.endswith("no active model yet")
    promotion = schedule_apply_policy(schedule=schedule, run=good)
    assert promotion is not None and promotion.replaced_id == bad.pk and promotion.trigger == "schedule"
    third = worse_copy(make_trained_run(trained_artifacts), tmp_path)
    assert schedule_apply_policy(schedule=schedule, run=third) is None
    third.refresh_from_db()
    assert "not promoted" in third.log and ActiveModel.objects.get().run_id == good.pk
    same = make_trained_run(trained_artifacts)  # identical predictions: not worse
    assert schedule_apply_policy(schedule=schedule, run=same).replaced_id == good.pk


def test_policy_always_promotes_but_never_overrides_the_guard(settings, trained_artifacts):  # noqa: F811
    first, second = make_trained_run(trained_artifacts), make_trained_run(trained_artifacts)
    model_promote(run=first, force=True, reason="by hand")
    assert schedule_apply_policy(schedule=policy("always"), run=second) is None  # worse in one regime: refused
    second.refresh_from_db()
    refused = MSG_POLICY_GUARD.format(policy="always", run=second.pk, failed="not_worse_than_baseline: worse than")
    assert refused.rsplit(")", 1)[0] in second.log
    assert ActiveModel.objects.get().run_id == first.pk
    settings.PROMOTION_ENFORCED_CHECKS = ["ensembles_trained", "not_collapsed"]
    promotion = schedule_apply_policy(schedule=policy("always"), run=second)
    assert promotion.replaced_id == first.pk and not promotion.overridden


def test_a_fetch_only_schedule_fetches_and_logs_the_active_models_prediction(
    settings,
    trained_artifacts,  # noqa: F811
    closed_port_url,  # noqa: F811
):
    from training.models import PredictionLog
    from training.services.schedules import MSG_OFFLINE, schedule_execute

    settings.BINANCE_API_URL = closed_port_url
    schedule = schedule_create(symbol="BTCUSDT", crontab="0 * * * *", preset="tiny", fetch_only=True)
    run = make_trained_run(trained_artifacts)
    model_promote(run=run, force=True, reason="fetch-only test")
    assert schedule_execute(schedule_id=schedule.pk) is None
    schedule.refresh_from_db()
    assert not TrainingRun.objects.filter(trigger="schedule").exists() and schedule.last_fired_at is not None
    assert MSG_OFFLINE.split("(")[0] in schedule.last_error and f"prediction of run #{run.pk}" in schedule.last_error
    log = PredictionLog.objects.get()
    assert (log.run_id, log.source) == (run.pk, "schedule")
