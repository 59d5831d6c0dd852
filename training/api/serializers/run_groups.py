from __future__ import annotations

from rest_framework import serializers

from training.marketdata.markets import parse_markets
from training.models import RegularizationProfile


class RunGroupLaunchSerializer(serializers.Serializer):
    markets = serializers.ListField(
        child=serializers.CharField(max_length=80),
        min_length=1,
        max_length=200,
        help_text="Markets, each SYMBOL, EXCHANGE:SYMBOL or 'EXCHANGE:SYMBOL INTERVAL' (defaults: exchange, interval)",
    )
    exchange = serializers.CharField(max_length=32, default="BINANCE")
    interval = serializers.CharField(max_length=8, default="1h")
    preset = serializers.CharField(max_length=16, default="quick")
    profile = serializers.PrimaryKeyRelatedField(
        queryset=RegularizationProfile.objects.all(), required=False, allow_null=True, default=None
    )
    seed = serializers.IntegerField(required=False, allow_null=True, default=None)

    def validate(self, data):
        try:
            data["markets"] = parse_markets(data["markets"], exchange=data["exchange"], interval=data["interval"])
        except ValueError as exc:
            raise serializers.ValidationError({"markets": [str(exc)]}) from None
        return data


class RunGroupRunSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="run.pk")
    market = serializers.CharField()
    status = serializers.CharField(source="run.status")
    progress = serializers.FloatField(source="run.progress")
    worker = serializers.CharField(source="run.worker")
    error = serializers.CharField(source="run.error")
    verdicts = serializers.DictField(child=serializers.CharField())


class RunGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="group.pk")
    status = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField())
    progress = serializers.FloatField()
    profile = serializers.CharField(source="group.profile.name")
    preset = serializers.CharField(source="group.preset")
    trigger = serializers.CharField(source="group.trigger")
    created_at = serializers.DateTimeField(source="group.created_at")
    runs = RunGroupRunSerializer(many=True, source="rows")
