import pytest

from training.forms.profiles import RegularizationProfileForm, derived_help
from training.ml.regularization import iter_override_params
from training.models import RegularizationProfile


def test_help_texts_show_the_derived_value_of_this_profile():
    profile = RegularizationProfile(name="p", l1_alpha=0.04, l2_alpha=0.003, dropout_rate=0.3, sklearn_alpha=0.2)
    texts = derived_help(profile)
    assert set(texts) == {field for _, _, field in iter_override_params()}
    assert "Blank → 0.04 from l1_alpha." in texts["lightgbm_reg_alpha"]
    assert "Blank → 0.003 from l2_alpha." in texts["tabnet_lambda_l2"]
    assert "Blank → 0.3 from dropout_rate." in texts["tensorflow_dropout_rate"]
    assert "Blank → 5 = 1/alpha." in texts["sklearn_c"]
    assert "Blank → 0.5 (default)." in texts["sklearn_l1_ratio"]
    assert "Range [0, inf); applied as optimizer_params['weight_decay']." in texts["tabnet_lambda_l2"]


def test_help_text_says_when_c_cannot_be_derived():
    assert (
        "Blank → cannot be derived: alpha is 0."
        in derived_help(RegularizationProfile(name="p", l1_alpha=0.0))["sklearn_c"]
    )


@pytest.mark.django_db
def test_form_reports_range_errors_per_field_and_parses_blank_as_derived():
    form = RegularizationProfileForm(
        data={
            "name": "x",
            "l1_alpha": "0.01",
            "l2_alpha": "-1",
            "dropout_rate": "0.2",
            "sklearn_l1_ratio": "1.5",
            "tabnet_lambda_sparse": "",
        }
    )
    assert not form.is_valid()
    assert set(form.errors) == {"l2_alpha", "sklearn_l1_ratio"}
    assert form.errors["sklearn_l1_ratio"] == [
        "The 'l1_ratio' parameter of scikit-learn elastic-net LogisticRegression must be a float in the range [0, 1]; "
        "got 1.5."
    ]
    ok = RegularizationProfileForm(data={"name": "x", "l1_alpha": "0.01", "l2_alpha": "0", "dropout_rate": "0"})
    assert ok.is_valid(), ok.errors
    assert ok.save().resolved_config()["tabnet"]["lambda_sparse"] == 0.01
