"""Shapes of /api/sweeps/ (documentation for the schema; the payload comes from the sweeps selector)."""

from rest_framework import serializers


class SweepObjectiveSerializer(serializers.Serializer):
    key = serializers.CharField()
    description = serializers.CharField()
    lower_is_better = serializers.BooleanField()


class SweepPointSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    values = serializers.DictField(child=serializers.FloatField(), help_text="{param: value}")
    run = serializers.IntegerField()
    status = serializers.CharField()
    objective = serializers.FloatField(allow_null=True)
    backends = serializers.DictField(help_text="per model: mean validation log loss and gap over trained regimes")


class DegradationSerializer(serializers.Serializer):
    slope = serializers.FloatField(allow_null=True)
    mean_in_sample_sharpe = serializers.FloatField()
    mean_out_of_sample_sharpe = serializers.FloatField()
    prob_out_of_sample_loss = serializers.FloatField()
    points = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))


class PboSerializer(serializers.Serializer):
    """CSCV over the sweep's finished points (per-bar after-cost validation returns on the bars they share)."""

    pbo = serializers.FloatField(required=False)
    configurations = serializers.IntegerField(required=False)
    bars = serializers.IntegerField(required=False)
    blocks = serializers.IntegerField(required=False)
    splits = serializers.IntegerField(required=False)
    computed_on = serializers.CharField(required=False)
    runs = serializers.ListField(child=serializers.IntegerField(), required=False)
    logit_histogram = serializers.DictField(required=False)
    degradation = DegradationSerializer(required=False)
    error = serializers.CharField(required=False, help_text="Why no PBO could be computed (then no other key).")


class SweepPointTradingSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    run = serializers.IntegerField()
    values = serializers.DictField()
    sharpe = serializers.FloatField(help_text="after-cost annualized Sharpe on the common test window")
    ci95_low = serializers.FloatField()
    ci95_high = serializers.FloatField()
    validation_sharpe = serializers.FloatField()
    degradation = serializers.FloatField()
    periods = serializers.FloatField()
    horizon = serializers.IntegerField()
    strength = serializers.FloatField(help_text="sum over the swept parameters of the value's rank")
    least_regularized = serializers.BooleanField()
    vs_least_regularized = serializers.DictField(allow_null=True, help_text="paired Sharpe difference [95%]")


class SweepTradingSerializer(serializers.Serializer):
    points = SweepPointTradingSerializer(many=True)
    degradation_verdict = serializers.DictField()


class SweepDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    symbol = serializers.CharField()
    exchange = serializers.CharField()
    interval = serializers.CharField()
    profile = serializers.DictField()
    preset = serializers.CharField()
    mode = serializers.CharField()
    n_trials = serializers.IntegerField(allow_null=True)
    axes = serializers.ListField(child=serializers.DictField())
    status = serializers.CharField()
    detail = serializers.CharField()
    objective = SweepObjectiveSerializer()
    runs = serializers.ListField(child=serializers.IntegerField())
    points = SweepPointSerializer(many=True)
    best = serializers.DictField(child=serializers.FloatField(), allow_null=True)
    best_objective = serializers.FloatField(allow_null=True)
    best_run = serializers.IntegerField(allow_null=True)
    pbo = PboSerializer()
    trading = SweepTradingSerializer()


class SaveProfileSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class SavedProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
