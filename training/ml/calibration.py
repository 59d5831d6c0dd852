"""Calibration of a combiner's probabilities: temperature scaling, expected calibration error, reliability bins.

Temperature scaling (Guo et al. 2017) divides the log-probabilities by one number T and renormalizes:
``p_T ∝ p ** (1 / T)``. T > 1 softens an over-confident model, T < 1 sharpens an under-confident one; the
argmax (and so accuracy) never changes. T is fitted by minimizing the row-weighted log loss on held-out
validation predictions (bounded search over log T in [log 0.05, log 20]); T = 1 is inside the range, so the fit
never raises the validation log loss it is fitted on.

Calibration earns its place like a combiner (``fit_temperature_checked``): when the validation rows span two or
more folds, a probe fitted on all but the last fold must lower the last fold's log loss; otherwise T = 1 (no
calibration) and the check says why. With one fold there is nothing to check it on and the fit is kept.

Expected calibration error is the top-label one: rows are binned by their highest probability (``N_BINS``
equal-width bins over [0, 1]); ECE = Σ_bins (rows in bin / rows) · |accuracy in bin − mean confidence in bin|.
"""

from __future__ import annotations

import math

import numpy as np

from .combiners import softmax, weighted_log_loss
from .metrics import clip_proba

N_BINS = 10
T_BOUNDS = (0.05, 20.0)
MSG_UNKNOWN_METHOD = "Unknown calibration method {method!r}; known: {known}."
MSG_NO_CHECK = "one fold of validation rows: no later fold to check the temperature on; kept"
MSG_CHECK_KEPT = "a temperature fitted on the earlier folds lowered the last fold's log loss; kept"
MSG_CHECK_DROPPED = "a temperature fitted on the earlier folds did not lower the last fold's log loss; T = 1"


class TemperatureScaling:
    method = "temperature"

    def __init__(self, temperature: float = 1.0) -> None:
        self.temperature = float(temperature)

    def fit(self, proba, y, sample_weight=None) -> TemperatureScaling:
        from scipy.optimize import minimize_scalar

        logp = np.log(clip_proba(proba))
        y = np.asarray(y).astype(int)

        def loss(log_t: float) -> float:
            return weighted_log_loss(softmax(logp / math.exp(log_t)), y, sample_weight)

        res = minimize_scalar(
            loss, bounds=(math.log(T_BOUNDS[0]), math.log(T_BOUNDS[1])), method="bounded", options={"xatol": 1e-6}
        )
        t = math.exp(float(res.x))
        self.temperature = t if loss(math.log(t)) <= loss(0.0) else 1.0
        return self

    def transform(self, proba) -> np.ndarray:
        """The rescaled probabilities; T = 1 (no calibration) returns them unchanged."""
        if self.temperature == 1.0:
            return np.asarray(proba, dtype=float)
        return softmax(np.log(clip_proba(proba)) / self.temperature)

    @property
    def parameter(self) -> dict:
        return {"temperature": self.temperature}

    def to_dict(self) -> dict:
        return {"method": self.method, **self.parameter}


CALIBRATORS = {TemperatureScaling.method: TemperatureScaling}


def fit_temperature_checked(proba, y, sample_weight, folds) -> tuple[TemperatureScaling, dict]:
    """Temperature scaling fitted on every row, kept only if the forward check passes (module docstring)."""
    proba, y = np.asarray(proba, dtype=float), np.asarray(y).astype(int)
    s, folds = np.asarray(sample_weight, dtype=float), np.asarray(folds)
    fitted = TemperatureScaling().fit(proba, y, s)
    last = folds == folds.max()
    if last.all():
        return fitted, {"kept": True, "reason": MSG_NO_CHECK, "rows": 0}
    probe = TemperatureScaling().fit(proba[~last], y[~last], s[~last])
    before = weighted_log_loss(proba[last], y[last], s[last])
    after = weighted_log_loss(probe.transform(proba[last]), y[last], s[last])
    kept = after < before
    check = {
        "kept": kept,
        "reason": MSG_CHECK_KEPT if kept else MSG_CHECK_DROPPED,
        "rows": int(last.sum()),
        "probe_temperature": probe.temperature,
        "log_loss_before": before,
        "log_loss_after": after,
    }
    return (fitted if kept else TemperatureScaling(1.0)), check


def calibrator_from_dict(data: dict) -> TemperatureScaling:
    try:
        cls = CALIBRATORS[data["method"]]
    except KeyError:
        raise KeyError(MSG_UNKNOWN_METHOD.format(method=data["method"], known=", ".join(CALIBRATORS))) from None
    return cls(**{k: v for k, v in data.items() if k != "method"})


def reliability_bins(proba, y, n_bins: int = N_BINS) -> list[dict]:
    """One entry per equal-width confidence bin: its bounds, row count, mean confidence and accuracy (None when
    empty) — the data of a reliability diagram."""
    proba = np.asarray(proba, dtype=float)
    y = np.asarray(y).astype(int)
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y
    index = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    bins = []
    for b in range(n_bins):
        rows = index == b
        count = int(rows.sum())
        bins.append(
            {
                "lower": b / n_bins,
                "upper": (b + 1) / n_bins,
                "count": count,
                "confidence": float(confidence[rows].mean()) if count else None,
                "accuracy": float(correct[rows].mean()) if count else None,
            }
        )
    return bins


def expected_calibration_error(proba, y, n_bins: int = N_BINS) -> float:
    bins = reliability_bins(proba, y, n_bins)
    n = sum(b["count"] for b in bins)
    if n == 0:
        return 0.0
    return float(sum(b["count"] / n * abs(b["accuracy"] - b["confidence"]) for b in bins if b["count"]))
