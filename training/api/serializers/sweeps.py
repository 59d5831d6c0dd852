"""Shapes of /api/sweeps/ (documentation for the schema; the payload comes from the sweeps selector)."""

from rest_framework import serializers

from training.models import RegularizationProfile


class SweepLaunchSerializer(serializers.Serializer):
    symbol = serializers.CharField(max_length=32)
    exchange = serializers.CharField(max_length=32, default="BINANCE")
    interval = serializers.CharField(max_length=8, default="1h")
    preset = serializers.CharField(max_length=16, default="quick")
    profile = serializers.PrimaryKeyRelatedField(
        queryset=RegularizationProfile.objects.all(), required=False, allow_null=True, default=None
    )
    axes = serializers.ListField(
        child=serializers.CharField(),
        help_text='["PARAM=VALUES", …], e.g. ["sklearn.alpha=0.1:100:5"]; a line "lightgbm.early_stopping=off" '
        "(or tensorflow.early_stopping=off) is held at every point instead of swept",
    )
    mode = serializers.CharField(default="grid")
    n_trials = serializers.IntegerField(required=False, allow_null=True, default=None)
    parallel = serializers.IntegerField(default=2)
    seeds = serializers.IntegerField(default=1, help_text="grid: train each point with this many seeds")
    objective_model = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, default=None, help_text="a model key or 'ensemble'"
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    seed = serializers.IntegerField(required=False, allow_null=True, default=None)


class PairedDifferenceSerializer(serializers.Serializer):
    """Best − other on the same rows: mean log-loss difference with its 95 % moving-block interval (seed spread
    added), the verdict ("better" = the best point's loss is lower)."""

    difference = serializers.FloatField()
    ci95_low = serializers.FloatField()
    ci95_high = serializers.FloatField()
    verdict = serializers.CharField()
    rows = serializers.IntegerField()
    block = serializers.IntegerField()
    regimes = serializers.ListField(child=serializers.CharField())
    other_index = serializers.IntegerField()
    other_values = serializers.DictField()
    label = serializers.CharField(required=False)


class SweepObjectiveSerializer(serializers.Serializer):
    key = serializers.CharField()
    model = serializers.CharField(help_text="the model whose validation log loss is the objective, or 'ensemble'")
    description = serializers.CharField()
    lower_is_better = serializers.BooleanField()


class SweepPointSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    values = serializers.DictField(child=serializers.FloatField(), help_text="{param: value}")
    repeat = serializers.IntegerField(help_text="which of the sweep's seeds (run seed = sweep seed + repeat)")
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
    holds = serializers.ListField(
        child=serializers.DictField(),
        help_text="settings held at every point, e.g. lightgbm.early_stopping=off: text, section, setting, value, "
        "models, params",
    )
    mechanism = serializers.ListField(
        child=serializers.CharField(),
        help_text="where early stopping does the regularizing (best iteration / epoch), or was held off",
    )
    status = serializers.CharField()
    detail = serializers.CharField()
    objective = SweepObjectiveSerializer()
    runs = serializers.ListField(child=serializers.IntegerField())
    points = SweepPointSerializer(many=True)
    best = serializers.DictField(child=serializers.FloatField(), allow_null=True)
    best_objective = serializers.FloatField(allow_null=True)
    best_run = serializers.IntegerField(allow_null=True)
    seeds = serializers.IntegerField()
    best_vs_runner_up = PairedDifferenceSerializer(allow_null=True)
    best_vs_least_regularized = PairedDifferenceSerializer(allow_null=True)
    test_best_vs_least_regularized = PairedDifferenceSerializer(
        allow_null=True, help_text="on the held-out test block, after the choice (not used to choose)"
    )
    evidence_verdict = serializers.CharField(allow_blank=True)
    left_out_points = serializers.IntegerField(help_text="points left out of the choice (a run failed or cancelled)")
    curves = serializers.ListField(
        child=serializers.DictField(),
        help_text="per point: values, objective, seed spread and per regime and model the seed-mean validation "
        "log loss, its interval (band), seed spread, gap and measured effect",
    )
    pbo = PboSerializer()
    trading = SweepTradingSerializer()


class SaveProfileSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class SavedProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
