import math

import pytest

from tests.training.profile_factories import row
from training.ml.backends.keras_backend import KERAS_L1_WARN
from training.ml.default_profile import DEFAULT_BASE, DEFAULT_OVERRIDES
from training.ml.parameters import BASE_PARAMS, PENALTY_CEILING
from training.ml.regularization import (
    BACKENDS,
    BASE_LABEL,
    ERROR,
    MSG_ABOVE_CEILING,
    MSG_C_DISAGREES,
    MSG_EXTREME,
    MSG_NO_REGULARIZATION,
    MSG_NOT_DERIVABLE,
    MSG_OUT_OF_RANGE,
    OK,
    WARNING,
    Interval,
    field_errors,
    resolve_config,
    validate_and_report_regularization,
)

BASE = {"l1_alpha": 0.01, "l2_alpha": 0.001, "dropout_rate": 0.2}


def test_blank_overrides_take_base_values():
    config = resolve_config(BASE)
    assert config["lightgbm"] == {"reg_alpha": 0.01, "reg_lambda": 0.001}
    assert config["tensorflow"] == {"l1_reg": 0.01, "l2_reg": 0.001, "dropout_rate": 0.2}
    assert config["tabnet"] == {"lambda_sparse": 0.01, "lambda_l2": 0.001}
    assert config["sklearn"]["alpha"] == 0.01 and config["sklearn"]["l1_ratio"] == 0.5


def test_alpha_001_gives_c_100():
    assert resolve_config(BASE)["sklearn"]["C"] == pytest.approx(100.0)


def test_c_is_inverse_of_an_overridden_alpha():
    config = resolve_config(BASE, {"sklearn": {"alpha": 4.0}})
    assert config["sklearn"]["C"] == pytest.approx(0.25)


def test_overrides_win_and_other_values_still_derive():
    config = resolve_config(
        BASE,
        {"lightgbm": {"reg_alpha": 0.5}, "sklearn": {"C": 3.0, "l1_ratio": 0.9}, "tensorflow": {"dropout_rate": 0.0}},
    )
    assert config["lightgbm"] == {"reg_alpha": 0.5, "reg_lambda": 0.001}
    assert config["sklearn"] == {"alpha": 0.01, "l1_ratio": 0.9, "C": 3.0}
    assert config["tensorflow"]["dropout_rate"] == 0.0
    assert config["tabnet"]["lambda_sparse"] == 0.01


def test_resolved_shape_is_exactly_the_contract():
    config = resolve_config(BASE)
    assert set(config) == {"l1_alpha", "l2_alpha", "dropout_rate", "lightgbm", "tensorflow", "sklearn", "tabnet"}
    assert {k: set(v) for k, v in config.items() if isinstance(v, dict)} == {
        "lightgbm": {"reg_alpha", "reg_lambda"},
        "tensorflow": {"l1_reg", "l2_reg", "dropout_rate"},
        "sklearn": {"alpha", "l1_ratio", "C"},
        "tabnet": {"lambda_sparse", "lambda_l2"},
    }


def test_default_config_reports_ok_with_sources_and_application():
    report = validate_and_report_regularization(resolve_config(BASE))
    assert report["ok"] and report["status"] == WARNING and report["errors"] == []
    assert report["warnings"] == [
        "Keras / TensorFlow (LSTM, Transformer): "
        + MSG_EXTREME.format(value=BASE["l1_alpha"], name="l1_reg", limit=KERAS_L1_WARN)
    ]
    profile = validate_and_report_regularization(resolve_config(DEFAULT_BASE, DEFAULT_OVERRIDES))
    assert profile["status"] == OK and profile["warnings"] == []
    c = row(report, "sklearn", "C")
    assert (c["value"], c["source"], c["applied"], c["status"]) == (pytest.approx(100.0), "base", "C = 1/alpha", OK)
    assert row(report, "lightgbm", "reg_alpha")["source"] == "base"
    assert row(report, "sklearn", "l1_ratio")["source"] == "default"
    assert (
        "TabNet has no L2 argument: lambda_l2 is applied as the optimizer's weight_decay"
        in report["backends"]["tabnet"]["applied"]
    )
    assert row(report, "tabnet", "lambda_l2")["applied"] == "optimizer_params['weight_decay']"


def test_override_is_reported_as_override():
    report = validate_and_report_regularization(resolve_config(BASE, {"lightgbm": {"reg_alpha": 0.3}}))
    assert row(report, "lightgbm", "reg_alpha")["source"] == "override"
    assert row(report, "lightgbm", "reg_lambda")["source"] == "base"


def test_alpha_zero_with_derived_c_is_an_error():
    report = validate_and_report_regularization(resolve_config(BASE, {"sklearn": {"alpha": 0.0}}))
    c = row(report, "sklearn", "C")
    assert c["status"] == ERROR and c["message"] == MSG_NOT_DERIVABLE
    assert not report["ok"] and report["status"] == ERROR
    assert report["backends"]["sklearn"]["status"] == ERROR


def test_no_regularization_in_a_backend_is_a_warning():
    report = validate_and_report_regularization(resolve_config(BASE, {"lightgbm": {"reg_alpha": 0, "reg_lambda": 0}}))
    assert report["ok"] and report["status"] == WARNING
    assert report["backends"]["lightgbm"]["status"] == WARNING
    assert report["backends"]["lightgbm"]["message"] == MSG_NO_REGULARIZATION.format(label="LightGBM")
    assert report["backends"]["tabnet"]["status"] == OK


def test_extreme_value_is_a_warning():
    report = validate_and_report_regularization(resolve_config(BASE, {"tabnet": {"lambda_l2": 5.0}}))
    r = row(report, "tabnet", "lambda_l2")
    assert r["status"] == WARNING and r["message"] == MSG_EXTREME.format(value=5.0, name="lambda_l2", limit=1.0)
    assert report["ok"]


def test_explicit_c_that_disagrees_with_alpha_is_a_warning():
    report = validate_and_report_regularization(resolve_config(BASE, {"sklearn": {"C": 5.0}}))
    r = row(report, "sklearn", "C")
    assert r["status"] == WARNING and r["applied"] == "C (explicit)"
    assert r["message"] == MSG_C_DISAGREES.format(c=5.0, inv=100.0)


def test_explicit_c_that_agrees_is_ok():
    report = validate_and_report_regularization(resolve_config(BASE, {"sklearn": {"C": 100.0}}))
    assert row(report, "sklearn", "C")["status"] == OK


def test_out_of_range_override_is_an_error_with_the_declared_message():
    report = validate_and_report_regularization(resolve_config(BASE, {"tensorflow": {"dropout_rate": 1.0}}))
    r = row(report, "tensorflow", "dropout_rate")
    assert r["status"] == ERROR
    assert r["message"] == MSG_OUT_OF_RANGE.format(
        name="dropout_rate", label=BACKENDS["tensorflow"].label, interval=Interval(0.0, 1.0, "left"), value=1.0
    )


def test_interval_text_and_out_of_range_examples():
    assert str(Interval(0.0, None, "left")) == "[0, inf)"
    assert str(Interval(0.0, 1.0, "left")) == "[0, 1)"
    assert str(Interval(0.0, None, "neither")) == "(0, inf)"
    assert Interval(0.0, None, "neither").out_of_range_examples() == [0.0]
    assert Interval(0.0, 1.0, "both").out_of_range_examples() == [-0.5, 1.5]
    assert not Interval(0.0, None, "left").contains(math.inf)
    assert not Interval(0.0, None, "left").contains(math.nan)


def test_field_errors_land_on_the_field_to_fix():
    assert field_errors(BASE, {}) == {}
    assert field_errors({**BASE, "l1_alpha": -1.0}, {})["l1_alpha"][0].startswith(
        "The 'l1_alpha' parameter of the base settings must be a float in the range [0, inf)"
    )
    assert field_errors({**BASE, "l1_alpha": 0.0}, {}) == {"sklearn_c": [MSG_NOT_DERIVABLE]}
    assert field_errors(BASE, {"sklearn": {"alpha": 0.0}}) == {"sklearn_c": [MSG_NOT_DERIVABLE]}
    assert field_errors({**BASE, "l1_alpha": 0.0}, {"sklearn": {"C": 2.0}}) == {}
    assert set(field_errors(BASE, {"sklearn": {"C": 0.0}, "tabnet": {"lambda_l2": -2}})) == {
        "sklearn_c",
        "tabnet_lambda_l2",
    }


def test_a_value_that_would_overflow_a_backend_is_refused_on_its_field():
    errors = field_errors({**BASE, "l1_alpha": 1e300}, {"lightgbm": {"reg_lambda": 1e300}})
    assert errors == {
        "l1_alpha": [MSG_ABOVE_CEILING.format(name="l1_alpha", label=BASE_LABEL, ceiling=PENALTY_CEILING, value=1e300)],
        "lightgbm_reg_lambda": [
            MSG_ABOVE_CEILING.format(name="reg_lambda", label="LightGBM", ceiling=PENALTY_CEILING, value=1e300)
        ],
    }
    report = validate_and_report_regularization(resolve_config({**BASE, "l1_alpha": 1e300}))
    assert not report["ok"] and row(report, "tabnet", "lambda_sparse")["status"] == ERROR


@pytest.mark.parametrize(
    "spec,param", [(s, p) for s in BACKENDS.values() for p in s.params] + [(None, p) for p in BASE_PARAMS]
)
def test_every_unbounded_parameter_declares_a_ceiling(spec, param):
    assert param.interval.high is not None or param.ceiling is not None


def test_library_kwargs_are_generated_from_the_declared_arguments():
    section = BACKENDS["tabnet"]
    assert section.library_kwargs({"lambda_sparse": 0.1, "lambda_l2": 0.2}) == {
        "lambda_sparse": 0.1,
        "optimizer_params": {"weight_decay": 0.2},
    }
    assert BACKENDS["sklearn"].library_kwargs({"alpha": 2.0, "l1_ratio": 0.3, "C": 0.5}) == {"l1_ratio": 0.3, "C": 0.5}
