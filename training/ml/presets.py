"""Run presets: how much data, how many folds, epochs and trials, and which models each regime uses.

- ``tiny`` — for plumbing tests (web, services, CLI, worker): the most recent 2,000 bars, one fold, the
  elastic-net logistic regression alone in every regime, with plots. A few seconds; says nothing about models.
- ``smoke`` — for tests: the most recent 3,000 bars, 2 walk-forward folds, 3 Optuna trials for LightGBM,
  2-3 epochs for the Keras models and TabNet. Measured ~15 s on 2 cores (aim ≤ 60 s).
- ``quick`` — the demo default: the whole offline sample (~17.5k hourly bars), 3 folds, 10 Optuna trials, up to
  30 (LSTM) / 25 (Transformer) Keras epochs and 40 TabNet epochs, all with early stopping. Measured ~90 s on
  2 cores (aim ≤ 240 s).
- ``full`` — for real use: all rows, 5 folds, 40 Optuna trials, up to 60 epochs with patience 8.

Common keys: ``max_rows`` (most recent rows kept, ``None`` = all), ``n_folds``, ``test_fraction``,
``first_train_fraction``, ``embargo`` (bars added to the purge gap H), ``inner_val_fraction`` (the early-stopping
/ tuning part carved from each fold's training rows), ``lookback`` (bars per window for sequence models),
``min_rows`` (a regime with fewer labeled rows is skipped), ``horizon``/``label_k`` (labels), ``plots``,
``sample_weights`` (weigh training rows by their average label uniqueness, López de Prado ch. 4; on by default),
``ensembles`` (optional): per regime, the base models its ensemble uses instead of the ensemble class's own
``model_keys``, and ``models``: per backend key, the ``params`` handed to the backend constructor — collected
from each backend's own ``preset_params`` (declared in its module), not written here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping

from .backends.registry import backend_classes
from .regimes import REGIMES

SETTINGS: dict[str, dict] = {
    "tiny": {
        "max_rows": 2000,
        "n_folds": 1,
        "test_fraction": 0.2,
        "first_train_fraction": 0.5,
        "embargo": 2,
        "inner_val_fraction": 0.2,
        "lookback": 12,
        "min_rows": 150,
        "horizon": 4,
        "label_k": 0.3,
        "sample_weights": True,
        "plots": True,
        "ensembles": {regime: ["logreg"] for regime in REGIMES},
    },
    "smoke": {
        "max_rows": 3000,
        "n_folds": 2,
        "test_fraction": 0.2,
        "first_train_fraction": 0.5,
        "embargo": 2,
        "inner_val_fraction": 0.2,
        "lookback": 12,
        "min_rows": 150,
        "horizon": 4,
        "label_k": 0.3,
        "sample_weights": True,
        "plots": True,
    },
    "quick": {
        "max_rows": None,
        "n_folds": 3,
        "test_fraction": 0.2,
        "first_train_fraction": 0.4,
        "embargo": 4,
        "inner_val_fraction": 0.2,
        "lookback": 24,
        "min_rows": 400,
        "horizon": 4,
        "label_k": 0.3,
        "sample_weights": True,
        "plots": True,
    },
    "full": {
        "max_rows": None,
        "n_folds": 5,
        "test_fraction": 0.2,
        "first_train_fraction": 0.4,
        "embargo": 8,
        "inner_val_fraction": 0.2,
        "lookback": 48,
        "min_rows": 1000,
        "horizon": 4,
        "label_k": 0.3,
        "sample_weights": True,
        "plots": True,
    },
}

MSG_UNKNOWN_PRESET = "Unknown preset {name!r}; known presets: {known}."


def build_preset(name: str) -> dict:
    """The preset's settings with ``models`` collected from every registered backend that declares it."""
    preset = copy.deepcopy(SETTINGS[name])
    preset["models"] = {
        cls.key: copy.deepcopy(cls.preset_params[name]) for cls in backend_classes() if name in cls.preset_params
    }
    return preset


class _Presets(Mapping):
    """Every preset by name, built from the settings and the registered backends on each access."""

    def __getitem__(self, name: str) -> dict:
        if name not in SETTINGS:
            raise KeyError(name)
        return build_preset(name)

    def __iter__(self) -> Iterator[str]:
        return iter(SETTINGS)

    def __len__(self) -> int:
        return len(SETTINGS)


PRESETS: Mapping[str, dict] = _Presets()


def get_preset(name: str) -> dict:
    if name not in SETTINGS:
        raise KeyError(MSG_UNKNOWN_PRESET.format(name=name, known=", ".join(SETTINGS)))
    return build_preset(name)
