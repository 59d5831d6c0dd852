import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

MSG_SNAPSHOT_IMMUTABLE = "The snapshot of run #{pk} is immutable once stored."


class TrainingRunQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if "snapshot" in kwargs:
            raise ValidationError(MSG_SNAPSHOT_IMMUTABLE.format(pk="*"))
        return super().update(**kwargs)


class RunTag(models.Model):
    """A short label runs carry (``baseline``, ``paper-2``); the run list and the API filter by it."""

    name = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TrainingRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Trigger(models.TextChoices):
        WEB = "web"
        ADMIN = "admin"
        CLI = "cli"
        API = "api"
        SCHEDULE = "schedule"
        SWEEP = "sweep"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    symbol = models.CharField(max_length=32, db_index=True)
    exchange = models.CharField(max_length=32, default="BINANCE")
    interval = models.CharField(max_length=8, default="1h")
    profile = models.ForeignKey("training.RegularizationProfile", on_delete=models.PROTECT, related_name="runs")
    dataset = models.ForeignKey("training.MarketDataset", on_delete=models.PROTECT, related_name="runs", null=True)
    preset = models.CharField(max_length=16, default="quick")
    seed = models.BigIntegerField(default=42)
    launched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    rerun_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reruns")
    sweep = models.ForeignKey("training.Sweep", on_delete=models.SET_NULL, null=True, blank=True, related_name="runs")
    group = models.ForeignKey(
        "training.RunGroup", on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.WEB, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0)
    stage = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1, help_text="the attempt now queued, running or last made")
    queued_at = models.DateTimeField(null=True, blank=True, help_text="when the run was last put in the queue")
    worker = models.CharField(max_length=200, blank=True, help_text="node name of the worker that claimed it")
    cancel_requested = models.BooleanField(default=False)
    celery_task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    artifacts_path = models.CharField(
        max_length=500, blank=True, help_text="key of the run's folder in the artifact store (runs/<id>-<key>)"
    )
    # Names the run's artifacts folder with its number (runs/<id>-<key>): ids come back after a restore, keys never.
    artifacts_key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    error = models.TextField(blank=True)
    # What the people working with the run say about it (editable after the run, unlike its snapshot).
    notes = models.TextField(blank=True, default="")
    tags = models.ManyToManyField("training.RunTag", blank=True, related_name="runs")
    # The leaderboard's numbers (the run list sorts and filters on them), copied from the result once, when the
    # service stores it (``training.services.runs.leaderboard``); null for a run without that evidence.
    system_verdict = models.CharField(max_length=16, blank=True, default="", help_text="the trading system verdict")
    sharpe_after_costs = models.FloatField(null=True, blank=True, help_text="annualized, on the test window")
    log_loss_delta = models.FloatField(
        null=True, blank=True, help_text="mean over trained regimes of the ensemble's Δ test log loss vs the baseline"
    )
    regime_verdicts = models.JSONField(default=dict, blank=True, help_text="regime -> the ensemble's verdict")
    wall_seconds = models.FloatField(null=True, blank=True, help_text="finished − started, stored when it ends")
    # The large columns last (migration 0023): on SQLite a column stored after them is read through their overflow
    # pages. A new field goes above them, and its migration moves them after it again as 0023 does
    # (tests/training/models/test_large_columns_last.py fails until it does).
    snapshot = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True)
    log = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)

    objects = TrainingRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="run_status_heartbeat"),
            # The run list's filters (the page's and the API's), each in the list's order (newest first), so a
            # filtered deep page is an index range scan (0009_run_list_indexes).
            models.Index(fields=["-created_at", "-id"], name="run_list_created"),
            models.Index(fields=["status", "-created_at", "-id"], name="run_list_status"),
            models.Index(fields=["symbol", "-created_at", "-id"], name="run_list_symbol"),
            models.Index(fields=["symbol", "status", "-created_at", "-id"], name="run_list_symbol_status"),
            models.Index(fields=["profile", "status", "-created_at", "-id"], name="run_list_profile_status"),
            # 1,000,000 runs (0015_i26): a profile's runs in the list's order (was profile, -created_at: a sort
            # of each page's ties), and the API's status + trigger filter counted and paged from one index.
            models.Index(fields=["profile", "-created_at", "-id"], name="run_list_profile"),
            models.Index(fields=["status", "trigger", "-created_at", "-id"], name="run_list_status_trigger"),
            models.Index(
                fields=["symbol", "status", "trigger", "-created_at", "-id"], name="run_list_symbol_status_trigger"
            ),
            # The leaderboard's sorts (0021_i25b): each metric with the id as the tie-break, read forwards or
            # backwards; the system verdict filter sorted by Sharpe from one index.
            models.Index(fields=["sharpe_after_costs", "id"], name="run_board_sharpe"),
            models.Index(fields=["log_loss_delta", "id"], name="run_board_log_loss"),
            models.Index(fields=["wall_seconds", "id"], name="run_board_duration"),
            models.Index(fields=["system_verdict", "sharpe_after_costs", "id"], name="run_board_verdict_sharpe"),
            # a market's verdict filter sorted by Sharpe, and a trigger's runs (sweeps, schedules) by each metric:
            # 1,000,000 runs counted and paged from them in ms (a temporary sort of 167,000 rows took 1.8 s)
            models.Index(
                fields=["symbol", "system_verdict", "sharpe_after_costs", "id"], name="run_board_symbol_verdict"
            ),
            models.Index(fields=["trigger", "sharpe_after_costs", "id"], name="run_board_trigger_sharpe"),
            models.Index(fields=["trigger", "log_loss_delta", "id"], name="run_board_trigger_log_loss"),
        ]

    def __str__(self) -> str:
        return f"Run #{self.pk} {self.symbol} {self.interval} ({self.status})"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        if "snapshot" in field_names:
            instance._stored_snapshot = instance.snapshot
        return instance

    def save(self, *args, **kwargs):
        stored = getattr(self, "_stored_snapshot", None)
        if self.pk is not None and stored is None and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values_list("snapshot", flat=True).first()
        if stored and self.snapshot != stored:
            raise ValidationError(MSG_SNAPSHOT_IMMUTABLE.format(pk=self.pk))
        super().save(*args, **kwargs)
        self._stored_snapshot = self.snapshot

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def max_attempts(self) -> int:
        """Attempts a run gets when its worker shuts down or is lost (the first one included)."""
        return max(int(getattr(settings, "TRAINING_MAX_ATTEMPTS", 3)), 1)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class ModelResult(models.Model):
    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="model_results")
    regime = models.CharField(max_length=32)
    model = models.CharField(max_length=32)
    metrics = models.JSONField(default=dict)
    validation_balanced_accuracy = models.FloatField(null=True, blank=True)
    validation_macro_f1 = models.FloatField(null=True, blank=True)
    test_macro_f1 = models.FloatField(null=True, blank=True)
    train_val_gap = models.FloatField(null=True, blank=True)
    fit_seconds = models.FloatField(null=True, blank=True)
    best_params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "regime", "model"]
        constraints = [models.UniqueConstraint(fields=["run", "regime", "model"], name="unique_model_result")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.regime}/{self.model}"
