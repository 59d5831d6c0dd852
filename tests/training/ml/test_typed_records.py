"""The verdict against the best baseline and each model's evidence are typed records (``Verdict``, the backend's
``Evidence``), read from a real run's stored result; results stored in the older shape still load, losslessly."""

import copy
from dataclasses import dataclass

import pytest

from training.ml.backends import Backend, backend_classes, get_backend
from training.ml.backends.evidence import MSG_UNDECLARED_KEY, PENALTY_SHARE
from training.ml.backends.lightgbm_backend import LightGBMEvidence
from training.ml.backends.tabnet_backend import TabNetEvidence
from training.ml.results import GENERIC_FIELDS, Evidence, RunResult, Verdict
from training.ml.results.evidence import MSG_UNDECLARED

# keys a vs_baseline record gained after it was first stored (results from before them lack them)
LATER_VERDICT_KEYS = ("p_value", "rows", "block", "interval_verdict", "no_skill")


def trained_models(result: dict):
    for regime, section in result["ensembles"].items():
        for key, model in (section.get("models") or {}).items():
            yield regime, key, model


def test_every_model_reads_back_as_its_backends_evidence_and_verdict(smoke_result):
    typed = RunResult.from_dict(smoke_result).validate()
    seen = set()
    for regime, key, stored in trained_models(smoke_result):
        model = typed.ensembles[regime].models[key]
        cls = get_backend(key)
        assert type(model.evidence) is cls.evidence_type and model.evidence.extra == {}, (regime, key)
        assert model.evidence.to_dict() == stored["evidence"]
        for name in GENERIC_FIELDS:
            own = cls.evidence_fields.get(name)
            assert getattr(model.evidence, name) == (stored["evidence"].get(own) if own else None), (key, name)
        verdict = model.vs_baseline
        assert isinstance(verdict, Verdict) and verdict.to_dict() == stored["vs_baseline"]
        assert verdict.rows == model.metrics.test.n and verdict.ci95_low <= verdict.difference <= verdict.ci95_high
        seen.add(key)
    assert seen == {cls.key for cls in backend_classes()}  # the smoke preset trains every backend


def test_tabnet_evidence_names_where_early_stopping_kept_it(smoke_result):
    """``evidence_fields`` mapped TabNet's best_iteration to ``best_epoch``, which its evidence never recorded."""
    typed = RunResult.from_dict(smoke_result)
    found = [s.models["tabnet"] for s in typed.ensembles.values() if "tabnet" in s.models]
    assert found
    for model in found:
        assert isinstance(model.evidence, TabNetEvidence)
        assert model.evidence.best_iteration == model.evidence.best_epoch >= 1


def older_verdict(record: dict) -> list[str]:
    """``record`` as stored before its later keys (a "no skill" verdict keeps the keys that rule came with)."""
    dropped = LATER_VERDICT_KEYS if record["verdict"] != "no skill" else LATER_VERDICT_KEYS[:3]
    for name in dropped:
        record.pop(name)
    return list(dropped)


def test_a_result_in_the_older_shape_loads_and_writes_back_the_same(smoke_result):
    older = copy.deepcopy(smoke_result)
    dropped = {}
    for regime, key, model in trained_models(older):
        dropped[regime, key] = older_verdict(model["vs_baseline"])
        model["evidence"].pop("best_epoch" if key == "tabnet" else next(iter(model["evidence"])))
        model["evidence"]["retired_measure"] = 0.25  # a key a backend measured once and no longer declares
    for section in older["ensembles"].values():
        if section.get("ensemble"):
            older_verdict(section["ensemble"]["vs_baseline"])

    typed = RunResult.from_dict(older).validate()
    assert typed.to_dict() == older
    for regime, key, _ in trained_models(older):
        model = typed.ensembles[regime].models[key]
        assert model.evidence.extra == {"retired_measure": 0.25} and model.evidence.value("retired_measure") == 0.25
        assert all(getattr(model.vs_baseline, name) is None for name in dropped[regime, key])
        assert model.vs_baseline.mismatch("m") == []  # without no_skill the interval decides, as it did then


def test_a_backend_measurement_its_record_does_not_declare_is_refused(smoke_result):
    typed = RunResult.from_dict(smoke_result)
    lightgbm = next(s.models["lightgbm"] for s in typed.ensembles.values() if "lightgbm" in s.models)
    measured = {**lightgbm.evidence.to_dict(), "zero_leaf_fraction": 0.5}
    with pytest.raises(ValueError) as exc:
        LightGBMEvidence.measured(measured)
    assert str(exc.value) == MSG_UNDECLARED.format(cls="LightGBMEvidence", keys=["zero_leaf_fraction"])
    assert LightGBMEvidence.measured(lightgbm.evidence.to_dict()) == lightgbm.evidence


def test_a_generic_field_mapped_to_an_undeclared_key_fails_when_the_backend_is_declared():
    """The drift that hid TabNet's penalty-dominated flag (``sparsity_loss_share`` for the measured
    ``sparsity_share_of_loss``) now fails where the backend is written."""

    @dataclass
    class SparseEvidence(Evidence):
        sparsity_share_of_loss: float | None = None

    with pytest.raises(ValueError) as exc:

        class Drifted(Backend):  # not registered: declaring the class is enough to check it
            evidence_type = SparseEvidence
            evidence_fields = {PENALTY_SHARE: "sparsity_loss_share"}

    assert str(exc.value) == MSG_UNDECLARED_KEY.format(
        backend="test_a_generic_field_mapped_to_an_undeclared_key_fails_when_the_backend_is_declared.<locals>.Drifted",
        field=PENALTY_SHARE,
        key="sparsity_loss_share",
        evidence="SparseEvidence",
    )
