"""Run presets: how much data, how many folds, epochs and trials, and which models each regime uses.

- ``tiny`` — for plumbing tests (web, services, CLI, worker): the most recent 2,000 bars, one fold, the
  elastic-net logistic regression alone in every regime, no plots. A few seconds; says nothing about models.
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
``models``: per backend key, the ``params`` handed to the backend constructor, and ``ensembles`` (optional): per
regime, the base models its ensemble uses instead of the ensemble class's own ``model_keys``.
"""

from __future__ import annotations

import copy

from .regimes import REGIMES

PRESETS: dict[str, dict] = {
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
        "plots": False,
        "ensembles": {regime: ["logreg"] for regime in REGIMES},
        "models": {"logreg": {"max_iter": 200}},
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
        "plots": True,
        "models": {
            "lightgbm": {"n_trials": 3, "early_stopping_rounds": 10},
            "logreg": {"max_iter": 300},
            "lstm": {"epochs": 2, "batch_size": 128, "patience": 1, "lstm_units": 8, "dense_units": 8},
            "transformer": {"epochs": 2, "batch_size": 128, "patience": 1, "d_model": 8, "num_heads": 1, "ff_dim": 16},
            "tabnet": {
                "max_epochs": 3,
                "patience": 2,
                "batch_size": 256,
                "virtual_batch_size": 128,
                "n_d": 8,
                "n_a": 8,
                "n_steps": 3,
            },
        },
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
        "plots": True,
        "models": {
            "lightgbm": {"n_trials": 10, "early_stopping_rounds": 20},
            "logreg": {"max_iter": 500},
            "lstm": {"epochs": 30, "batch_size": 64, "patience": 5, "lstm_units": 32, "dense_units": 16},
            "transformer": {"epochs": 25, "batch_size": 64, "patience": 5, "d_model": 16, "num_heads": 2, "ff_dim": 32},
            "tabnet": {
                "max_epochs": 40,
                "patience": 6,
                "batch_size": 256,
                "virtual_batch_size": 128,
                "n_d": 16,
                "n_a": 16,
                "n_steps": 3,
            },
        },
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
        "plots": True,
        "models": {
            "lightgbm": {"n_trials": 40, "early_stopping_rounds": 50},
            "logreg": {"max_iter": 2000},
            "lstm": {"epochs": 60, "batch_size": 256, "patience": 8, "lstm_units": 32, "dense_units": 16},
            "transformer": {
                "epochs": 60,
                "batch_size": 256,
                "patience": 8,
                "d_model": 32,
                "num_heads": 4,
                "ff_dim": 64,
            },
            "tabnet": {
                "max_epochs": 100,
                "patience": 10,
                "batch_size": 1024,
                "virtual_batch_size": 128,
                "n_d": 16,
                "n_a": 16,
                "n_steps": 4,
            },
        },
    },
}

MSG_UNKNOWN_PRESET = "Unknown preset {name!r}; known presets: {known}."


def get_preset(name: str) -> dict:
    try:
        return copy.deepcopy(PRESETS[name])
    except KeyError:
        raise KeyError(MSG_UNKNOWN_PRESET.format(name=name, known=", ".join(PRESETS))) from None
