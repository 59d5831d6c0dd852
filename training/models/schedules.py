"""Scheduled retraining: a market, a profile, a preset, a crontab (run by celery beat) and a promotion policy."""

from django.conf import settings
from django.db import models
from django_celery_beat.validators import crontab_validator


class RetrainSchedule(models.Model):
    class Promote(models.TextChoices):
        NEVER = "never"
        ALWAYS = "always"
        NOT_WORSE = "not_worse", "when not worse than the active model"

    exchange = models.CharField(max_length=32, default="BINANCE")
    symbol = models.CharField(max_length=32)
    interval = models.CharField(max_length=8, default="1h")
    profile = models.ForeignKey(
        "training.RegularizationProfile",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="schedules",
        help_text="Blank: the default profile at the time each run starts.",
    )
    more_markets = models.JSONField(
        default=list,
        blank=True,
        help_text="More markets each firing trains beside the first, as one run group: "
        '["EXCHANGE:SYMBOL INTERVAL", …] (or SYMBOL, with the exchange and interval above).',
    )
    preset = models.CharField(max_length=16, default="quick")
    crontab = models.CharField(
        max_length=100,
        validators=[crontab_validator],
        help_text="minute hour day-of-month month day-of-week, in UTC (e.g. '0 * * * *': every hour).",
    )
    fetch = models.BooleanField(default=False, help_text="Fetch new candles from Binance before each run.")
    fetch_only = models.BooleanField(
        default=False, help_text="Only fetch new candles (no run): keeps live metrics maturing between retrains."
    )
    promote = models.CharField(max_length=16, choices=Promote.choices, default=Promote.NEVER)
    enabled = models.BooleanField(default=True)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_run = models.ForeignKey(
        "training.TrainingRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_fired_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text="Why the last firing launched no run (empty when it did).")

    class Meta:
        ordering = ["exchange", "symbol", "interval", "id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.exchange}:{self.symbol} {self.interval} {self.preset} at '{self.crontab}'"
