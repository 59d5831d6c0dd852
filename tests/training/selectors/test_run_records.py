"""A run trained and stored by the service the worker calls reads back as typed records (``run_result``): its
verdicts are ``Verdict``s and its models' evidence the records their backends declare, and the typed result
writes back exactly what was stored (one ``to_dict`` at the storage boundary, nothing lost)."""

import json

import pytest

from tests.training.views.real_runs import make_real_run
from training.ml.backends import get_backend
from training.ml.results import Verdict
from training.models import TrainingRun
from training.selectors.run_summary import regime_tables, run_result

pytestmark = pytest.mark.django_db


def test_a_stored_run_reads_back_typed_and_writes_back_what_was_stored(profile, dataset):
    run = TrainingRun.objects.get(pk=make_real_run(profile, dataset).pk)  # the row as the database gives it
    typed, problem = run_result(run)
    assert problem == "" and typed is not None
    assert typed.to_dict() == json.loads(json.dumps(run.result))
    trained = [(regime, section) for regime, section in typed.ensembles.items() if section.trained]
    assert trained
    tables = {t["regime"]: t for t in regime_tables(typed)}
    for regime, section in trained:
        assert isinstance(section.ensemble.vs_baseline, Verdict)
        verdict = tables[regime]["verdict"]
        assert verdict == {"source": "evidence", **run.result["ensembles"][regime]["ensemble"]["vs_baseline"]}
        for key, model in section.models.items():
            assert type(model.evidence) is get_backend(key).evidence_type
            assert model.evidence.to_dict() == run.result["ensembles"][regime]["models"][key]["evidence"]
            assert model.vs_baseline.baseline == section.comparison["best_baseline"]
