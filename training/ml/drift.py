"""Drift of served inputs against the training rows (plain Python, no Django).

``psi``: the population stability index of one feature, Σ (a_i − e_i) · ln(a_i / e_i) over ``bins`` bins cut
at the reference's quantiles (e_i: reference share, a_i: current share, both floored at ``PSI_FLOOR`` so an empty
bin counts instead of dividing by zero). The usual reading: < 0.1 stable, 0.1–0.25 shifting, > 0.25 shifted.
``regime_mix``: each regime's share of the served bars beside its share of the training rows.
"""

from __future__ import annotations

import numpy as np

PSI_BINS = 10
PSI_FLOOR = 1e-4


def psi(reference, current, bins: int = PSI_BINS) -> float:
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    reference, current = reference[np.isfinite(reference)], current[np.isfinite(current)]
    if reference.size == 0 or current.size == 0:
        return float("nan")
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    expected = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=edges.size + 1)
    actual = np.bincount(np.searchsorted(edges, current, side="right"), minlength=edges.size + 1)
    e = np.maximum(expected / reference.size, PSI_FLOOR)
    a = np.maximum(actual / current.size, PSI_FLOOR)
    return float(((a - e) * np.log(a / e)).sum())


def regime_mix(served: list[str], trained: list[str]) -> dict[str, dict[str, float]]:
    names = sorted(set(served) | set(trained))
    return {
        name: {
            "served": served.count(name) / len(served) if served else 0.0,
            "trained": trained.count(name) / len(trained) if trained else 0.0,
        }
        for name in names
    }


def top_features(models: dict, n: int = 5) -> list[str]:
    """The ``n`` features with the largest importance summed over a regime's models (each model's absolute
    importances normalized to sum 1 first, so no model's scale dominates)."""
    total: dict[str, float] = {}
    for importance in models:
        values = {k: abs(float(v)) for k, v in (importance or {}).items()}
        norm = sum(values.values()) or 1.0
        for name, value in values.items():
            total[name] = total.get(name, 0.0) + value / norm
    return [name for name, _ in sorted(total.items(), key=lambda item: (-item[1], item[0]))[:n]]
