import numpy as np
import pytest

from training.ml.bootstrap import (
    BETTER,
    MSG_LENGTHS,
    MSG_RESAMPLES,
    NO_EVIDENCE,
    WORSE,
    baseline_comparison,
    block_length,
    moving_block_bootstrap,
    resampled_means,
)

HORIZON = 4


def overlapping_losses(rng, n: int, delta: float):
    """Per-row losses of two models whose difference has mean ``delta`` and the MA(H) correlation of H-bar labels."""
    shocks = rng.standard_normal(n + HORIZON - 1)
    noise = np.convolve(shocks, np.ones(HORIZON) / np.sqrt(HORIZON), mode="valid")
    loss_b = rng.uniform(0.9, 1.2, n)
    return loss_b + delta + 0.05 * noise, loss_b


def test_95_percent_intervals_cover_the_known_difference_90_to_99_percent_of_the_time():
    rng = np.random.default_rng(2026)
    delta = -0.01
    covered = 0
    for repetition in range(200):
        loss_a, loss_b = overlapping_losses(rng, 1000, delta)
        record = moving_block_bootstrap(loss_a, loss_b, block=block_length(HORIZON), seed=repetition)
        covered += record["ci95_low"] <= delta <= record["ci95_high"]
    assert 0.90 <= covered / 200 <= 0.99


def test_resampled_means_equal_an_explicit_circular_block_resample():
    values = np.random.default_rng(1).normal(size=50)
    block, n_blocks = 7, 8
    means = resampled_means(values, block=block, n_resamples=5, seed=3)
    starts = np.random.default_rng(3).integers(0, 50, size=(5, n_blocks))
    for mean, row in zip(means, starts, strict=True):
        rows = np.concatenate([(start + np.arange(block)) % 50 for start in row])[:50]
        assert mean == pytest.approx(values[rows].mean(), abs=1e-12)


def test_verdicts_follow_the_side_of_zero_the_interval_lies_on():
    rng = np.random.default_rng(0)
    loss_a, loss_b = overlapping_losses(rng, 1500, -0.2)
    assert moving_block_bootstrap(loss_a, loss_b, block=24, seed=0)["verdict"] == BETTER
    assert moving_block_bootstrap(loss_b, loss_a, block=24, seed=0)["verdict"] == WORSE
    same = moving_block_bootstrap(loss_b, loss_b, block=24, seed=0)
    assert same == {"difference": 0.0, "ci95_low": 0.0, "ci95_high": 0.0, "verdict": NO_EVIDENCE, "p_value": 1.0}


def test_same_seed_same_interval_and_the_interval_holds_the_observed_difference():
    loss_a, loss_b = overlapping_losses(np.random.default_rng(5), 400, 0.0)
    first = moving_block_bootstrap(loss_a, loss_b, block=24, seed=11)
    assert moving_block_bootstrap(loss_a, loss_b, block=24, seed=11) == first
    assert moving_block_bootstrap(loss_a, loss_b, block=24, seed=12) != first
    assert first["ci95_low"] < first["difference"] < first["ci95_high"]
    assert first["difference"] == pytest.approx(float(np.mean(loss_a - loss_b)))


def test_block_is_at_least_the_horizon_and_a_day():
    assert block_length(4) == 24
    assert block_length(48) == 48


def test_rejects_unpaired_rows_and_too_few_resamples():
    with pytest.raises(ValueError, match=MSG_LENGTHS.format(a=3, b=2)):
        moving_block_bootstrap([1, 2, 3], [1, 2], block=24, seed=0)
    with pytest.raises(ValueError, match=MSG_RESAMPLES.format(n=100)):
        moving_block_bootstrap([1, 2, 3], [1, 2, 3], block=24, n_resamples=100, seed=0)


def test_baseline_comparison_is_the_vs_baseline_record():
    loss_a, loss_b = overlapping_losses(np.random.default_rng(9), 300, 0.0)
    record = baseline_comparison(loss_a, loss_b, baseline="majority", horizon=HORIZON, seed=0)
    assert set(record) == {
        "baseline",
        "metric",
        "difference",
        "ci95_low",
        "ci95_high",
        "verdict",
        "p_value",
        "rows",
        "block",
    }
    assert (record["baseline"], record["metric"], record["rows"], record["block"]) == ("majority", "log_loss", 300, 24)
