import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from training.ml.regularization import MSG_NOT_DERIVABLE, iter_override_params
from training.models import RegularizationProfile, TrainingRun
from training.models.profiles import MSG_NAME_TAKEN
from training.services import profiles as svc
from training.services.profiles import (
    profile_create,
    profile_delete,
    profile_duplicate,
    profile_ensure_default,
    profile_export,
    profile_export_json,
    profile_import,
    profile_make_default,
    profile_update,
)

pytestmark = pytest.mark.django_db
FIELDS = [
    "name",
    "description",
    "is_default",
    "l1_alpha",
    "l2_alpha",
    "dropout_rate",
    *(f for _, _, f in iter_override_params()),
]


def snapshot(profile):
    return {f: getattr(profile, f) for f in FIELDS}


def test_create_validates_with_declarations():
    with pytest.raises(ValidationError) as exc:
        profile_create(name="bad", values={"lightgbm_reg_alpha": -1.0})
    assert (
        "The 'reg_alpha' parameter of LightGBM must be a float in the range [0, inf)"
        in exc.value.message_dict["lightgbm_reg_alpha"][0]
    )
    with pytest.raises(ValidationError) as exc:
        profile_create(name="zero", values={"l1_alpha": 0.0})
    assert exc.value.message_dict == {"sklearn_c": [MSG_NOT_DERIVABLE]}
    assert not RegularizationProfile.objects.exists()


def test_update_refuses_unknown_fields_and_records_user(django_user_model):
    user = django_user_model.objects.create_user("ed")
    profile = profile_create(name="p")
    with pytest.raises(ValidationError, match="Unknown profile field 'is_default'"):
        profile_update(profile=profile, data={"is_default": True})
    profile_update(profile=profile, data={"sklearn_c": 4.0}, user=user)
    assert profile.history.first().history_user == user and profile.history.first().sklearn_c == 4.0


def test_make_default_leaves_exactly_one_default():
    a = profile_create(name="a", is_default=True)
    b = profile_create(name="b")
    c = profile_create(name="c")
    assert list(RegularizationProfile.objects.filter(is_default=True)) == [a]
    for target in (b, c, c, a):
        result = profile_make_default(profile=target)
        assert result.is_default
        assert list(RegularizationProfile.objects.filter(is_default=True).values_list("name", flat=True)) == [
            target.name
        ]


def test_duplicate_copies_values_and_never_the_default_flag():
    original = profile_create(
        name="strong", description="d", values={"l1_alpha": 0.5, "sklearn_c": 3.0}, is_default=True
    )
    copy = profile_duplicate(profile=original)
    again = profile_duplicate(profile=original)
    assert (copy.name, again.name) == ("strong (copy)", "strong (copy 2)")
    assert {**snapshot(copy), "name": "strong", "is_default": True} == snapshot(
        RegularizationProfile.objects.get(name="strong")
    )


def test_ensure_default_is_idempotent_and_reads_settings(settings):
    settings.CONFIG = {
        "MODEL_TRAINING": {"regularization": {"l1_alpha": 0.03, "l2_alpha": 0.004, "dropout_rate": 0.25}}
    }
    profile, created = profile_ensure_default()
    assert created and profile.is_default and profile.name == "default"
    assert (profile.l1_alpha, profile.l2_alpha, profile.dropout_rate) == (0.03, 0.004, 0.25)
    assert (profile.tensorflow_l1_reg, profile.tensorflow_l2_reg) == (1e-4, 1e-4)
    assert profile.sklearn_alpha == 10.0 and profile.sklearn_c is None
    assert profile.lightgbm_reg_alpha is None and profile.tabnet_lambda_sparse is None
    assert "74 %" in profile.description and "44 % zero coefficients" in profile.description
    again, created_again = profile_ensure_default()
    assert (again.pk, created_again) == (profile.pk, False)
    assert RegularizationProfile.objects.count() == 1


def test_ensure_default_promotes_an_existing_default_named_profile():
    other = profile_create(name="other")
    named = profile_create(name="default", values={"l1_alpha": 0.7})
    profile, created = profile_ensure_default()
    assert (profile.pk, created, profile.is_default) == (named.pk, False, True)
    other.refresh_from_db()
    assert not other.is_default and RegularizationProfile.objects.count() == 2


def test_delete_refuses_a_profile_that_runs_used():
    profile = profile_create(name="used")
    TrainingRun.objects.create(symbol="BTCUSDT", profile=profile)
    with pytest.raises(ValidationError) as exc:
        profile_delete(profile=profile)
    assert exc.value.messages == [svc.MSG_PROFILE_IN_USE.format(name="used", count=1)]
    assert RegularizationProfile.objects.filter(pk=profile.pk).exists()


def test_delete_refuses_the_default_and_deletes_an_unused_profile():
    default = profile_create(name="d", is_default=True)
    spare = profile_create(name="spare")
    with pytest.raises(ValidationError, match="is the default"):
        profile_delete(profile=default)
    profile_delete(profile=spare)
    assert list(RegularizationProfile.objects.values_list("name", flat=True)) == ["d"]


def test_export_import_round_trip_gives_equal_profiles():
    profile_create(name="default", is_default=True)
    profile_create(
        name="strong-l1",
        description="heavy\nL1",
        values={"l1_alpha": 1.5, "lightgbm_reg_lambda": 0.2, "sklearn_c": 0.5, "sklearn_l1_ratio": 0.9},
    )
    profile_create(
        name="no-dropout", values={"dropout_rate": 0.0, "tensorflow_dropout_rate": 0.0, "tabnet_lambda_l2": 1e-6}
    )
    before = [snapshot(p) for p in RegularizationProfile.objects.all()]
    text = profile_export_json(profiles=RegularizationProfile.objects.all())
    assert json.loads(text) == profile_export(profiles=RegularizationProfile.objects.all())
    RegularizationProfile.objects.all().delete()
    imported = profile_import(data=text)
    assert [p.name for p in imported] == ["default", "no-dropout", "strong-l1"]
    assert [snapshot(p) for p in RegularizationProfile.objects.all()] == before
    assert profile_import(data=text, replace=True)
    assert [snapshot(p) for p in RegularizationProfile.objects.all()] == before


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def exported_text_with(edit) -> str:
    doc = profile_export(profiles=RegularizationProfile.objects.all())
    edit(doc)
    return json.dumps(doc, indent=2)


def import_errors(text: str, *, replace: bool = True) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        profile_import(data=text, replace=replace)
    return exc.value.messages


def test_import_unknown_key_gives_its_line_and_saves_nothing():
    keep = profile_create(name="keep", values={"l1_alpha": 0.02})
    text = exported_text_with(
        lambda d: (
            d["profiles"].insert(0, {"name": "new-one", "base": {"l1_alpha": 0.1}}),
            d["profiles"][1].update(name="keep", description="changed"),
            d["profiles"][1]["overrides"]["lightgbm"].update(reg_alpah=0.1),
        )
    )
    errors = import_errors(text)
    assert errors == [
        f"line {line_of(text, 'reg_alpah')}: profiles[1] 'keep': overrides.lightgbm: unknown key 'reg_alpah'; "
        "known: reg_alpha, reg_lambda."
    ]
    assert list(RegularizationProfile.objects.values_list("name", flat=True)) == ["keep"]
    keep.refresh_from_db()
    assert keep.description == ""


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        (
            "lightgbm",
            "reg_lambda",
            -1.0,
            "The 'reg_lambda' parameter of LightGBM must be a float in the range [0, inf)",
        ),
        (
            "sklearn",
            "C",
            0.0,
            "The 'C' parameter of scikit-learn elastic-net LogisticRegression must be a float in the range (0, inf)",
        ),
        ("tensorflow", "dropout_rate", "0.3", "'dropout_rate' must be a number or null; got '0.3'"),
        ("tabnet", "lambda_l2", True, "'lambda_l2' must be a number or null; got True"),
    ],
)
def test_import_bad_value_gives_its_line_and_saves_nothing(section, key, value, expected):
    profile_create(name="a")
    text = exported_text_with(
        lambda d: (d["profiles"].append({"name": "b", "overrides": {section: {key: "MARK"}}}),)
    ).replace('"MARK"', json.dumps(value))
    errors = import_errors(text)
    assert len(errors) == 1 and errors[0].startswith(
        f"line {line_of(text, json.dumps(key) + ': ' + json.dumps(value))}: profiles[1] 'b': "
    )
    assert expected in errors[0]
    assert list(RegularizationProfile.objects.values_list("name", flat=True)) == ["a"]


def test_import_reports_every_problem_with_lines():
    text = (
        '{\n  "format": "other",\n  "profiles": [\n    {"name": "x", "bogus": 1},\n    {"name": "x"},\n'
        '    {"description": "no name", "base": {"l1_alpha": -2}}\n  ]\n}'
    )
    errors = import_errors(text)
    assert errors[0] == "line 2: \"format\" must be 'ares.regularization_profiles'; got 'other'."
    assert errors[1].startswith("line 4: profiles[0] 'x': unknown key 'bogus'")
    assert errors[2] == "line 5: profiles[1] 'x': name 'x' appears more than once in the file (first on line 4)."
    assert errors[3] == 'line 6: profiles[2]: "name" is required.'
    assert len(errors) == 4
    assert not RegularizationProfile.objects.exists()


def test_import_syntax_error_has_a_line():
    assert import_errors('{\n "profiles": [\n  {"name": "a",}\n ]\n}')[0].startswith("line 3: not valid JSON")


def test_import_cross_field_error_points_at_the_c_line():
    text = json.dumps(
        {"profiles": [{"name": "z", "base": {"l1_alpha": 0}, "overrides": {"sklearn": {"C": None}}}]}, indent=2
    )
    c_line = line_of(text, '"C"')
    assert import_errors(text) == [f"line {c_line}: profiles[0] 'z': {MSG_NOT_DERIVABLE}"]


def test_import_default_flag_moves_the_default():
    old = profile_create(name="old", is_default=True)
    profile_import(data=json.dumps({"profiles": [{"name": "new", "is_default": True}]}))
    old.refresh_from_db()
    assert not old.is_default and RegularizationProfile.objects.get(is_default=True).name == "new"
    errors = import_errors(
        json.dumps({"profiles": [{"name": "p", "is_default": True}, {"name": "q", "is_default": True}]})
    )
    assert "only one profile can be the default" in errors[0]


def test_import_never_overwrites_an_existing_profile_unless_asked():
    keep = profile_create(name="Strong", values={"l1_alpha": 0.5})
    text = json.dumps({"profiles": [{"name": "strong", "base": {"l1_alpha": 0.02}}, {"name": "fresh"}]}, indent=1)
    assert import_errors(text, replace=False) == [
        svc.MSG_IMPORT_EXISTS.format(line=line_of(text, '"strong"'), where="profiles[0] 'strong': ", existing="Strong")
    ]
    keep.refresh_from_db()
    assert keep.l1_alpha == 0.5 and list(RegularizationProfile.objects.values_list("name", flat=True)) == ["Strong"]
    imported = profile_import(data=text, replace=True)
    assert [p.name for p in imported] == ["strong", "fresh"] and imported[0].pk == keep.pk
    assert imported[0].l1_alpha == 0.02 and RegularizationProfile.objects.count() == 2


def test_import_refuses_names_that_differ_only_in_case_within_the_file():
    text = json.dumps({"profiles": [{"name": "a"}, {"name": "A"}]}, indent=1)
    assert import_errors(text) == [
        svc.MSG_IMPORT_DUPLICATE_NAME.format(line=7, where="profiles[1] 'A': ", name="A", first=4)
    ]


def test_import_accepts_a_utf8_bom():
    text = "\ufeff" + json.dumps({"profiles": [{"name": "bom"}]})
    assert [p.name for p in profile_import(data=text)] == ["bom"]


def test_import_of_deeply_nested_json_is_a_clear_message():
    assert import_errors("[" * 100_000 + "]" * 100_000) == [svc.MSG_IMPORT_TOO_DEEP]
    assert import_errors('{"profiles": [' + '{"a": ' * 5000 + "1" + "}" * 5000 + "]}") == [svc.MSG_IMPORT_TOO_DEEP]
    assert not RegularizationProfile.objects.exists()


@pytest.mark.parametrize("name", ["BASELINE", "Baseline", "baseline"])
def test_profile_names_are_unique_ignoring_case(name):
    profile_create(name="baseline")
    with pytest.raises(ValidationError) as caught:
        profile_create(name=name)
    assert caught.value.message_dict == {"name": [MSG_NAME_TAKEN.format(name="baseline")]}
    assert RegularizationProfile.objects.count() == 1


def test_the_database_refuses_names_that_differ_only_in_case():
    RegularizationProfile.objects.create(name="baseline")
    with pytest.raises(IntegrityError), transaction.atomic():
        RegularizationProfile.objects.create(name="BaseLine")


def test_duplicate_names_skip_case_variants():
    profile_create(name="p (copy)")
    original = profile_create(name="P")
    assert profile_duplicate(profile=original).name == "P (copy 2)"


def test_a_description_longer_than_the_limit_is_refused_on_its_field():
    from training.models.profiles import DESCRIPTION_MAX_CHARS
    from training.services.profiles import profile_create

    with pytest.raises(ValidationError) as refused:
        profile_create(name="huge", description="x" * (9 * 2**20))
    assert refused.value.message_dict["description"] == [
        f"Ensure this value has at most {DESCRIPTION_MAX_CHARS} characters (it has {9 * 2**20})."
    ]
    assert not RegularizationProfile.objects.filter(name="huge").exists()
    assert profile_create(name="fits", description="x" * DESCRIPTION_MAX_CHARS).description


@pytest.mark.parametrize(("first", "second"), [("Äpfel", "äpfel"), ("ÉTÉ", "été"), ("straße", "STRASSE")])
def test_names_differing_only_in_unicode_case_are_one_name_on_either_database(first, second):
    profile_create(name=first)
    with pytest.raises(ValidationError) as caught:
        profile_create(name=second)
    assert caught.value.message_dict == {"name": [MSG_NAME_TAKEN.format(name=first)]}
    exported = svc.profile_export(profiles=RegularizationProfile.objects.all())
    exported["profiles"][0]["name"] = second
    replaced = profile_import(
        data=json.dumps(exported), replace=True
    )  # found again by its folded name, and overwritten
    assert [p.name for p in replaced] == [second] and RegularizationProfile.objects.count() == 1
