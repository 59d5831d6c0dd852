"""The model registry: the active run of each market (exchange, symbol, interval) and every promotion."""

from django.conf import settings
from django.db import models


class ActiveModel(models.Model):
    """The run a trading bot uses for one market; changed only by ``model_promote`` (which logs a Promotion)."""

    exchange = models.CharField(max_length=32)
    symbol = models.CharField(max_length=32)
    interval = models.CharField(max_length=8)
    run = models.ForeignKey("training.TrainingRun", on_delete=models.PROTECT, related_name="active_for")
    promoted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    promoted_at = models.DateTimeField()

    class Meta:
        ordering = ["exchange", "symbol", "interval"]
        constraints = [models.UniqueConstraint(fields=["exchange", "symbol", "interval"], name="unique_active_model")]

    def __str__(self) -> str:
        return f"{self.exchange}:{self.symbol} {self.interval} → run #{self.run_id}"


class Promotion(models.Model):
    """One promotion: which run became active for the market, which one it replaced, who, when and why."""

    exchange = models.CharField(max_length=32)
    symbol = models.CharField(max_length=32)
    interval = models.CharField(max_length=8)
    run = models.ForeignKey(
        "training.TrainingRun",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="promotions",
        help_text="Empty: a rollback past the first promotion cleared the market's active model.",
    )
    replaced = models.ForeignKey(
        "training.TrainingRun", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    promoted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    promoted_at = models.DateTimeField(db_index=True)
    trigger = models.CharField(max_length=16)
    reason = models.TextField(blank=True)
    checks = models.JSONField(
        default=list, blank=True, help_text="The promotion guard's checks: key, label, status, detail, threshold."
    )
    overridden = models.BooleanField(default=False, help_text="Promoted despite failed checks (reason given).")

    class Meta:
        ordering = ["-promoted_at", "-id"]
        indexes = [models.Index(fields=["exchange", "symbol", "interval", "-promoted_at"], name="promotion_market")]

    def __str__(self) -> str:
        return f"{self.exchange}:{self.symbol} {self.interval}: run #{self.run_id} (was #{self.replaced_id})"

    @property
    def failed_checks(self) -> list[dict]:
        """The checks that blocked a free promotion (failed and enforced)."""
        return [c for c in self.checks or [] if c.get("status") == "failed" and c.get("enforced", True)]
