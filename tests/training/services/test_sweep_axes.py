import pytest
from django.core.exceptions import ValidationError

from training.ml.regularization import resolve_config
from training.services.sweep_axes import (
    MAX_GRID_POINTS,
    MAX_VALUES_PER_AXIS,
    MSG_AXIS_SYNTAX,
    MSG_DUPLICATE_PARAM,
    MSG_DUPLICATE_VALUE,
    MSG_LOG_RANGE,
    MSG_NO_AXES,
    MSG_NOT_A_NUMBER,
    MSG_TOO_MANY_POINTS,
    MSG_UNKNOWN_PARAM,
    grid_points,
    known_params,
    parse_axes,
    parse_axis,
    point_config,
    profile_field,
)

BASE = {"l1_alpha": 0.01, "l2_alpha": 0.001, "dropout_rate": 0.2}


def messages(exc_info) -> list[str]:
    return exc_info.value.messages


def test_a_list_of_base_values_parses_in_order():
    assert parse_axis("l1_alpha=0.0001, 0.01,1") == {
        "param": "l1_alpha",
        "values": [0.0001, 0.01, 1.0],
        "log_range": None,
    }


def test_a_log_range_spans_both_ends_evenly_on_a_log_scale():
    axis = parse_axis("lightgbm.reg_alpha=1e-4:1:5")
    assert axis["values"] == [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    assert axis["log_range"] == {"low": 1e-4, "high": 1.0, "count": 5}


@pytest.mark.parametrize(
    "text", ["l1_alpha=0:1:3", "l1_alpha=1:0.1:3", "l1_alpha=1e-3:1:1", "l1_alpha=1e-3:1", "l1_alpha=1e-3:1:x"]
)
def test_a_bad_log_range_is_refused_with_its_rule(text):
    with pytest.raises(ValidationError) as exc:
        parse_axis(text)
    assert messages(exc) == [MSG_LOG_RANGE.format(param="l1_alpha", text=text.split("=")[1], most=MAX_VALUES_PER_AXIS)]


def test_every_declared_backend_parameter_can_be_swept():
    for param in known_params():
        assert parse_axis(f"{param}=0.1")["param"] == param


def test_an_unknown_parameter_lists_the_known_ones():
    with pytest.raises(ValidationError) as exc:
        parse_axis("lightgbm.reg_gamma=1")
    assert messages(exc) == [
        MSG_UNKNOWN_PARAM.format(
            text="lightgbm.reg_gamma=1", param="lightgbm.reg_gamma", known=", ".join(known_params())
        )
    ]


def test_values_outside_the_declared_range_use_the_declaration_message():
    with pytest.raises(ValidationError) as exc:
        parse_axis("dropout_rate=0.2,1.0")
    assert messages(exc) == [
        "The 'dropout_rate' parameter of the base settings must be a float in the range [0, 1); got 1.0."
    ]
    with pytest.raises(ValidationError) as exc:
        parse_axis("tensorflow.l1_reg=-1")
    assert "Keras / TensorFlow" in messages(exc)[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("l1_alpha", MSG_AXIS_SYNTAX.format(text="l1_alpha")),
        ("l1_alpha=", MSG_AXIS_SYNTAX.format(text="l1_alpha=")),
        ("l1_alpha=0.1,abc", MSG_NOT_A_NUMBER.format(param="l1_alpha", value="abc")),
        ("l1_alpha=0.1,nan", MSG_NOT_A_NUMBER.format(param="l1_alpha", value="nan")),
        ("l1_alpha=0.1,0.1", MSG_DUPLICATE_VALUE.format(param="l1_alpha", value=0.1)),
    ],
)
def test_malformed_axes_say_what_is_wrong(text, message):
    with pytest.raises(ValidationError) as exc:
        parse_axis(text)
    assert messages(exc) == [message]


def test_parse_axes_reports_every_error_at_once_and_refuses_a_repeated_parameter():
    with pytest.raises(ValidationError) as exc:
        parse_axes(["l1_alpha=1", "l1_alpha=2", "nope=1"])
    assert MSG_DUPLICATE_PARAM.format(param="l1_alpha") in messages(exc)
    assert any("unknown parameter 'nope'" in m for m in messages(exc))
    with pytest.raises(ValidationError) as exc:
        parse_axes([])
    assert messages(exc) == [MSG_NO_AXES]


def test_the_grid_is_the_cartesian_product_first_axis_slowest():
    axes = parse_axes(["l1_alpha=0.1,1", "dropout_rate=0,0.5"])
    assert grid_points(axes) == [
        {"l1_alpha": 0.1, "dropout_rate": 0.0},
        {"l1_alpha": 0.1, "dropout_rate": 0.5},
        {"l1_alpha": 1.0, "dropout_rate": 0.0},
        {"l1_alpha": 1.0, "dropout_rate": 0.5},
    ]


def test_a_grid_over_the_limit_is_refused():
    axes = parse_axes(["l1_alpha=1e-4:1:9", "l2_alpha=1e-4:1:9"])
    with pytest.raises(ValidationError) as exc:
        grid_points(axes)
    assert messages(exc) == [MSG_TOO_MANY_POINTS.format(count=81, most=MAX_GRID_POINTS)]


def test_a_swept_base_value_flows_into_the_values_derived_from_it_but_not_into_overrides():
    overrides = {"tensorflow": {"l1_reg": 0.5}}
    config = point_config(BASE, overrides, {"l1_alpha": 0.3})
    assert config["l1_alpha"] == 0.3
    assert config["lightgbm"]["reg_alpha"] == 0.3 and config["tabnet"]["lambda_sparse"] == 0.3
    assert config["sklearn"]["alpha"] == 0.3 and config["sklearn"]["C"] == pytest.approx(1 / 0.3)
    assert config["tensorflow"]["l1_reg"] == 0.5
    assert overrides == {"tensorflow": {"l1_reg": 0.5}}


def test_a_swept_backend_value_changes_only_that_backend():
    config = point_config(BASE, {}, {"lightgbm.reg_alpha": 10.0})
    expected = resolve_config(BASE)
    expected["lightgbm"]["reg_alpha"] = 10.0
    assert config == expected


def test_profile_field_names_the_override_field():
    assert profile_field("l1_alpha") == "l1_alpha"
    assert profile_field("sklearn.C") == "sklearn_c"
    assert profile_field("lightgbm.reg_alpha") == "lightgbm_reg_alpha"
