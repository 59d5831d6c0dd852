"""Choosing a regime's combiner on time-ordered validation only.

Input: each member's out-of-fold probabilities on the validation blocks of the walk-forward folds (rows in time
order), the labels, each row's fold and each fold's training size.

**Out-of-fold row rule.** A fold's rows come from models trained on that fold's training rows; the first fold's
models saw far less data than the last fold's (and than the models that predict the test block). Each row is
therefore weighted by ``its fold's training size / the last fold's training size`` (``fold_row_weights``), in
fitting every combiner, in its validation log loss and in calibration. With ``quick`` (first_train_fraction 0.4,
3 folds) the weights are about 0.5, 0.75, 1.

**Validation.** With two or more folds every candidate is scored on the rows of folds 2..k. ``weighted`` and
``meta`` are forward-chained: for fold j they are fitted on folds 1..j−1 and predict fold j, so no row is scored by
a combiner that saw it. ``best_single`` and ``average`` have nothing to learn but the pick of a member; they are
scored on the same rows (``best_single`` picks on them, which favours the simplest candidate: the conservative
side). The meta-learner's C is the grid value with the lowest such loss. With one fold only ``best_single`` and
``average`` are candidates, scored on that fold.

**Selection.** Let *b* be the candidate with the lowest validation log loss. Eligible are the candidates whose
loss is not above ``best_single``'s (so the choice is never worse than the best member on validation). The choice
is the simplest eligible candidate (``best_single`` < ``average`` < ``weighted`` < ``meta``) whose row-loss
difference to *b* has no moving-block bootstrap evidence of being worse (interval not wholly above 0).
The chosen combiner is then refitted on all out-of-fold rows (weighted as above); its held-out predictions on the
scored rows are what calibration is fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .bootstrap import WORSE, moving_block_bootstrap
from .combiners import COMBINERS, SIMPLICITY, Combiner
from .metrics import row_log_loss

MSG_NO_ROWS = "No out-of-fold rows to choose a combiner on."
MSG_FOLD_IDS = "fold_ids must be non-decreasing fold numbers 0..{k} (one per training size)."
MSG_ONE_FOLD = "One fold only: the fitted combiners (weighted, meta) have no held-out rows and are not candidates."
MSG_CANDIDATE_FAILED = "Candidate {key} {params} not scored: {error}"
ROW_RULE = (
    "out-of-fold rows weighted by their fold's training size / the last fold's training size; fitted combiners "
    "forward-chained over the folds; candidates scored on folds 2..k"
)


def fold_row_weights(fold_ids, train_sizes) -> np.ndarray:
    sizes = np.asarray(train_sizes, dtype=float)
    return sizes[np.asarray(fold_ids)] / sizes[-1]


@dataclass
class Candidate:
    key: str
    params: dict
    validation_log_loss: float
    weights: dict[str, float]
    heldout: np.ndarray = field(repr=False)
    row_losses: np.ndarray = field(repr=False)
    grid: list[dict] = field(default_factory=list)
    vs_lowest: dict | None = None
    combiner: Combiner | None = field(default=None, repr=False)  # refitted on all out-of-fold rows

    def summary(self) -> dict:
        return {
            "validation_log_loss": self.validation_log_loss,
            "params": self.params,
            "weights": self.weights,
            "grid": self.grid,
            "vs_lowest": self.vs_lowest,
        }


@dataclass
class CombinerChoice:
    combiner: Combiner
    candidates: dict[str, Candidate]
    scored: np.ndarray  # indices of the out-of-fold rows the candidates were scored on
    row_weights: np.ndarray
    lowest: str
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.combiner.key

    @property
    def heldout(self) -> np.ndarray:
        return self.candidates[self.name].heldout

    def summary(self) -> dict:
        return {
            "combiner": self.name,
            "params": self.combiner.params,
            "weights": self.combiner.weights(),
            "candidates": {k: c.summary() for k, c in self.candidates.items()},
            "lowest_validation_log_loss": self.lowest,
            "validation_rows": int(len(self.scored)),
            "row_rule": ROW_RULE,
            "notes": list(self.notes),
        }


def _score(cls, params, probas, y, fold_ids, w, scored, members) -> tuple[np.ndarray, np.ndarray]:
    """Held-out predictions on the scored rows and their weighted row losses."""
    if cls.forward_chained:
        pred = np.full((len(y), 3), np.nan)
        for j in np.unique(fold_ids[scored]):
            before, this = fold_ids < j, fold_ids == j
            model = cls(members, **params).fit({m: p[before] for m, p in probas.items()}, y[before], w[before])
            pred[this] = model.predict_proba({m: p[this] for m, p in probas.items()})
        pred = pred[scored]
    else:
        sub = {m: p[scored] for m, p in probas.items()}
        pred = cls(members, **params).fit(sub, y[scored], w[scored]).predict_proba(sub)
    return pred, row_log_loss(y[scored], pred)


def choose_combiner(probas: dict, y, fold_ids, train_sizes, *, block: int, seed: int) -> CombinerChoice:
    """``probas``: member → (n, 3) out-of-fold probabilities; ``fold_ids``: each row's fold (0-based, time order);
    ``train_sizes``: each fold's training size. See the module docstring for the rule."""
    y = np.asarray(y).astype(int)
    fold_ids = np.asarray(fold_ids).astype(int)
    if len(y) == 0:
        raise ValueError(MSG_NO_ROWS)
    k = len(train_sizes)
    if np.any(np.diff(fold_ids) < 0) or fold_ids.min() < 0 or fold_ids.max() >= k:
        raise ValueError(MSG_FOLD_IDS.format(k=k - 1))
    members = list(probas)
    w = fold_row_weights(fold_ids, train_sizes)
    scored = np.flatnonzero(fold_ids >= 1) if k >= 2 and np.any(fold_ids >= 1) else np.arange(len(y))
    chained_ok = k >= 2 and np.any(fold_ids < fold_ids[scored].min())
    notes = [] if chained_ok else [MSG_ONE_FOLD]
    ws = w[scored]

    candidates: dict[str, Candidate] = {}
    for key in SIMPLICITY:
        cls = COMBINERS[key]
        if cls.forward_chained and not chained_ok:
            continue
        tried = []
        for params in cls.grid:
            try:
                pred, losses = _score(cls, params, probas, y, fold_ids, w, scored, members)
            except ValueError as exc:  # e.g. the meta-learner's earlier folds hold a single class
                notes.append(MSG_CANDIDATE_FAILED.format(key=key, params=params, error=exc))
                continue
            tried.append((float(np.average(losses, weights=ws)), params, pred, losses))
        if not tried:
            continue
        loss, params, pred, losses = min(tried, key=lambda t: t[0])
        full = cls(members, **params).fit(probas, y, w)
        candidates[key] = Candidate(
            key=key,
            params=params,
            validation_log_loss=loss,
            weights=full.weights(),
            heldout=pred,
            row_losses=losses,
            grid=[{**p, "validation_log_loss": v} for v, p, _, _ in tried] if len(cls.grid) > 1 else [],
            combiner=full,
        )

    lowest = min(candidates.values(), key=lambda c: c.validation_log_loss)
    scale = ws / ws.mean()  # row losses times this average to the weighted log loss
    for c in candidates.values():
        c.vs_lowest = moving_block_bootstrap(c.row_losses * scale, lowest.row_losses * scale, block=block, seed=seed)
    ceiling = candidates["best_single"].validation_log_loss
    chosen = next(
        c
        for c in candidates.values()
        if c.validation_log_loss <= ceiling and (c is lowest or c.vs_lowest["verdict"] != WORSE)
    )
    return CombinerChoice(
        combiner=chosen.combiner,
        candidates=candidates,
        scored=scored,
        row_weights=w,
        lowest=lowest.key,
        notes=notes,
    )
