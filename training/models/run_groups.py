"""A group of runs launched together: one profile and preset over a list of markets (one run per market)."""

from django.conf import settings
from django.db import models


class RunGroup(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        PARTLY_FAILED = "partly failed"
        FAILED = "failed"

    profile = models.ForeignKey("training.RegularizationProfile", on_delete=models.PROTECT, related_name="groups")
    preset = models.CharField(max_length=16, default="quick")
    markets = models.JSONField(default=list, help_text="[{exchange, symbol, interval}] in launch order.")
    launched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    trigger = models.CharField(max_length=16, default="web")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Group #{self.pk}: {len(self.markets)} markets, {self.preset}"
