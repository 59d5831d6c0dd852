from django.conf import settings
from django.db import models


class TrainingRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    symbol = models.CharField(max_length=32)
    exchange = models.CharField(max_length=32, default="BINANCE")
    interval = models.CharField(max_length=8, default="1h")
    profile = models.ForeignKey("training.RegularizationProfile", on_delete=models.PROTECT, related_name="runs")
    dataset = models.ForeignKey("training.MarketDataset", on_delete=models.PROTECT, related_name="runs", null=True)
    preset = models.CharField(max_length=16, default="quick")
    launched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0)
    stage = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    celery_task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    snapshot = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    log = models.TextField(blank=True)
    artifacts_path = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Run #{self.pk} {self.symbol} {self.interval} ({self.status})"

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
    train_val_gap = models.FloatField(null=True, blank=True)
    fit_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["run", "regime", "model"]
        constraints = [models.UniqueConstraint(fields=["run", "regime", "model"], name="unique_model_result")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.regime}/{self.model}"
