"""What the Keras models' (LSTM, Transformer) evidence means: its record (``KerasEvidence``), the advisor's rules
and the measured warnings, beside their backend (``keras_backend``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..advisor import GAP_LARGE, MECHANISM, STRONGER, WEAKER, AdviceRule, When
from .evidence import PENALTY_SHARE, PENALTY_SHARE_WARN, Evidence, MeasuredWarning

MSG_PENALTY_SHARE = (
    "{where}: the L1/L2 penalty is {penalty_share:.0%} of the validation loss at the best epoch "
    "({best_iteration}); the penalty, not the data, drives training. Lower l1_reg / l2_reg."
)
WARNINGS = (MeasuredWarning(MSG_PENALTY_SHARE, (When(PENALTY_SHARE, ">", PENALTY_SHARE_WARN),)),)

FEW_EPOCHS = 2
ADVICE = (
    AdviceRule(
        "stronger",
        STRONGER,
        (When("gap", ">", GAP_LARGE), When("collapsed", "==", 0), When("penalty_share_at_best_epoch", "<", 0.02)),
        "The validation log loss is {gap:.3f} above the fit rows' and the penalty is "
        "{penalty_share_at_best_epoch:.1%} of the loss at the best epoch: a larger L2 may generalize better.",
        param="l2_reg",
    ),
    AdviceRule(
        "weaker",
        WEAKER,
        (),
        "The penalty dominates or the model collapsed: try a smaller L1.",
        param="l1_reg",
        any_of=(When("collapsed", "==", 1), When("penalty_share_at_best_epoch", ">", 0.5)),
    ),
    AdviceRule(
        "early_stopping",
        MECHANISM,
        (When("early_stopping", "==", 1, default=1), When("best_epoch", "<=", FEW_EPOCHS)),
        "The best epoch was {best_epoch:g}: early stopping ends training before the penalties matter; sweep L2 with "
        "early stopping held off to see its own effect.",
        param="l2_reg",
        hold="early_stopping=off",
    ),
)


@dataclass
class KerasEvidence(Evidence):
    """The L1/L2 penalty's share of the loss at the kept epoch and at the end, the kernels it acts on, and the
    regularizers and dropout rates read back from the built model."""

    best_epoch: int | None = None
    early_stopping: int | None = None
    val_data_loss_at_best_epoch: float | None = None
    penalty_at_best_epoch: float | None = None
    penalty_share_at_best_epoch: float | None = None
    regularization_penalty: float | None = None
    train_data_loss: float | None = None
    penalty_share_of_loss: float | None = None
    kernel_weights: int | None = None
    kernel_l1_norm: float | None = None
    kernel_l2_norm: float | None = None
    kernel_mean_abs: float | None = None
    kernel_near_zero_share: float | None = None
    regularizers: dict[str, dict[str, float]] | None = None
    dropout_rates: dict[str, float] | None = None
