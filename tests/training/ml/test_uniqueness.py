import numpy as np
import pytest

from training.ml.uniqueness import MSG_ORDER, average_uniqueness, effective_rows, uniqueness_weights


def brute_force_uniqueness(positions, horizon):
    spans = [set(range(t + 1, t + horizon + 1)) for t in positions]
    concurrency = {}
    for span in spans:
        for bar in span:
            concurrency[bar] = concurrency.get(bar, 0) + 1
    return np.array([np.mean([1 / concurrency[bar] for bar in span]) for span in spans])


def test_rows_far_apart_are_fully_unique_and_weigh_one():
    positions = np.array([0, 10, 25, 40])
    assert average_uniqueness(positions, 4).tolist() == [1.0, 1.0, 1.0, 1.0]
    assert uniqueness_weights(positions, 4).tolist() == [1.0, 1.0, 1.0, 1.0]


def test_a_dense_run_of_rows_shares_its_outcomes():
    positions = np.arange(100)
    uniqueness = average_uniqueness(positions, 4)
    assert uniqueness[50] == pytest.approx(0.25)
    assert uniqueness[0] > uniqueness[50]
    assert effective_rows(positions, 4) == pytest.approx(25.0, abs=1.0)


def test_matches_a_brute_force_count_on_scattered_rows():
    rng = np.random.default_rng(3)
    positions = np.sort(rng.choice(400, size=120, replace=False))
    np.testing.assert_allclose(average_uniqueness(positions, 4), brute_force_uniqueness(positions, 4))
    weights = uniqueness_weights(positions, 4)
    assert weights.mean() == pytest.approx(1.0)
    isolated = [i for i, t in enumerate(positions) if all(abs(t - s) >= 4 for s in positions if s != t)]
    assert isolated and weights[isolated].min() > weights.mean()


def test_rejects_unordered_positions():
    with pytest.raises(ValueError, match=MSG_ORDER):
        average_uniqueness([3, 2, 5], 4)
