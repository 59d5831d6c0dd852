from django.db import models


class MarketDataset(models.Model):
    """One candle series per (exchange, symbol, interval)."""

    exchange = models.CharField(max_length=32, default="BINANCE")
    symbol = models.CharField(max_length=32)
    interval = models.CharField(max_length=8, default="1h")
    source = models.TextField(blank=True, help_text="Where the candles come from (file, API, provenance).")
    first_open_time = models.DateTimeField(null=True, blank=True)
    last_open_time = models.DateTimeField(null=True, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    gaps = models.JSONField(
        default=list, blank=True, help_text="Holes in the series: [{after, before, missing}], the first 1000."
    )
    calendar = models.CharField(
        max_length=16,
        default="24/7",
        help_text="Market calendar: 24/7 (crypto), forex (closed Friday 22:00 to Sunday 22:00 UTC) or an exchange "
        "code of exchange_calendars (XNYS, XLON, CMES, …). Closures are not gaps.",
    )
    gap_count = models.PositiveIntegerField(default=0)
    largest_gap = models.PositiveIntegerField(default=0, help_text="Missing candles in the largest gap.")
    is_sample = models.BooleanField(
        default=False,
        help_text="Holds the bundled offline sample; the first real import or fetch replaces it.",
    )
    fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["exchange", "symbol", "interval"]
        constraints = [
            models.UniqueConstraint(fields=["exchange", "symbol", "interval"], name="unique_dataset"),
        ]

    def __str__(self) -> str:
        return f"{self.exchange}:{self.symbol} {self.interval}"


class Candle(models.Model):
    # No separate index on dataset_id: the unique (dataset, open_time) index serves those lookups, and one index
    # less makes bulk imports about a quarter faster.
    dataset = models.ForeignKey(MarketDataset, on_delete=models.CASCADE, related_name="candles", db_index=False)
    open_time = models.DateTimeField()
    open = models.FloatField()
    high = models.FloatField()
    low = models.FloatField()
    close = models.FloatField()
    volume = models.FloatField()
    quote_volume = models.FloatField(null=True, blank=True)
    trades = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["dataset", "open_time"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "open_time"], name="unique_candle_time"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id} {self.open_time:%Y-%m-%d %H:%M} close={self.close}"
