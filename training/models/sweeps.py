"""Regularization sweeps: a set of ordinary training runs (points) that differ only in swept regularization
values. The sweep's status is derived from its runs (see ``training.selectors.sweeps.sweep_status``)."""

from django.conf import settings
from django.db import models

OBJECTIVE_ENSEMBLE_VAL_LOG_LOSS = "ensemble_val_log_loss"
OBJECTIVE_BACKEND_VAL_LOG_LOSS = "backend_val_log_loss"
OBJECTIVE_BACKEND_DESCRIPTION = (
    "mean over trained regimes of {model}'s own validation log loss (lower is better; the swept model, not the "
    "ensemble, which may ignore it)"
)
OBJECTIVE_DESCRIPTION = (
    "mean over trained regimes of the ensemble's validation log loss (lower is better); a regime whose "
    "ensemble has no honest validation score (one fold) contributes the mean of its base models' "
    "out-of-fold validation log loss"
)


class Sweep(models.Model):
    class Mode(models.TextChoices):
        GRID = "grid"
        OPTUNA = "optuna"

    class Objective(models.TextChoices):
        ENSEMBLE_VAL_LOG_LOSS = OBJECTIVE_ENSEMBLE_VAL_LOG_LOSS, "ensemble validation log loss (lower is better)"
        BACKEND_VAL_LOG_LOSS = OBJECTIVE_BACKEND_VAL_LOG_LOSS, "one model's validation log loss (lower is better)"

    name = models.CharField(max_length=200, blank=True)
    symbol = models.CharField(max_length=32, db_index=True)
    exchange = models.CharField(max_length=32, default="BINANCE")
    interval = models.CharField(max_length=8, default="1h")
    profile = models.ForeignKey("training.RegularizationProfile", on_delete=models.PROTECT, related_name="sweeps")
    preset = models.CharField(max_length=16, default="quick")
    seed = models.IntegerField(default=42)
    axes = models.JSONField(default=list, help_text='[{"param": "l1_alpha", "values": [...], "log_range": ...}]')
    holds = models.JSONField(
        default=list,
        blank=True,
        help_text='Settings held at every point: [{"text": "lightgbm.early_stopping=off", "models": [...], ...}]',
    )
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.GRID)
    n_trials = models.PositiveIntegerField(null=True, blank=True)
    parallel = models.PositiveIntegerField(default=2, help_text="Optuna: trials asked ahead of the finished ones.")
    objective = models.CharField(max_length=32, choices=Objective.choices, default=Objective.ENSEMBLE_VAL_LOG_LOSS)
    objective_model = models.CharField(
        max_length=32, blank=True, help_text="backend_val_log_loss: the model whose validation log loss is minimized"
    )
    seeds = models.PositiveIntegerField(default=1, help_text="Each point is trained with this many seeds.")
    optuna_study_name = models.CharField(max_length=120, blank=True)
    asked = models.PositiveIntegerField(default=0, help_text="Points created so far (grid: all at launch).")
    best_point = models.ForeignKey(
        "training.SweepPoint", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancel_requested = models.BooleanField(default=False)
    launched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Sweep #{self.pk} {self.name or self.symbol}"

    @property
    def params(self) -> list[str]:
        return [axis["param"] for axis in self.axes]

    @property
    def pending_points(self) -> int:
        """Optuna trials still to be asked (none once cancelled); a grid creates every point at launch."""
        if self.mode != self.Mode.OPTUNA or self.cancel_requested:
            return 0
        return max(0, int(self.n_trials or 0) - self.asked)

    @property
    def objective_text(self) -> str:
        if self.objective == OBJECTIVE_BACKEND_VAL_LOG_LOSS:
            return OBJECTIVE_BACKEND_DESCRIPTION.format(model=self.objective_model)
        return OBJECTIVE_DESCRIPTION


class SweepPoint(models.Model):
    """One point of a sweep: the swept values and the run that trained them. ``objective`` and ``summary``
    (per regime and model: validation and train log loss, gap, band) are filled when the run ends."""

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="points")
    run = models.OneToOneField("training.TrainingRun", on_delete=models.CASCADE, related_name="sweep_point")
    index = models.PositiveIntegerField()
    values = models.JSONField(default=dict)
    trial_number = models.IntegerField(null=True, blank=True)
    repeat = models.PositiveIntegerField(
        default=0, help_text="Which of the sweep's seeds (run seed = sweep seed + it)."
    )
    objective = models.FloatField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    recorded = models.BooleanField(default=False, help_text="The run ended and its outcome was recorded (told).")

    class Meta:
        ordering = ["sweep", "index"]
        constraints = [models.UniqueConstraint(fields=["sweep", "index"], name="unique_sweep_point_index")]

    def __str__(self) -> str:
        return f"Sweep #{self.sweep_id} point {self.index}"
