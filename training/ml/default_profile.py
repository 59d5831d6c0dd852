"""The default regularization profile that ``make run`` loads (``load_default_profile``): the base values from
``settings.CONFIG['MODEL_TRAINING']['regularization']`` (L1 0.01, L2 0.001, dropout 0.2) and per-backend
overrides chosen from a sweep on the offline sample (quick preset, each backend on its regime's last
walk-forward fold, validation log loss against the majority baseline; bench/bench_regularization_sweep.py).

One base value means very different strengths per library, so the same 0.01 crushes one model and does nothing
to another:

- Keras (LSTM, Transformer): L1 = 0.01 made the bull-trend LSTM collapse (one class on every row, spread 0.0000)
  and was 74 % of the Transformer's validation loss at its best epoch; at L1 = L2 = 1e-4 neither collapses and
  the penalty is ~5 % of the loss (LSTM validation log loss 1.0983 vs majority 1.1097).
- LightGBM keeps the base values. reg_alpha 0.01 zeroes ~0.1 % of the leaves (no measurable effect), but every
  setting from reg_alpha 0.5 / reg_lambda 1 up made the bear-trend model collapse to the class prior on the
  sweep's fold (that regime has no signal for it: best validation log loss 1.1002 vs majority 1.1030; in the
  full quick run with sample weights it collapses at the base values too — the run page flags it), and reg_alpha 2 /
  reg_lambda 5, best on bull_trend without sample weights (1.0845 vs 1.0917), was not better with them and the
  run's per-fold seed (1.0860 vs 1.0831).
- Logistic regression: alpha 0.01 (C = 100) left every coefficient non-zero (1/(C·n) ≈ 4e-6 per row at 2,651
  rows); alpha 10 (C = 0.1) zeroes 44 % of them and lowers the validation log loss from 1.1257 to 1.1167 while
  the model keeps predicting all three classes (alpha 100 nearly collapses onto one class, 98 %).
- TabNet keeps the base values: its sparsity term was 0.8 % of the objective at lambda_sparse 0.01.
"""

from __future__ import annotations

from .parameters import BASE_DEFAULTS

DEFAULT_BASE = dict(BASE_DEFAULTS)  # the seed's base values (the one place they are declared: parameters.py)
DESCRIPTION_BASE = (
    "Base values from settings (L1 0.01, L2 0.001, dropout 0.2) with per-backend overrides from a sweep on the "
    "offline sample (quick preset)"
)


def default_overrides() -> dict[str, dict[str, float]]:
    """Per profile section, the values each backend declares for the default profile (``default_overrides``)."""
    from .backends.registry import backend_classes

    out: dict[str, dict[str, float]] = {}
    for cls in backend_classes():
        if cls.default_overrides:
            out.setdefault(cls.config_section, dict(cls.default_overrides))
    return out


def default_description() -> str:
    """The default profile's description: the base sentence, then each backend's declared reason, once."""
    from .backends.registry import backend_classes

    reasons = list(dict.fromkeys(cls.default_reason for cls in backend_classes() if cls.default_reason))
    return DESCRIPTION_BASE + (": " + "; ".join(reasons) if reasons else "") + "."


def __getattr__(name: str):
    """``DEFAULT_OVERRIDES`` and ``DEFAULT_DESCRIPTION`` are read from the registry when asked for."""
    if name == "DEFAULT_OVERRIDES":
        return default_overrides()
    if name == "DEFAULT_DESCRIPTION":
        return default_description()
    raise AttributeError(name)


def default_override_fields() -> dict[str, float]:
    """The overrides as profile field names (``tensorflow_l1_reg`` …)."""
    from .regularization import override_field_name

    return {
        override_field_name(backend, name): float(value)
        for backend, params in default_overrides().items()
        for name, value in params.items()
    }
