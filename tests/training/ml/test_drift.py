"""PSI: a 3-standard-deviation shift reads as shifted (> 0.25), a same-distribution sample as stable (< 0.1)."""

import numpy as np

from training.ml.drift import psi, regime_mix, top_features


def test_psi_tells_a_shift_from_a_resample():
    rng = np.random.default_rng(0)
    reference = rng.normal(0, 1, 5000)
    assert psi(reference, rng.normal(0, 1, 1000)) < 0.1
    assert psi(reference, rng.normal(3, 1, 1000)) > 0.25
    assert np.isnan(psi(reference, []))


def test_regime_mix_and_top_features():
    assert regime_mix(["a", "a", "b", "a"], ["a", "b"]) == {
        "a": {"served": 0.75, "trained": 0.5},
        "b": {"served": 0.25, "trained": 0.5},
    }
    assert top_features([{"x": 10.0, "y": -30.0}, {"x": 1.0, "z": 1.0}], n=2) == ["x", "y"]
