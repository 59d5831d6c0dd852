"""A new backend is one module (``toy_backend.py``, a ridge classifier with one penalty) and no other edit: once it
is registered it is in the profile form, the regularization report, the evidence report's warnings, the run
summary, the sweep axes and the sweep's measured effect, the presets and every test parametrized over the
backends."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from training.ml.backends import registered_backends, unregister
from training.ml.ensembles import VolatileEnsemble
from training.ml.evidence_report import measured_warnings
from training.ml.manager import TrainingManager
from training.ml.presets import PRESETS, get_preset
from training.ml.regularization import resolve_config, validate_and_report_regularization
from training.ml.results import RunResult

TOY = "tests.training.ml.backends.toy_backend"
ROOT = Path(__file__).resolve().parents[4]
BASE = {"l1_alpha": 0.01, "l2_alpha": 0.004, "dropout_rate": 0.2}


@pytest.fixture
def toy():
    module = importlib.import_module(TOY)  # registers it, as the registry's discovery does a shipped backend
    yield module
    unregister(module.KEY)
    sys.modules.pop(TOY, None)


def _subprocess(args: list[str], timeout: int = 600) -> subprocess.CompletedProcess:
    # its own test database and artifacts folders: a child pytest removes the ones it was given when it ends
    own = ("ARES_TEST_SQLITE_NAME", "ARTIFACTS_DIR", "ARES_TEST_DIRS_FOR")
    env = {k: v for k, v in os.environ.items() if k not in own}
    env.update(DJANGO_SETTINGS_MODULE="ares_site.test_settings", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_the_new_backend_is_in_the_report_the_sweep_axes_and_the_presets(toy):
    from training.services.sweep_axes import known_params, param_declaration, profile_field

    assert toy.KEY in registered_backends()
    config = resolve_config(BASE)
    assert config[toy.KEY] == {"alpha": 0.004}
    report = validate_and_report_regularization(config)
    assert report["backends"][toy.KEY]["label"] == "Toy ridge classifier"
    assert report["backends"][toy.KEY]["params"][0]["applied"] == "alpha"
    assert f"{toy.KEY}.alpha" in known_params()
    assert param_declaration(f"{toy.KEY}.alpha") == (toy.SECTION.param("alpha"), "Toy ridge classifier")
    assert profile_field(f"{toy.KEY}.alpha") == "toyridge_alpha"
    assert get_preset("tiny")["models"][toy.KEY] == {"tol": 1e-4}
    assert PRESETS["smoke"]["models"][toy.KEY] == {"tol": 1e-4}


@pytest.mark.slow
def test_the_new_backend_trains_and_its_declared_warning_reaches_the_report_summary_and_sweep(
    toy, btc_candles, tmp_path
):
    from training.selectors.run_summary import regime_tables
    from training.selectors.sweeps import run_objective

    heavy = resolve_config(BASE, {toy.KEY: {"alpha": 1e8}})  # shrinks every coefficient to ~0
    manager = TrainingManager(
        heavy,
        preset="tiny",
        seed=5,
        artifacts_dir=tmp_path,
        ensembles={"volatile": VolatileEnsemble},
        preset_overrides={"ensembles": {"volatile": ["logreg", toy.KEY]}, "plots": False},
    )
    result = manager.run_full_training("BTCUSDT", candles=btc_candles)
    model = result["ensembles"]["volatile"]["models"][toy.KEY]
    share = model["evidence"]["small_coefficient_share"]
    assert share > 0.9
    assert toy.MSG_SHRUNK.format(where=f"volatile/{toy.KEY}", alpha=1e8, zero_share=share) in measured_warnings(result)
    table = next(t for t in regime_tables(RunResult.from_dict(result)) if t["regime"] == "volatile")
    assert toy.KEY in [line["name"] for line in table["lines"]]
    _, summary = run_objective(result)
    assert summary["backends"][toy.KEY]["effect"] == {"small_coefficient_share": share}


SCRIPT = f"""
import json, importlib
importlib.import_module({TOY!r})  # registered before Django builds the profile model and the form
import django
django.setup()
from training.forms.profiles import BACKEND_FIELDSETS, RegularizationProfileForm
from training.models import RegularizationProfile
print(json.dumps({{
    "form_fields": list(RegularizationProfileForm.base_fields),
    "fieldsets": [label for label, _ in BACKEND_FIELDSETS],
    "model_field": RegularizationProfile._meta.get_field("toyridge_alpha").verbose_name,
}}))
"""


def test_the_new_backend_is_a_field_of_the_profile_model_and_form():
    done = _subprocess(["-c", SCRIPT])
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert "toyridge_alpha" in seen["form_fields"]
    assert "Toy ridge classifier" in seen["fieldsets"]
    assert seen["model_field"] == "Toy ridge classifier alpha"


@pytest.mark.slow
def test_every_test_parametrized_over_the_backends_runs_the_new_one():
    done = _subprocess(
        [
            "-m",
            "pytest",
            "-p",
            TOY,
            "-p",
            "no:xdist",
            "-q",
            "-rA",
            "tests/training/ml/backends/test_base.py",
            "-k",
            "toyridge",
        ]
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    for test in ("test_predict_before_fit_raises", "test_fit_predict_save_load_round_trip"):
        assert f"PASSED tests/training/ml/backends/test_base.py::{test}[toyridge]" in done.stdout
