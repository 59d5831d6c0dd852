from django.db import models


class RunPart(models.Model):
    """One regime of a run spread over workers (``TRAINING_REGIME_TASKS``). ``token`` is the run's task id of the
    attempt the part belongs to: a part of an earlier attempt can never store its result into a later one."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"  # its run failed or was cancelled before the part ended

    run = models.ForeignKey("training.TrainingRun", on_delete=models.CASCADE, related_name="parts")
    regime = models.CharField(max_length=32)
    token = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    worker = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=0,
        help_text="how many times a worker took the part (2 or more: a worker was lost and it was queued again)",
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    files = models.JSONField(default=dict, blank=True, help_text="{name: sha256} of the part's files in the store")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "regime"], name="unique_run_part_regime")]

    def __str__(self) -> str:
        return f"run #{self.run_id} part {self.regime} ({self.status})"
