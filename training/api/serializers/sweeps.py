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


class SaveProfileSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class SavedProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
