"""A sweep point's evidence from its run's stored validation predictions, and the paired comparison of points.

Every trained regime saved, beside its test block, the held-out validation rows' labels and probabilities of the
ensemble and of each base model (``<regime>/test_predictions.npz``: ``validation_y``, ``validation_ensemble``,
``validation_base_<model>``). From them:

- **a point's interval**: per regime and model the validation log loss with its 95 % circular moving-block
  bootstrap interval (block from the label horizon, ``training.ml.bootstrap``);
- **a paired difference** of two points on the same rows: the objective (mean over regimes of a model's or the
  ensemble's validation log loss) of point A minus point B, with the moving-block interval of that difference —
  each row weighted so that the weighted mean is the difference of the two objectives;
- **seeds**: a point trained with K seeds has its rows' losses averaged over the seeds before resampling, and the
  seeds' spread (standard deviation of the K objectives / √K) added in quadrature to the rows' half-width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .bootstrap import DEFAULT_RESAMPLES, NO_EVIDENCE, block_length, resampled_means, verdict_of
from .metrics import row_log_loss

PREDICTIONS_FILE = "test_predictions.npz"
ENSEMBLE = "ensemble"
BASE_PREFIX = "validation_base_"
Z95 = 1.959964


@dataclass
class RowLosses:
    """Per regime and model (``ensemble`` for the stacked one): per-row validation log loss, rows in time order."""

    losses: dict[str, dict[str, np.ndarray]]

    @classmethod
    def load(cls, run_dir, regimes, *, split: str = "validation") -> RowLosses:
        """``split`` "validation" (the held-out validation rows the choice is made on) or "test" (the test
        block, never used for a choice)."""
        y_key, ensemble_key, prefix = (
            ("validation_y", "validation_ensemble", BASE_PREFIX)
            if split == "validation"
            else ("y", "ensemble", "base_")
        )
        out: dict[str, dict[str, np.ndarray]] = {}
        for regime in regimes:
            path = Path(run_dir) / regime / PREDICTIONS_FILE
            if not path.is_file():
                continue
            with np.load(path) as f:
                if y_key not in f or "validation_y" not in f:
                    continue
                y = f[y_key].astype(int)
                models = {ENSEMBLE: row_log_loss(y, f[ensemble_key])}
                for name in f.files:
                    if name.startswith(prefix):
                        models[name[len(prefix) :]] = row_log_loss(y, f[name])
            out[regime] = models
        return cls(out)

    def models(self) -> list[str]:
        return sorted({m for per in self.losses.values() for m in per})


def interval(losses: np.ndarray, *, horizon: int, seed: int, seed_spread: float = 0.0) -> list[float]:
    """(low, high) 95 % interval of the mean loss: moving-block over rows, widened by the seeds' spread."""
    losses = np.asarray(losses, dtype=float)
    means = resampled_means(losses, block=block_length(horizon), n_resamples=DEFAULT_RESAMPLES, seed=seed)
    low, high = np.percentile(means, [2.5, 97.5])
    return _widen(float(losses.mean()), float(low), float(high), seed_spread)


def _widen(centre: float, low: float, high: float, spread: float) -> list[float]:
    if not spread:
        return [low, high]
    widen = Z95 * spread
    return [centre - math.hypot(centre - low, widen), centre + math.hypot(high - centre, widen)]


def seed_mean(parts: list[RowLosses]) -> RowLosses:
    """The rows' losses averaged over seeds (the regimes and models every seed has, with the same rows)."""
    first = parts[0].losses
    out: dict[str, dict[str, np.ndarray]] = {}
    for regime, models in first.items():
        for model, values in models.items():
            stack = [p.losses.get(regime, {}).get(model) for p in parts]
            if all(s is not None and s.shape == values.shape for s in stack):
                out.setdefault(regime, {})[model] = np.mean(stack, axis=0)
    return RowLosses(out)


def objective(rows: RowLosses, model: str) -> float | None:
    """Mean over the regimes that have ``model`` of its mean validation log loss."""
    means = [float(per[model].mean()) for per in rows.losses.values() if model in per]
    return float(np.mean(means)) if means else None


def paired_difference(
    a: RowLosses, b: RowLosses, *, model: str, horizon: int, seed: int, seed_spread: float = 0.0
) -> dict | None:
    """A − B of the objective of ``model`` on the rows both have, with its interval and verdict ("better" = A's
    loss lower). ``None`` when they share no rows."""
    parts = []
    regimes = [r for r in a.losses if model in a.losses[r] and model in b.losses.get(r, {})]
    regimes = [r for r in regimes if a.losses[r][model].shape == b.losses[r][model].shape]
    if not regimes:
        return None
    total = sum(a.losses[r][model].size for r in regimes)
    for regime in regimes:
        diff = a.losses[regime][model] - b.losses[regime][model]
        parts.append(diff * total / (len(regimes) * diff.size))
    diff = np.concatenate(parts)
    means = resampled_means(diff, block=block_length(horizon), n_resamples=DEFAULT_RESAMPLES, seed=seed)
    low, high = (float(v) for v in np.percentile(means, [2.5, 97.5]))
    centre = float(diff.mean())
    low, high = _widen(centre, low, high, seed_spread)
    return {
        "difference": centre,
        "ci95_low": low,
        "ci95_high": high,
        "verdict": verdict_of(low, high),
        "rows": int(diff.size),
        "regimes": regimes,
        "block": min(block_length(horizon), int(diff.size)),
    }


def no_evidence(comparison: dict | None) -> bool:
    return comparison is None or comparison["verdict"] == NO_EVIDENCE
