"""The active model of a market, its promotion history, and predictions."""

from __future__ import annotations

from rest_framework import serializers


class ModelSettingsSerializer(serializers.Serializer):
    profile = serializers.CharField(allow_null=True)
    preset = serializers.CharField()
    seed = serializers.IntegerField()
    config = serializers.JSONField(help_text="The resolved regularization config the run trained with.")
    data = serializers.JSONField(help_text="The dataset range and fingerprint the run trained on.")


class ArtifactsSerializer(serializers.Serializer):
    manifest = serializers.CharField(allow_null=True)
    files = serializers.ListField(child=serializers.CharField())


class AlertSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="live_log_loss, drift or drawdown")
    run_id = serializers.IntegerField()
    message = serializers.CharField()
    raised_at = serializers.DateTimeField()
    checked_at = serializers.DateTimeField()
    cleared_at = serializers.DateTimeField(allow_null=True)
    open = serializers.BooleanField()


class ActiveModelSerializer(serializers.Serializer):
    exchange = serializers.CharField()
    symbol = serializers.CharField()
    interval = serializers.CharField()
    run_id = serializers.IntegerField()
    promoted_at = serializers.DateTimeField()
    promoted_by = serializers.CharField(allow_null=True)
    settings = ModelSettingsSerializer()
    regimes = serializers.JSONField(help_text="Per regime: status and base models.")
    verdicts = serializers.JSONField(help_text="Per regime, the verdicts the run's result carries (may be empty).")
    artifacts = ArtifactsSerializer()
    download_url = serializers.CharField(help_text="GET: the run's artifacts as a zip.")
    alerts = AlertSerializer(many=True, help_text="The monitor's open alerts, then the latest cleared ones.")
    live = serializers.JSONField(
        help_text="Live performance since promotion: `matured` (count of predictions whose label horizon passed), "
        "`pending`, and once matured: log loss vs the training baselines (interval from LIVE_MIN_FOR_INTERVAL), "
        "hit rate (Wilson 95%), calibration (ECE, Brier), trading (after-cost return/Sharpe when positions exist)."
    )


class PredictRequestSerializer(serializers.Serializer):
    candles = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField(), min_length=6, max_length=6),
        required=False,
        allow_empty=False,
        help_text="[[open_time (epoch ms or ISO), open, high, low, close, volume], …], oldest first; the last bar "
        "is predicted. Omit to predict the latest stored bar.",
    )


class ClassProbabilitiesSerializer(serializers.Serializer):
    down = serializers.FloatField()
    flat = serializers.FloatField()
    up = serializers.FloatField()


class PredictionSerializer(serializers.Serializer):
    exchange = serializers.CharField()
    symbol = serializers.CharField()
    interval = serializers.CharField()
    run_id = serializers.IntegerField()
    open_time = serializers.CharField(help_text="ISO time of the predicted bar.")
    regime = serializers.CharField()
    probabilities = ClassProbabilitiesSerializer(help_text="The regime ensemble's probabilities (sum to 1).")
    models = serializers.DictField(
        child=ClassProbabilitiesSerializer(), help_text="Each base model of that regime's ensemble."
    )
    bars_used = serializers.IntegerField()
    position = serializers.FloatField(
        allow_null=True, help_text="The trading rule's position for the bar (null: no trading rule yet)."
    )
    served_at = serializers.DateTimeField(help_text="When this bar's prediction was first served (and logged).")
    source = serializers.CharField(help_text="The path that first served it: api, cli or schedule.")


class PromoteRequestSerializer(serializers.Serializer):
    force = serializers.BooleanField(default=False, help_text="Override failed promotion checks (needs a reason).")
    reason = serializers.CharField(default="", allow_blank=True, help_text="Why: required with force=true.")


class RollbackRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(default="", allow_blank=True)


class CheckSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    status = serializers.CharField(help_text="passed, failed or not available")
    detail = serializers.CharField()
    threshold = serializers.FloatField(allow_null=True)


class PromotionRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    failed_checks = CheckSerializer(many=True)
    checks = CheckSerializer(many=True)
