import numpy as np
import pytest

from training.ml.splits import inner_split, walk_forward_splits


@pytest.mark.parametrize("n_folds,horizon,embargo", [(2, 4, 0), (3, 4, 4), (5, 8, 2)])
def test_purged_walk_forward_splits(n_folds, horizon, embargo):
    rng = np.random.default_rng(n_folds)
    positions = np.cumsum(rng.integers(1, 6, 800))  # a regime's rows: gaps of 1–5 bars
    splits = walk_forward_splits(positions, n_folds=n_folds, horizon=horizon, embargo=embargo, test_fraction=0.2)
    assert len(splits.folds) == n_folds
    test_start = positions[splits.test[0]]
    assert splits.test[-1] == len(positions) - 1
    for fold in splits.folds:
        assert not set(fold.train) & set(fold.val)
        assert not set(fold.train) & set(splits.test) and not set(fold.val) & set(splits.test)
        # every training label window (bar i .. i+H) ends more than `embargo` bars before validation starts
        assert positions[fold.train].max() + horizon + embargo < positions[fold.val].min()
        assert positions[fold.val].max() + horizon + embargo < test_start
    vals = [f.val for f in splits.folds]
    for a, b in zip(vals, vals[1:]):
        assert a.max() < b.min()  # blocks in time order
        assert not set(a) & set(b)
    # the expanding window grows
    sizes = [len(f.train) for f in splits.folds]
    assert sizes == sorted(sizes)


def test_purge_removes_exactly_the_overlapping_rows():
    positions = np.arange(100)  # contiguous bars
    splits = walk_forward_splits(
        positions, n_folds=1, horizon=4, embargo=0, test_fraction=0.2, first_train_fraction=0.5
    )
    assert splits.test[0] == 80
    assert splits.dev.max() == 75  # 75 + 4 < 80, 76 + 4 = 80 is purged
    fold = splits.folds[0]
    assert fold.val[0] == 38 and fold.train.max() == 33


def test_inner_split_is_later_and_purged():
    positions = np.arange(0, 300, 2)
    rows = np.arange(100)
    fit, val = inner_split(positions, rows, horizon=5, embargo=1, val_fraction=0.2)
    assert val.tolist() == list(range(80, 100))
    assert positions[fit].max() + 5 + 1 < positions[val[0]]
    assert fit.tolist() == list(range(0, 77))
