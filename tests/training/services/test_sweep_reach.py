"""The reach check at sweep creation: an axis the profile's overrides or the preset shadow everywhere is
refused naming what shadows it and the axis to use instead; a partly shadowed axis is accepted and says what it
reaches."""

import pytest
from django.core.exceptions import ValidationError

from tests.training.runs_helpers import make_dataset, make_profile
from training.ml.default_profile import default_override_fields
from training.models import Sweep, TrainingRun
from training.services.sweep_reach import (
    MSG_AXIS_REACHES_NOTHING,
    MSG_SHADOWED_BY_OVERRIDE,
    MSG_SHADOWED_BY_PRESET,
    sweep_reach_preview,
    trained_models,
)
from training.services.sweeps import sweep_create

pytestmark = pytest.mark.django_db


def default_like():
    return make_profile("default-like", is_default=True, **default_override_fields())


def test_a_base_axis_the_overrides_shadow_is_refused_naming_the_overrides_and_the_backend_axis():
    profile, _ = default_like(), make_dataset()
    with pytest.raises(ValidationError) as exc:
        sweep_create(profile=profile, symbol="BTCUSDT", preset="tiny", axes=["l1_alpha=0.001,0.1"])
    (message,) = exc.value.messages
    assert message.startswith(
        MSG_AXIS_REACHES_NOTHING.split("{shadows}")[0].format(param="l1_alpha", profile=profile.name, preset="tiny")
    )
    assert "sklearn_alpha" in message and "Sweep sklearn.alpha instead." in message
    assert MSG_SHADOWED_BY_PRESET.format(preset="tiny", section="LightGBM", models="lightgbm") in message
    assert not Sweep.objects.exists() and not TrainingRun.objects.exists()


def test_a_backend_axis_shadowed_by_an_explicit_value_is_refused():
    profile, _ = make_profile("explicit C", sklearn_c=2.0), make_dataset()
    with pytest.raises(ValidationError) as exc:
        sweep_create(profile=profile, symbol="BTCUSDT", preset="tiny", axes=["sklearn.alpha=1,10"])
    assert "sklearn_c" in exc.value.messages[0] and "Sweep sklearn.C instead." in exc.value.messages[0]


def test_a_partly_shadowed_axis_is_accepted_and_lists_what_it_reaches(django_capture_on_commit_callbacks):
    profile, _ = default_like(), make_dataset()
    with django_capture_on_commit_callbacks(execute=False):
        sweep = sweep_create(profile=profile, symbol="BTCUSDT", preset="smoke", axes=["l1_alpha=0.001,0.1"])
    (axis,) = sweep.axes
    assert axis["reaches"] == ["lightgbm", "tabnet"]
    assert set(axis["misses"]) == {"logreg", "lstm", "transformer"}
    assert any(
        s.startswith(MSG_SHADOWED_BY_OVERRIDE.split("{fields}")[0]) and "sklearn_alpha" in s for s in axis["shadows"]
    )
    for point in sweep.points.select_related("run"):  # what the page claims is what the runs trained with
        config = point.run.snapshot["config"]
        assert config["lightgbm"]["reg_alpha"] == point.values["l1_alpha"]
        assert config["sklearn"]["alpha"] == 10.0 and config["tensorflow"]["l1_reg"] == 1e-4


def test_the_preview_states_the_reach_of_each_axis():
    profile = default_like()
    reach = sweep_reach_preview(profile=profile, preset="smoke", axes=["dropout_rate=0,0.3", "sklearn.alpha=1,10"])
    assert [(r["param"], r["reaches"], r["text"]) for r in reach] == [
        ("dropout_rate", ["lstm", "transformer"], "reaches lstm, transformer"),
        ("sklearn.alpha", ["logreg"], "reaches logreg"),
    ]
    assert trained_models("tiny") == ["logreg"]


def test_the_sweep_command_refuses_a_shadowed_axis_and_prints_the_reach_of_an_accepted_one(
    django_capture_on_commit_callbacks,
):
    from io import StringIO

    from django.core.management import CommandError, call_command

    profile, _ = default_like(), make_dataset()
    args = ["sweep", "BTCUSDT", "--profile", profile.name, "--no-wait"]
    with pytest.raises(CommandError) as exc:
        call_command(*args, "--param", "l1_alpha=0.001,0.1", "--preset", "tiny")
    assert "sklearn_alpha" in str(exc.value) and "Sweep sklearn.alpha instead." in str(exc.value)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=False):
        call_command(*args, "--param", "l1_alpha=0.001,0.1", "--preset", "smoke", "--seeds", "2", stdout=out)
    assert "l1_alpha: reaches lightgbm, tabnet; not logreg, lstm, transformer" in out.getvalue()
    assert Sweep.objects.get().points.count() == 4
