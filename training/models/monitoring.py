"""What the active model served and how it did: one logged prediction per market, run and bar (matured when its
label horizon has passed), and the monitor's alerts per market."""

from django.db import models


class PredictionLog(models.Model):
    """A served prediction; the unique (market, run, bar) makes a repeated request return the stored answer."""

    exchange = models.CharField(max_length=32)
    symbol = models.CharField(max_length=32)
    interval = models.CharField(max_length=8)
    run = models.ForeignKey("training.TrainingRun", on_delete=models.CASCADE, related_name="predictions")
    open_time = models.DateTimeField(help_text="The predicted bar's open time.")
    regime = models.CharField(max_length=16)
    probabilities = models.JSONField(help_text="The regime ensemble's {down, flat, up}.")
    base_models = models.JSONField(default=dict, blank=True, help_text="Each base model's probabilities.")
    features = models.JSONField(default=dict, blank=True, help_text="The bar's feature values (for drift).")
    position = models.FloatField(
        null=True, blank=True, help_text="The trading rule's position for the bar (empty: no trading rule yet)."
    )
    bars_used = models.IntegerField(default=0)
    source = models.CharField(max_length=16, help_text="api, cli or schedule: the path that first served it.")
    served_at = models.DateTimeField()
    label = models.IntegerField(null=True, blank=True, help_text="Realized class (0 down, 1 flat, 2 up).")
    realized_return = models.FloatField(null=True, blank=True, help_text="log(close[t+H] / close[t]).")
    persisted_label = models.IntegerField(
        null=True, blank=True, help_text="The label of bar t-H (known at t): the persistence baseline's input."
    )
    matured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["exchange", "symbol", "interval", "open_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["exchange", "symbol", "interval", "run", "open_time"], name="unique_prediction_per_bar"
            )
        ]
        indexes = [models.Index(fields=["run", "matured_at"], name="prediction_run_matured")]

    def __str__(self) -> str:
        return f"{self.exchange}:{self.symbol} {self.interval} run #{self.run_id} @ {self.open_time:%Y-%m-%d %H:%M}"


class MonitorAlert(models.Model):
    """A condition the monitor found on a market's active model; ``cleared_at`` set when it no longer holds."""

    exchange = models.CharField(max_length=32)
    symbol = models.CharField(max_length=32)
    interval = models.CharField(max_length=8)
    run = models.ForeignKey("training.TrainingRun", on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=32)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField()
    checked_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["exchange", "symbol", "interval", "cleared_at"], name="alert_market_open")]

    def __str__(self) -> str:
        state = f"cleared {self.cleared_at:%Y-%m-%d %H:%M}" if self.cleared_at else "open"
        return f"{self.exchange}:{self.symbol} {self.interval} {self.kind} ({state})"
