import numpy as np
import pytest

from training.ml.combiner_choice import MSG_ONE_FOLD, choose_combiner, fold_row_weights
from training.ml.combiners import get_combiner, weighted_log_loss

from .combiner_data import folds, one_informative, two_equal


def _choose(probas, y, k=3, seed=0):
    ids, sizes = folds(len(y), k)
    return choose_combiner(probas, y, ids, sizes, block=24, seed=seed), ids, sizes


def test_fold_row_weights_follow_training_size():
    assert fold_row_weights([0, 0, 1, 2], [200, 300, 400]).tolist() == [0.5, 0.5, 0.75, 1.0]


def test_one_informative_member_is_chosen_alone():
    probas, y = one_informative()
    choice, _, _ = _choose(probas, y)
    assert choice.name in ("best_single", "weighted")
    assert choice.combiner.weights()["signal"] > 0.9
    assert set(choice.candidates) == {"best_single", "average", "weighted", "meta"}


def test_two_equal_members_choose_a_combination_that_beats_both():
    probas, y = two_equal()
    choice, _, _ = _choose(probas, y)
    assert choice.name == "average"  # weighted is no better within its interval, and average is simpler
    c = choice.candidates
    assert c["average"].validation_log_loss < c["best_single"].validation_log_loss - 0.02
    assert c["average"].vs_lowest["verdict"] != "worse"
    assert c["best_single"].vs_lowest["verdict"] == "worse"


@pytest.mark.parametrize("seed", range(5))
def test_the_choice_is_never_worse_than_the_best_member_on_validation(seed):
    make = one_informative if seed % 2 else two_equal
    probas, y = make(900, seed=seed)
    choice, ids, _ = _choose(probas, y, seed=seed)
    scored = choice.scored
    chosen = choice.candidates[choice.name].validation_log_loss
    w = fold_row_weights(ids, folds(len(y))[1])[scored]
    best_member = min(weighted_log_loss(p[scored], y[scored], w) for p in probas.values())
    assert chosen <= best_member + 1e-12
    assert choice.candidates["best_single"].validation_log_loss == pytest.approx(best_member)


def test_fitted_candidates_are_forward_chained():
    probas, y = two_equal(900)
    choice, ids, sizes = _choose(probas, y)
    w = fold_row_weights(ids, sizes)
    assert choice.scored.tolist() == np.flatnonzero(ids >= 1).tolist()
    early = ids == 0
    fold1 = ids == 1
    expected = get_combiner("weighted")(list(probas)).fit({m: p[early] for m, p in probas.items()}, y[early], w[early])
    heldout = choice.candidates["weighted"].heldout[: fold1.sum()]
    assert np.allclose(heldout, expected.predict_proba({m: p[fold1] for m, p in probas.items()}))


def test_meta_strength_is_chosen_on_validation_from_the_grid():
    probas, y = one_informative(900)
    choice, _, _ = _choose(probas, y)
    meta = choice.candidates["meta"]
    losses = {g["C"]: g["validation_log_loss"] for g in meta.grid}
    assert set(losses) == {0.001, 0.01, 0.1, 1.0}
    assert meta.params["C"] == min(losses, key=losses.get)
    assert meta.validation_log_loss == min(losses.values())


def test_one_fold_leaves_only_the_unfitted_candidates():
    probas, y = two_equal(600)
    choice, _, _ = _choose(probas, y, k=1)
    assert set(choice.candidates) == {"best_single", "average"}
    assert MSG_ONE_FOLD in choice.notes
    assert len(choice.scored) == len(y)


def test_summary_explains_the_choice():
    probas, y = two_equal(600)
    summary = _choose(probas, y)[0].summary()
    assert summary["combiner"] == "average"
    assert summary["weights"] == {"a": 0.5, "b": 0.5}
    assert set(summary["candidates"]["weighted"]) >= {"validation_log_loss", "weights", "vs_lowest"}
    assert "training size" in summary["row_rule"]
