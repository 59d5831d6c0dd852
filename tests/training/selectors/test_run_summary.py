"""The run summary's flags read what each backend's evidence means (its declared generic fields), from real runs."""

import pytest

from tests.fixtures.candles import sample_candles
from training.ml.backends import get_backend
from training.ml.backends.evidence import PENALTY_SHARE
from training.ml.backends.tabnet_backend import MSG_SPARSITY_SHARE
from training.ml.ensembles import VolatileEnsemble
from training.ml.evidence_report import measured_warnings
from training.ml.manager import TrainingManager
from training.ml.parameters import BASE_DEFAULTS
from training.ml.regularization import resolve_config
from training.ml.results import RunResult
from training.selectors.run_summary import PENALTY_DOMINATED_WARN, regime_tables

pytestmark = pytest.mark.slow
LARGE_LAMBDA_SPARSE = 20.0  # the sparsity term then outweighs the data cross-entropy (~1.1 nats) several times


@pytest.fixture(scope="module")
def sparse_tabnet_result(tmp_path_factory) -> dict:
    """A real tiny run whose volatile ensemble trains TabNet with a large lambda_sparse beside logreg."""
    config = resolve_config(dict(BASE_DEFAULTS), {"tabnet": {"lambda_sparse": LARGE_LAMBDA_SPARSE}})
    manager = TrainingManager(
        config,
        preset="tiny",
        seed=7,
        artifacts_dir=tmp_path_factory.mktemp("sparse-tabnet"),
        ensembles={"volatile": VolatileEnsemble},
        preset_overrides={
            "ensembles": {"volatile": ["logreg", "tabnet"]},
            "models": {"tabnet": get_backend("tabnet").test_params},
            "plots": False,
        },
    )
    return manager.run_full_training("BTCUSDT", candles=sample_candles())


def test_tabnet_dominated_by_its_sparsity_term_is_flagged_penalty_dominated(sparse_tabnet_result):
    model = sparse_tabnet_result["ensembles"]["volatile"]["models"]["tabnet"]
    share = model["evidence"]["sparsity_share_of_loss"]
    assert share > PENALTY_DOMINATED_WARN  # the real fit is what the flag is about
    assert get_backend("tabnet").generic_evidence(model["evidence"])[PENALTY_SHARE] == share

    table = next(t for t in regime_tables(RunResult.from_dict(sparse_tabnet_result)) if t["regime"] == "volatile")
    lines = {line["name"]: line for line in table["lines"]}
    flags = [f for f in lines["tabnet"]["flags"] if f["kind"] == "penalty"]
    assert flags == [{"kind": "penalty", "text": f"penalty-dominated ({share:.0%} of the loss)"}]
    assert not [f for f in lines["logreg"]["flags"] if f["kind"] == "penalty"]
    # the report warns on the same number, in the backend's own words
    assert MSG_SPARSITY_SHARE.format(where="volatile/tabnet", penalty_share=share) in measured_warnings(
        sparse_tabnet_result
    )
