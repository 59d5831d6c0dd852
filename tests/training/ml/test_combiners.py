import json

import numpy as np
import pytest

from training.ml.combiners import (
    COMBINERS,
    MSG_SINGLE_CLASS,
    MSG_UNKNOWN_COMBINER,
    SIMPLICITY,
    combiner_from_dict,
    get_combiner,
    weighted_log_loss,
)
from training.ml.metrics import classification_metrics, row_log_loss

from .combiner_data import one_informative, two_equal


def test_simplicity_order_and_unknown_key():
    assert SIMPLICITY == ("best_single", "average", "weighted", "meta")
    with pytest.raises(KeyError) as err:
        get_combiner("median")
    assert err.value.args[0] == MSG_UNKNOWN_COMBINER.format(key="median", known=", ".join(COMBINERS))


def test_row_log_loss_averages_to_the_metrics_log_loss():
    probas, y = two_equal(300)
    assert np.mean(row_log_loss(y, probas["a"])) == pytest.approx(classification_metrics(y, probas["a"])["log_loss"])


def test_one_informative_member_best_single_picks_it_and_weights_concentrate_on_it():
    probas, y = one_informative()
    members = list(probas)
    best = get_combiner("best_single")(members).fit(probas, y)
    assert best.weights() == {"signal": 1.0, "noise_a": 0.0, "noise_b": 0.0}
    weighted = get_combiner("weighted")(members).fit(probas, y)
    assert weighted.weights()["signal"] > 0.9
    assert sum(weighted.weights().values()) == pytest.approx(1.0)
    assert min(weighted.weights().values()) >= 0.0


def test_two_equally_informative_members_averaging_beats_both():
    probas, y = two_equal()
    average = get_combiner("average")(list(probas)).fit(probas, y)
    avg_loss = weighted_log_loss(average.predict_proba(probas), y)
    assert avg_loss < weighted_log_loss(probas["a"], y) - 0.02
    assert avg_loss < weighted_log_loss(probas["b"], y) - 0.02
    weighted = get_combiner("weighted")(list(probas)).fit(probas, y)
    assert weighted.weights()["a"] == pytest.approx(0.5, abs=0.1)


def test_weighted_fit_minimizes_the_weighted_log_loss():
    probas, y = two_equal(900)
    s = np.linspace(0.2, 1.0, len(y))
    fitted = get_combiner("weighted")(list(probas)).fit(probas, y, s)
    best = weighted_log_loss(fitted.predict_proba(probas), y, s)
    for w in np.linspace(0, 1, 21):
        assert best <= weighted_log_loss(w * probas["a"] + (1 - w) * probas["b"], y, s) + 1e-9


def test_meta_strong_penalty_shrinks_towards_class_frequencies():
    probas, y = one_informative(900)
    strong = get_combiner("meta")(list(probas), C=1e-6).fit(probas, y)
    pred = strong.predict_proba(probas)
    frequencies = np.bincount(y, minlength=3) / len(y)
    assert np.abs(pred - frequencies).max() < 0.01
    weak = get_combiner("meta")(list(probas), C=1.0).fit(probas, y)
    assert weak.weights()["signal"] > 0.6  # share of |coefficients|; noise members keep small ones
    assert weighted_log_loss(weak.predict_proba(probas), y) < weighted_log_loss(pred, y)


def test_meta_refuses_a_single_class_and_handles_two():
    probas, y = one_informative(300)
    with pytest.raises(ValueError) as err:
        get_combiner("meta")(list(probas), C=1.0).fit(probas, np.zeros_like(y))
    assert str(err.value) == MSG_SINGLE_CLASS.format(classes=[0])
    two = get_combiner("meta")(list(probas), C=1.0).fit(probas, np.where(y == 2, 1, y))
    pred = two.predict_proba(probas)
    assert np.allclose(pred.sum(axis=1), 1.0) and np.all(pred[:, 2] == 0.0)


@pytest.mark.parametrize("key", SIMPLICITY)
def test_every_combiner_reloads_from_json_to_identical_probabilities(key):
    probas, y = one_informative(600)
    params = {"C": 0.1} if key == "meta" else {}
    fitted = get_combiner(key)(list(probas), **params).fit(probas, y)
    reloaded = combiner_from_dict(json.loads(json.dumps(fitted.to_dict())))
    assert np.array_equal(reloaded.predict_proba(probas), fitted.predict_proba(probas))
    assert np.allclose(fitted.predict_proba(probas).sum(axis=1), 1.0)


def test_using_an_unfitted_combiner_raises():
    with pytest.raises(RuntimeError):
        get_combiner("average")(["a"]).predict_proba({"a": np.full((2, 3), 1 / 3)})
