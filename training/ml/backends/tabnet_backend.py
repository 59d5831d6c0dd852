from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..advisor import GAP_LARGE, STRONGER, WEAKER, AdviceRule, When
from ..parameters import NON_NEGATIVE, PENALTY_CEILING, FromBase, RegParam, Section
from .base import Backend, Framework, expand_proba
from .evidence import BEST_ITERATION, PENALTY_SHARE, PENALTY_SHARE_WARN, Evidence, MeasuredWarning
from .registry import register


@dataclass
class TabNetEvidence(Evidence):
    """The sparsity penalty's term and share of the validation objective (absent without scored validation rows),
    the optimizer's weight decay (TabNet's L2) and where early stopping kept the network."""

    mask_entropy: float | None = None
    sparsity_loss_term: float | None = None
    val_data_loss: float | None = None
    sparsity_share_of_loss: float | None = None
    lambda_sparse: float | None = None
    optimizer_weight_decay: float | None = None
    optimizer: str | None = None
    val_rows_unscored: int | None = None
    best_epoch: int | None = None


SECTION = Section(
    "tabnet",
    "TabNet (pytorch-tabnet)",
    (
        RegParam(
            "lambda_sparse",
            NON_NEGATIVE,
            FromBase("l1_alpha"),
            "Sparsity penalty on the attention masks.",
            library_arg="lambda_sparse",
            warn_above=1.0,
            ceiling=PENALTY_CEILING,
        ),
        RegParam(
            "lambda_l2",
            NON_NEGATIVE,
            FromBase("l2_alpha"),
            "L2 on the weights.",
            library_arg="optimizer_params.weight_decay",
            warn_above=1.0,
            ceiling=PENALTY_CEILING,
        ),
    ),
    "TabNetClassifier(lambda_sparse=…); TabNet has no L2 argument: lambda_l2 is applied as the "
    "optimizer's weight_decay (optimizer_params={'weight_decay': lambda_l2}).",
)


def seed_torch(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


TORCH = Framework("torch", ("torch", "pytorch-tabnet"), seed=seed_torch, modules=("torch", "pytorch_tabnet.tab_model"))
MODEL_STEM = "tabnet_model"


MSG_SPARSITY_SHARE = (
    "{where}: TabNet's sparsity term is {penalty_share:.0%} of its objective on the validation rows; lower "
    "lambda_sparse."
)
WARNINGS = (MeasuredWarning(MSG_SPARSITY_SHARE, (When(PENALTY_SHARE, ">", PENALTY_SHARE_WARN),)),)
ADVICE = (
    AdviceRule(
        "weaker",
        WEAKER,
        (),
        "The sparsity term dominates the objective or the model collapsed: try a smaller lambda_sparse.",
        param="lambda_sparse",
        any_of=(When("collapsed", "==", 1), When("sparsity_share_of_loss", ">", 0.5)),
    ),
    AdviceRule(
        "stronger",
        STRONGER,
        (When("gap", ">", GAP_LARGE), When("collapsed", "==", 0), When("sparsity_share_of_loss", "<", 0.01)),
        "The validation log loss is {gap:.3f} above the fit rows' and the sparsity term is "
        "{sparsity_share_of_loss:.1%} of the objective: a larger lambda_sparse may generalize better.",
        param="lambda_sparse",
    ),
)


@register
class TabNetBackend(Backend):
    """pytorch-tabnet's TabNetClassifier with the sparsity penalty and L2 as the optimizer's weight decay.

    ``TabNetClassifier(lambda_sparse=…, optimizer_fn=torch.optim.Adam,
    optimizer_params={"lr": learning_rate, "weight_decay": lambda_l2}, seed=seed, device_name=…)``;
    pytorch-tabnet 4.1 has no L2 argument of its own. Early stopping on the time-ordered validation part
    (eval metric logloss). Validation rows whose class never occurs in the training part cannot be scored by
    TabNet; they are left out of the early-stopping set and counted in the evidence.

    Evidence of the sparsity regularization is the **sparsity-loss term** TabNet adds to its objective,
    ``lambda_sparse · H(M)`` (``H`` the mean entropy of the attention masks, i.e. ``-lambda_sparse · M_loss``),
    measured on the validation rows beside the data cross-entropy, and its share of the objective. The share of
    mask entries near zero is not reported as evidence: sparsemax masks are sparse even with ``lambda_sparse = 0``.

    ``sample_weight``: pytorch-tabnet 4.1 has no per-row loss weight; its ``weights`` argument draws the training
    batches with a ``WeightedRandomSampler`` (with replacement) in proportion to the weights, which is what is used.

    params keys read (default):
      max_epochs (30), patience (5), batch_size (256), virtual_batch_size (128)
      learning_rate (0.02), n_d (8), n_a (8), n_steps (3)
      torch_threads (1)       torch.set_num_threads; 1 by default (2 ran ~5x slower on shared CPUs, bench/)
      device ("auto")         "auto" → cuda when available, else cpu
    """

    key = "tabnet"
    effect_evidence = ("sparsity_share_of_loss",)
    mechanism_evidence = ("best_epoch",)
    evidence_fields = {PENALTY_SHARE: "sparsity_share_of_loss", BEST_ITERATION: "best_epoch"}
    evidence_type = TabNetEvidence
    measured_warnings = WARNINGS
    test_params = {"max_epochs": 2, "n_d": 4, "n_a": 4, "n_steps": 2}
    default_reason = "TabNet keeps the base values (its sparsity term was 0.8 % of its objective)"
    saved_state = {"evidence": "measured", "feature_importance": "importance"}
    measured: dict = {}
    importance: list[float] | None = None
    advice = ADVICE
    section = SECTION
    framework = TORCH
    preset_params = {
        "smoke": {
            "max_epochs": 3,
            "patience": 2,
            "batch_size": 256,
            "virtual_batch_size": 128,
            "n_d": 8,
            "n_a": 8,
            "n_steps": 3,
        },
        "quick": {
            "max_epochs": 40,
            "patience": 6,
            "batch_size": 256,
            "virtual_batch_size": 128,
            "n_d": 16,
            "n_a": 16,
            "n_steps": 3,
        },
        "full": {
            "max_epochs": 100,
            "patience": 10,
            "batch_size": 1024,
            "virtual_batch_size": 128,
            "n_d": 16,
            "n_a": 16,
            "n_steps": 4,
        },
    }

    def library_kwargs(self) -> dict:
        """The generated regularization kwargs with the optimizer's learning rate beside weight_decay."""
        kwargs = super().library_kwargs()
        kwargs["optimizer_params"] = {"lr": float(self.param("learning_rate", 0.02)), **kwargs["optimizer_params"]}
        return kwargs

    def init_kwargs(self) -> dict:
        import torch

        device = self.param("device", "auto")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        return {
            **self.library_kwargs(),
            "optimizer_fn": torch.optim.Adam,
            "n_d": int(self.param("n_d", 8)),
            "n_a": int(self.param("n_a", 8)),
            "n_steps": int(self.param("n_steps", 3)),
            "seed": int(self.seed),
            "device_name": device,
            "verbose": 0,
        }

    def fit(self, X_train, y_train, X_val, y_val, sample_weight=None) -> TabNetBackend:
        import torch
        from pytorch_tabnet.callbacks import Callback
        from pytorch_tabnet.tab_model import TabNetClassifier

        torch.set_num_threads(int(self.param("torch_threads", 1)))
        self.start_fit()
        X_train, X_val = np.asarray(X_train, dtype=np.float32), np.asarray(X_val, dtype=np.float32)
        y_train, y_val = np.asarray(y_train, dtype=np.int64), np.asarray(y_val, dtype=np.int64)
        seen = np.isin(y_val, np.unique(y_train))
        self.val_rows_unscored = int((~seen).sum())
        if self.val_rows_unscored:
            self.log(
                f"tabnet: {self.val_rows_unscored} validation rows have a class absent from training; "
                "left out of early stopping"
            )
        backend = self

        class StopCheck(Callback):
            cancelled = False

            def on_epoch_end(self, epoch, logs=None):
                if backend.should_stop():
                    StopCheck.cancelled = True
                    self.trainer._stop_training = True

        init = self.init_kwargs()
        fit_kwargs = {
            "max_epochs": int(self.param("max_epochs", 30)),
            "patience": int(self.param("patience", 5)),
            "batch_size": int(self.param("batch_size", 256)),
            "virtual_batch_size": int(self.param("virtual_batch_size", 128)),
            # torch's batch norm cannot train on a last batch of one row: drop that one row (the sampler draws
            # other rows each epoch) rather than fail the run on n_train % batch_size == 1.
            "drop_last": len(X_train) % int(self.param("batch_size", 256)) == 1,
            "weights": 0 if sample_weight is None else np.asarray(sample_weight, dtype=np.float64),
        }
        model = TabNetClassifier(**init)
        with self.timing():
            model.fit(
                X_train,
                y_train,
                eval_set=[(X_train, y_train), (X_val[seen], y_val[seen])],
                eval_name=["train", "val"],
                eval_metric=["logloss"],
                callbacks=[StopCheck()],
                **fit_kwargs,
            )
        self.history = {
            "train_loss": [float(v) for v in model.history["train_logloss"]],
            "val_loss": [float(v) for v in model.history["val_logloss"]],
            "objective": [float(v) for v in model.history["loss"]],
        }
        if StopCheck.cancelled:
            self.check_stop(f"between epochs (after epoch {len(self.history['train_loss'])})")
        self.model = model
        self.library_params = {
            **{k: v for k, v in init.items() if k != "optimizer_fn"},
            "optimizer_fn": "torch.optim.Adam",
            **{k: v for k, v in fit_kwargs.items() if k != "weights"},
            "sample_weight": "WeightedRandomSampler" if sample_weight is not None else None,
            "best_epoch": int(model.best_epoch),
        }
        self.measured = self._measure(X_val[seen], y_val[seen])
        self.importance = [float(v) for v in model.feature_importances_]
        return self

    def _measure(self, X_val, y_val) -> dict:
        group = self.model._optimizer.param_groups[0]
        return {
            **self.sparsity_term(X_val, y_val),
            "lambda_sparse": float(self.model.lambda_sparse),
            "optimizer_weight_decay": float(group["weight_decay"]),
            "optimizer": type(self.model._optimizer).__name__,
            "val_rows_unscored": self.val_rows_unscored,
            "best_epoch": int(self.model.best_epoch)
            + 1,  # 1-based, as the Keras backends' (pytorch-tabnet counts from 0)
        }

    def sparsity_term(self, X, y) -> dict:
        """``lambda_sparse · mask entropy`` on rows X (what the sparsity penalty adds to the objective), the data
        cross-entropy on the same rows and the term's share of their sum."""
        import torch

        if len(X) == 0:
            return {}
        network = self.model.network
        network.eval()
        with torch.no_grad():
            _, m_loss = network(torch.from_numpy(np.asarray(X, dtype=np.float32)).to(self.model.device))
        entropy = -float(m_loss)
        term = float(self.model.lambda_sparse) * entropy
        proba = np.clip(self._predict_proba(X), 1e-7, 1.0)
        data_loss = float(-np.mean(np.log(proba[np.arange(len(y)), np.asarray(y, dtype=np.int64)])))
        return {
            "mask_entropy": entropy,
            "sparsity_loss_term": term,
            "val_data_loss": data_loss,
            "sparsity_share_of_loss": term / (term + data_loss) if term + data_loss > 0 else 0.0,
        }

    def evidence(self) -> dict:
        return dict(self.measured)

    def feature_importance(self) -> list[float]:
        return list(self.importance)

    def _predict_proba(self, X):
        mapper = self.model.preds_mapper  # output column (as str) → class label; survives save/load
        classes = [mapper[str(column)] for column in range(len(mapper))]
        return expand_proba(self.model.predict_proba(np.asarray(X, dtype=np.float32)), classes)

    def save_model(self, directory) -> list[str]:
        return [Path(self.model.save_model(str(directory / MODEL_STEM))).name]

    def load_model(self, directory):
        from pytorch_tabnet.tab_model import TabNetClassifier

        model = TabNetClassifier(device_name=self.init_kwargs()["device_name"])
        model.load_model(str(directory / f"{MODEL_STEM}.zip"))
        return model
