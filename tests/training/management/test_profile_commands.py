import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from training.models import RegularizationProfile
from training.services.profiles import MSG_IMPORT_TOO_DEEP, profile_create

pytestmark = pytest.mark.django_db


def test_load_default_profile_is_idempotent(settings):
    settings.CONFIG = {"MODEL_TRAINING": {"regularization": {"l1_alpha": 0.05, "l2_alpha": 0.0, "dropout_rate": 0.1}}}
    out = StringIO()
    call_command("load_default_profile", stdout=out)
    call_command("load_default_profile", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Created default profile “default”") and lines[1].startswith("Kept default profile")
    profile = RegularizationProfile.objects.get()
    assert (profile.is_default, profile.l1_alpha, profile.l2_alpha, profile.dropout_rate) == (True, 0.05, 0.0, 0.1)


def test_export_then_import_round_trip(tmp_path):
    profile_create(name="a", is_default=True)
    profile_create(name="b", values={"sklearn_l1_ratio": 0.2, "lightgbm_reg_alpha": 3.0})
    profile_create(name="c")
    path = tmp_path / "out.json"
    call_command("export_profiles", "a", "b", output=str(path), stderr=StringIO())
    assert [p["name"] for p in json.loads(path.read_text())["profiles"]] == ["a", "b"]
    stdout = StringIO()
    call_command("export_profiles", stdout=stdout)
    assert len(json.loads(stdout.getvalue())["profiles"]) == 3
    before = {p.name: p.resolved_config() for p in RegularizationProfile.objects.all()}
    RegularizationProfile.objects.filter(name="b").delete()
    out = StringIO()
    call_command("import_profiles", str(path), "--replace", stdout=out)
    assert out.getvalue().strip() == "Imported 2 profile(s): a, b"
    assert {p.name: p.resolved_config() for p in RegularizationProfile.objects.all()} == before


def test_export_unknown_name_fails():
    with pytest.raises(CommandError, match="No profile named nope"):
        call_command("export_profiles", "nope", stdout=StringIO())


def test_import_bad_file_fails_with_lines_and_saves_nothing(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"profiles": [\n {"name": "ok"},\n {"name": "bad", "base": {"dropout_rate": 1}}\n]}')
    with pytest.raises(CommandError) as exc:
        call_command("import_profiles", str(path))
    assert (
        "line 3: profiles[1] 'bad': The 'dropout_rate' parameter of the base settings must be a float in the "
        "range [0, 1); got 1.0." in str(exc.value)
    )
    assert not RegularizationProfile.objects.exists()


def test_import_refuses_existing_names_unless_replace(tmp_path):
    profile_create(name="Keep", values={"l1_alpha": 0.5})
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"profiles": [{"name": "keep", "base": {"l1_alpha": 0.02}}]}))
    with pytest.raises(CommandError) as caught:
        call_command("import_profiles", str(path))
    assert "a profile named 'Keep' already exists (names are compared ignoring case)" in str(caught.value)
    assert RegularizationProfile.objects.get().l1_alpha == 0.5
    out = StringIO()
    call_command("import_profiles", str(path), "--replace", stdout=out)
    assert out.getvalue().strip() == "Imported 1 profile(s): keep"
    assert RegularizationProfile.objects.get().l1_alpha == 0.02


def test_import_reads_a_file_with_a_bom(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"profiles": [{"name": "bom"}]}).encode())
    out = StringIO()
    call_command("import_profiles", str(path), stdout=out)
    assert out.getvalue().strip() == "Imported 1 profile(s): bom"


def test_import_of_deeply_nested_json_fails_with_a_message(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 50_000 + "]" * 50_000)
    with pytest.raises(CommandError) as caught:
        call_command("import_profiles", str(path))
    assert str(caught.value) == f"{path}: nothing imported:\n{MSG_IMPORT_TOO_DEEP}"
