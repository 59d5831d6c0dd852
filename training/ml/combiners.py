"""Candidate combiners of the base models' out-of-fold probabilities (a registry of small classes).

Simplest first (``SIMPLICITY``):

- ``best_single``: the one member with the lowest (row-weighted) log loss.
- ``average``: the equal-weight average of the members' probabilities.
- ``weighted``: a linear pool, non-negative weights summing to 1, fitted by minimizing the row-weighted log loss
  (scipy SLSQP with the analytic gradient; the problem is convex).
- ``meta``: a multinomial logistic regression on the members' log-probabilities with an L2 penalty whose strength
  ``C`` is chosen from ``META_C_GRID`` by the same time-ordered validation as the combiners themselves (not the
  profile's C, which belongs to the base logistic model). Small C pulls it towards the class frequencies.

Every fitted combiner keeps its state as plain floats, so ``to_dict()`` → JSON → ``combiner_from_dict()`` predicts
bit-identical probabilities (the meta-learner predicts from its stored coefficients, not through scikit-learn).
How one is chosen lives in ``combiner_choice``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .metrics import clip_proba, row_log_loss

EPS = 1e-7
META_C_GRID = (0.001, 0.01, 0.1, 1.0)
MSG_UNKNOWN_COMBINER = "Unknown combiner {key!r}; known: {known}."
MSG_NOT_FITTED = "Combiner {key} was used before fit()."
MSG_BAD_INPUT = "Combiner {key}: member {member} has probabilities of shape {shape}; expected ({n}, 3)."
MSG_WEIGHTS_FAILED = "Combiner weighted: SLSQP did not converge ({message})."
MSG_SINGLE_CLASS = "Combiner meta: its training rows hold a single class ({classes})."


def weighted_log_loss(proba, y, sample_weight=None) -> float:
    """The row-weighted mean of the metrics' per-row log loss (clipped as ``classification_metrics`` does)."""
    return float(np.average(row_log_loss(y, proba), weights=sample_weight))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Combiner:
    key: ClassVar[str]
    label: ClassVar[str]
    #: whether the combiner learns from labels beyond picking among members; such combiners are validated by
    #: forward chaining over the folds (fit on earlier folds, predict the next one).
    forward_chained: ClassVar[bool] = False
    #: hyperparameter settings tried by the time-ordered validation
    grid: ClassVar[tuple[dict, ...]] = ({},)

    def __init__(self, members: list[str], **params) -> None:
        self.members = list(members)
        self.params = dict(params)
        self.state: dict | None = None

    def stack(self, probas: dict) -> list[np.ndarray]:
        n = len(probas[self.members[0]])
        out = []
        for member in self.members:
            p = np.asarray(probas[member], dtype=float)
            if p.shape != (n, 3):
                raise ValueError(MSG_BAD_INPUT.format(key=self.key, member=member, shape=p.shape, n=n))
            out.append(clip_proba(p))
        return out

    def fit(self, probas: dict, y, sample_weight=None) -> Combiner:
        y = np.asarray(y).astype(int)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.state = self._fit(self.stack(probas), y, w / w.sum())
        return self

    def predict_proba(self, probas: dict) -> np.ndarray:
        if self.state is None:
            raise RuntimeError(MSG_NOT_FITTED.format(key=self.key))
        return self._predict(self.stack(probas))

    def weights(self) -> dict[str, float]:
        """Each member's share of the combination (for ``meta``: its share of the absolute coefficients)."""
        if self.state is None:
            raise RuntimeError(MSG_NOT_FITTED.format(key=self.key))
        return dict(zip(self.members, self.state["weights"]))

    def to_dict(self) -> dict:
        return {"key": self.key, "members": self.members, "params": self.params, "state": self.state}

    def _fit(self, P: list[np.ndarray], y: np.ndarray, s: np.ndarray) -> dict:
        raise NotImplementedError

    def _predict(self, P: list[np.ndarray]) -> np.ndarray:
        w = np.asarray(self.state["weights"])
        return sum(wi * p for wi, p in zip(w, P))


class BestSingle(Combiner):
    key = "best_single"
    label = "best single member"

    def _fit(self, P, y, s):
        losses = [float(np.dot(s, -np.log(p[np.arange(len(y)), y]))) for p in P]
        best = int(np.argmin(losses))
        return {"weights": [1.0 if j == best else 0.0 for j in range(len(P))], "member": self.members[best]}

    def predict_proba(self, probas: dict) -> np.ndarray:
        """The member's own probabilities, unchanged (so its comparison with the member is exactly 0)."""
        if self.state is None:
            raise RuntimeError(MSG_NOT_FITTED.format(key=self.key))
        self.stack(probas)  # checks the shapes
        return np.asarray(probas[self.state["member"]], dtype=float)


class Average(Combiner):
    key = "average"
    label = "equal-weight average"

    def _fit(self, P, y, s):
        return {"weights": [1.0 / len(P)] * len(P)}


class WeightedAverage(Combiner):
    key = "weighted"
    label = "weighted average (non-negative weights, sum 1)"
    forward_chained = True

    def _fit(self, P, y, s):
        from scipy.optimize import minimize

        T = np.stack([p[np.arange(len(y)), y] for p in P], axis=1)  # (n, members): p(true class)
        m = T.shape[1]

        def loss(w):
            return -float(np.dot(s, np.log(np.maximum(T @ w, EPS))))

        def grad(w):
            return -(s / np.maximum(T @ w, EPS)) @ T

        res = minimize(
            loss,
            np.full(m, 1.0 / m),
            jac=grad,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * m,
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones(m)}],
            options={"ftol": 1e-12, "maxiter": 500},
        )
        if not res.success:
            raise RuntimeError(MSG_WEIGHTS_FAILED.format(message=res.message))
        w = np.clip(res.x, 0.0, None)
        return {"weights": (w / w.sum()).tolist()}


class MetaLogistic(Combiner):
    key = "meta"
    label = "L2 logistic regression on log-probabilities"
    forward_chained = True
    grid = tuple({"C": c} for c in META_C_GRID)

    def _fit(self, P, y, s):
        from sklearn.linear_model import LogisticRegression

        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(MSG_SINGLE_CLASS.format(classes=classes.tolist()))
        X = np.log(np.hstack(P))
        model = LogisticRegression(C=float(self.params["C"]), max_iter=2000)
        model.fit(X, y, sample_weight=s * len(y))
        coef = np.asarray(model.coef_)
        share = np.abs(coef).reshape(coef.shape[0], len(P), 3).sum(axis=(0, 2))
        total = share.sum()
        return {
            "classes": [int(c) for c in model.classes_],
            "coef": coef.tolist(),
            "intercept": np.asarray(model.intercept_).tolist(),
            "weights": (share / total if total > 0 else np.full(len(P), 1.0 / len(P))).tolist(),
        }

    def _predict(self, P):
        X = np.log(np.hstack(P))
        z = X @ np.asarray(self.state["coef"]).T + np.asarray(self.state["intercept"])
        classes = self.state["classes"]
        if len(classes) == 2:  # scikit-learn's binary model: one logit for the second class
            p1 = 1.0 / (1.0 + np.exp(-z[:, 0]))
            fitted = np.column_stack([1.0 - p1, p1])
        else:
            fitted = softmax(z)
        out = np.zeros((len(X), 3))
        out[:, classes] = fitted
        return out


COMBINERS: dict[str, type[Combiner]] = {cls.key: cls for cls in (BestSingle, Average, WeightedAverage, MetaLogistic)}
SIMPLICITY = tuple(COMBINERS)


def get_combiner(key: str) -> type[Combiner]:
    try:
        return COMBINERS[key]
    except KeyError:
        raise KeyError(MSG_UNKNOWN_COMBINER.format(key=key, known=", ".join(COMBINERS))) from None


def combiner_from_dict(data: dict) -> Combiner:
    combiner = get_combiner(data["key"])(data["members"], **data.get("params", {}))
    combiner.state = data["state"]
    return combiner
