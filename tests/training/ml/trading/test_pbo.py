"""CSCV's probability of backtest overfitting on pure noise and with one real edge."""

import numpy as np
import pytest

from training.ml.trading.pbo import MSG_BLOCKS, cscv


def noise(seed, bars=800, configs=20):
    return np.random.default_rng(seed).standard_normal((bars, configs)) * 0.01


def test_pure_noise_gives_a_pbo_around_one_half():
    """The in-sample best of noise lands above or below the out-of-sample median by chance: PBO ≈ 0.5. One matrix's
    splits share their bars, so a single PBO varies; the mean over ten matrices is within 0.5 ± 0.1."""
    values = [cscv(noise(seed))["pbo"] for seed in range(10)]
    assert 0.4 <= float(np.mean(values)) <= 0.6


def test_one_configuration_with_a_real_edge_is_not_overfit():
    m = noise(3)
    m[:, 7] += 0.003  # a Sharpe of 0.3 per bar
    out = cscv(m)
    assert out["pbo"] < 0.1
    assert out["configurations"] == 20 and out["blocks"] == 16 and out["splits"] == 12870
    assert out["mean_out_of_sample_sharpe"] > 0


def test_noise_degrades_out_of_sample():
    out = cscv(noise(5))
    assert out["mean_in_sample_sharpe"] > out["mean_out_of_sample_sharpe"]
    assert len(out["logits"]) == out["splits"]


@pytest.mark.parametrize("blocks", [3, 0, 15])
def test_blocks_must_be_even(blocks):
    with pytest.raises(ValueError, match=MSG_BLOCKS.format(s=blocks).split(";")[0]):
        cscv(noise(0), blocks=blocks)
