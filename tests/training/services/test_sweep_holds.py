"""Settings a sweep holds at every point (``lightgbm.early_stopping=off``): parsed against the backends'
declarations and the preset, stored on the sweep, carried by every point's run, honoured by the backend, and
disclosed on the sweep page and in the API."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.training.runs_helpers import make_dataset, make_profile
from training.models import Sweep, TrainingRun
from training.selectors.sweep_evidence import MSG_HELD_OFF, sweep_mechanism
from training.selectors.sweeps import sweep_api_payload, sweep_points
from training.services.runs import training_run_execute
from training.services.sweep_holds import (
    MSG_HOLD_REACHES_NOTHING,
    MSG_HOLD_UNKNOWN,
    MSG_HOLD_VALUE,
    holdable_names,
)
from training.services.sweep_reach import sweep_reach_preview
from training.services.sweeps import sweep_create, sweep_point_rerun, sweep_reconcile

Status = TrainingRun.Status
LGB_OFF = {"models": {"lightgbm": {"early_stopping": False}}}


def create(profile, axes, **kwargs):
    return sweep_create(profile=profile, symbol="BTCUSDT", preset=kwargs.pop("preset", "smoke"), axes=axes, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_a_held_setting_is_stored_and_every_point_run_carries_it_while_only_the_axis_is_swept(test_broker):
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    sweep = create(profile, ["lightgbm.reg_lambda=0.1,10", "lightgbm.early_stopping=off"], seeds=2)
    assert sweep.params == ["lightgbm.reg_lambda"] and sweep.objective_model == "lightgbm"
    assert sweep.holds == [
        {
            "text": "lightgbm.early_stopping=off",
            "section": "lightgbm",
            "setting": "early_stopping",
            "value": "off",
            "models": ["lightgbm"],
            "params": {"early_stopping": False},
        }
    ]
    points = sweep_points(sweep=sweep)
    assert len(points) == 4 and {tuple(p.values) for p in points} == {("lightgbm.reg_lambda",)}
    assert all(p.run.snapshot["preset_overrides"] == LGB_OFF for p in points)
    keras = create(profile, ["tensorflow.l2_reg=1e-4,1e-2", "tensorflow.early_stopping=OFF"])
    assert keras.holds[0]["models"] == ["lstm", "transformer"] and keras.holds[0]["text"].endswith("=off")
    overrides = sweep_points(sweep=keras)[0].run.snapshot["preset_overrides"]
    assert overrides == {"models": {"lstm": {"early_stopping": False}, "transformer": {"early_stopping": False}}}
    plain = create(profile, ["lightgbm.reg_lambda=0.1,10"])
    assert plain.holds == [] and "preset_overrides" not in sweep_points(sweep=plain)[0].run.snapshot


@pytest.mark.django_db(transaction=True)
def test_a_hold_nothing_declares_or_the_preset_does_not_train_is_refused_with_the_other_errors(test_broker):
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    with pytest.raises(ValidationError) as exc:
        create(profile, ["sklearn.early_stopping=off", "lightgbm.early_stopping=maybe", "l3_alpha=1"])
    messages = exc.value.messages
    assert (
        MSG_HOLD_UNKNOWN.format(
            text="sklearn.early_stopping=off",
            section="sklearn",
            setting="early_stopping",
            known=", ".join(holdable_names()),
        )
        in messages
    )
    assert (
        MSG_HOLD_VALUE.format(
            text="lightgbm.early_stopping=maybe", setting="lightgbm.early_stopping", words="off", value="maybe"
        )
        in messages
    )
    assert any("l3_alpha" in m for m in messages)
    with pytest.raises(ValidationError) as exc:
        create(profile, ["sklearn.alpha=1,10", "lightgbm.early_stopping=off"], preset="tiny")
    assert exc.value.messages == [
        MSG_HOLD_REACHES_NOTHING.format(
            text="lightgbm.early_stopping", preset="tiny", section="LightGBM", models="lightgbm"
        )
    ]
    assert not Sweep.objects.exists() and not TrainingRun.objects.exists()
    reach = sweep_reach_preview(profile=profile, preset="smoke", axes=["l2_alpha=0.1,1", "lightgbm.early_stopping=off"])
    assert reach[-1]["text"] == "lightgbm.early_stopping=off: held at every point for lightgbm"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_point_held_off_trains_lightgbm_for_the_fixed_rounds_and_the_sweep_says_so(
    test_broker, launcher_client, fast_monitor
):
    """A real smoke run of the point: LightGBM boosts the search space's largest n_estimators in every regime and
    fold (no early stopping), the point records it, the page and the API say the curve shows L1/L2 alone; a re-run
    of the point keeps the hold."""
    from training.ml.backends.lightgbm_backend import SEARCH_SPACE

    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    sweep = create(profile, ["lightgbm.reg_lambda=1", "lightgbm.early_stopping=off"])
    (point,) = sweep_points(sweep=sweep)
    run = training_run_execute(run_id=point.run_id)
    assert run.status == Status.SUCCEEDED, run.error
    rounds = SEARCH_SPACE["n_estimators"][1]
    trained = [s for s in run.result["ensembles"].values() if s["status"] == "trained"]
    assert trained
    for section in trained:
        evidence = section["models"]["lightgbm"]["evidence"]
        assert evidence["early_stopping"] == 0 and evidence["best_iteration"] == rounds
    sweep = sweep_reconcile(sweep=sweep)
    (point,) = sweep_points(sweep=sweep)
    effect = point.summary["backends"]["lightgbm"]["effect"]
    assert effect["early_stopping"] == 0 and effect["best_iteration"] == rounds
    lines = sweep_mechanism(sweep=sweep, points=[point])
    held = MSG_HELD_OFF.format(
        text="lightgbm.early_stopping=off", model="lightgbm", fact="best_iteration", low=rounds, high=rounds
    )
    assert held in lines and not any(line.startswith("lightgbm: early stopping kept") for line in lines)
    assert sweep_api_payload(sweep=sweep)["mechanism"] == lines
    assert sweep_api_payload(sweep=sweep)["holds"] == sweep.holds
    page = launcher_client.get(reverse("training:sweep_detail", args=[sweep.pk])).content.decode()
    assert 'id="sweep-holds"' in page and held in page.replace("&#x27;", "'")

    TrainingRun.objects.filter(pk=point.run_id).update(status=Status.FAILED)
    again = sweep_point_rerun(point=sweep_points(sweep=sweep)[0])
    assert again.run.snapshot["preset_overrides"] == LGB_OFF


@pytest.mark.django_db
def test_the_sweep_command_takes_hold_and_prints_what_it_holds(django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import CommandError, call_command

    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    args = ["sweep", "BTCUSDT", "--profile", profile.name, "--no-wait", "--param", "lightgbm.reg_lambda=0.1,1"]
    with pytest.raises(CommandError) as exc:
        call_command(*args, "--hold", "lightgbm.early_stopping=off", "--preset", "tiny")
    assert "preset tiny trains no LightGBM model" in str(exc.value)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=False):
        call_command(*args, "--hold", "lightgbm.early_stopping=off", "--preset", "smoke", stdout=out)
    assert "lightgbm.early_stopping=off: held at every point for lightgbm" in out.getvalue()
    sweep = Sweep.objects.get()
    assert sweep.params == ["lightgbm.reg_lambda"] and [h["text"] for h in sweep.holds] == [
        "lightgbm.early_stopping=off"
    ]
