from __future__ import annotations

from rest_framework import serializers

from training.models import MarketDataset


class DatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = MarketDataset
        fields = [
            "id",
            "exchange",
            "symbol",
            "interval",
            "calendar",
            "source",
            "first_open_time",
            "last_open_time",
            "row_count",
            "gap_count",
            "largest_gap",
            "is_sample",
            "fingerprint",
            "updated_at",
        ]
        read_only_fields = fields


class DatasetImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="Binance kline CSV (.csv, .zip or .gz) or timestamp,open,high,low,close,volume"
    )
    symbol = serializers.CharField(max_length=32)
    exchange = serializers.CharField(max_length=32, default="BINANCE")
    interval = serializers.CharField(max_length=8, default="1h")
    source = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    calendar = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        default="",
        help_text="24/7, forex or an exchange_calendars code (XNYS, …); empty: the dataset's or the exchange's default",
    )


class ImportReportSerializer(serializers.Serializer):
    dataset = DatasetSerializer()
    rows_read = serializers.IntegerField()
    rows_stored = serializers.IntegerField()
    rows_skipped = serializers.IntegerField()
    warnings = serializers.ListField(child=serializers.CharField())
    report = serializers.ListField(child=serializers.CharField(), source="lines")
