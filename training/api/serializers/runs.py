"""Runs: the list row, the detail (today's keys: status, progress, snapshot, report, metrics, error), launch."""

from __future__ import annotations

from django.db import models
from rest_framework import serializers

from training.api.serializers.records import record_serializer
from training.ml.results import RegularizationReport, RunResult
from training.ml.results.trading import TradingResult
from training.models import RegularizationProfile, TrainingRun
from training.selectors.run_rows import kept_representations
from training.services.runs import RERUN_FROM_PROFILE, RERUN_SOURCES

TradingResultSerializer = record_serializer(TradingResult)
RegularizationReportSerializer = record_serializer(RegularizationReport)
RunResultSerializer = record_serializer(RunResult)


class ProfileRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class KeptRowsListSerializer(serializers.ListSerializer):
    """Each run's row is served from ``selectors.run_rows`` when its content was serialized before."""

    def to_representation(self, data):
        runs = data.all() if isinstance(data, models.manager.BaseManager) else data  # as DRF's own
        return kept_representations(runs, self.child.to_representation)


class RunListSerializer(serializers.ModelSerializer):
    profile = ProfileRefSerializer(read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    launched_by = serializers.CharField(source="launched_by.username", read_only=True, allow_null=True, default=None)
    regime_verdicts = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="regime -> the ensemble's verdict vs the best baseline"
    )

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "symbol",
            "exchange",
            "interval",
            "preset",
            "status",
            "trigger",
            "progress",
            "stage",
            "profile",
            "launched_by",
            "created_at",
            "started_at",
            "finished_at",
            "error",
            "notes",
            "tags",
            "system_verdict",
            "sharpe_after_costs",
            "log_loss_delta",
            "regime_verdicts",
            "wall_seconds",
        ]
        read_only_fields = fields
        list_serializer_class = KeptRowsListSerializer


class ProgressSerializer(serializers.Serializer):
    fraction = serializers.FloatField()
    stage = serializers.CharField(allow_blank=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True)


class AttemptsSerializer(serializers.Serializer):
    current = serializers.IntegerField()
    max = serializers.IntegerField()


class MetricsRowSerializer(serializers.Serializer):
    regime = serializers.CharField()
    model = serializers.CharField()
    metrics = serializers.JSONField()
    train_val_gap = serializers.FloatField(allow_null=True)
    fit_seconds = serializers.FloatField(allow_null=True)
    best_params = serializers.JSONField()


class AdviceSerializer(serializers.Serializer):
    regime = serializers.CharField()
    model = serializers.CharField()
    rule = serializers.CharField()
    direction = serializers.CharField(help_text="stronger, weaker, no effect or mechanism")
    text = serializers.CharField()
    evidence = serializers.ListField(child=serializers.CharField())
    sweep_axis = serializers.CharField(allow_blank=True, help_text="PARAM=LOW:HIGH:COUNT around the current value")
    sweep_holds = serializers.ListField(
        child=serializers.CharField(), help_text="settings the pre-filled sweep holds, e.g. lightgbm.early_stopping=off"
    )
    sweep_url = serializers.CharField(allow_blank=True)


class RunDetailSerializer(serializers.Serializer):
    """The run endpoint's answer (the keys the run page polls, plus the run's identity and trigger)."""

    id = serializers.IntegerField()
    symbol = serializers.CharField()
    exchange = serializers.CharField()
    interval = serializers.CharField()
    preset = serializers.CharField()
    trigger = serializers.ChoiceField(choices=TrainingRun.Trigger.choices)
    status = serializers.ChoiceField(choices=TrainingRun.Status.choices)
    terminal = serializers.BooleanField()
    attempts = AttemptsSerializer(help_text="Which attempt this is (a run whose worker was lost is re-queued).")
    worker = serializers.CharField(allow_null=True, help_text="The worker running it, if any.")
    progress = ProgressSerializer()
    snapshot = serializers.JSONField()
    report = RegularizationReportSerializer(
        allow_null=True,
        help_text="The regularization report: checked at launch, with the warnings measured after training once the "
        "run succeeded (null when the stored report cannot be read as one).",
    )
    metrics = MetricsRowSerializer(many=True)
    error = serializers.CharField(allow_null=True)
    log_tail = serializers.CharField(allow_blank=True)
    rerun_of = serializers.IntegerField(allow_null=True)
    notes = serializers.CharField(allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField())
    artifacts_url = serializers.CharField(allow_null=True)
    advice = AdviceSerializer(
        many=True,
        help_text="The regularization advisor: per regime and model, suggestions from the measured gap, collapse and "
        "penalty effect (rules declared beside each backend), each with its evidence and a pre-filled sweep",
    )
    result = RunResultSerializer(
        allow_null=True,
        help_text="The run's typed record (data, regularization, per-regime models, ensemble and baselines, timings, "
        "trading); null before the run succeeded or when the stored result cannot be read.",
    )
    trading = TradingResultSerializer(
        allow_null=True,
        help_text="The system's trading evidence on the common test window (after costs and at 0 bps, PSR, DSR "
        "with N, shift-null p, Holm-adjusted verdicts); null before the run succeeded or for older results.",
    )


class RunLaunchSerializer(serializers.Serializer):
    symbol = serializers.CharField(max_length=32)
    exchange = serializers.CharField(max_length=32, default="BINANCE")
    interval = serializers.CharField(max_length=8, default="1h")
    preset = serializers.CharField(max_length=16, default="quick")
    profile = serializers.PrimaryKeyRelatedField(
        queryset=RegularizationProfile.objects.all(), required=False, allow_null=True, default=None
    )
    seed = serializers.IntegerField(required=False, allow_null=True, default=None)
    trading = serializers.DictField(
        required=False,
        allow_null=True,
        default=None,
        help_text='The trading rule of the run\'s evidence: {"cost_bps": 10, "allow_short": true, "hold": "horizon" '
        'or "bar", "theta_grid": [0, 0.05, 0.1, 0.15, 0.2, 0.3]} (any key left out takes its default).',
    )


class RunNotesSerializer(serializers.Serializer):
    """PATCH /api/runs/N/: the run's notes and/or tags (a key left out stays as it is); nothing else changes."""

    notes = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    tags = serializers.ListField(
        child=serializers.CharField(allow_blank=False), required=False, help_text='e.g. ["baseline", "paper-2"]'
    )


RunRerunSerializer = type(
    "RunRerunSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "POST /api/runs/N/rerun/: which settings the new run trains with.",
        "from": serializers.ChoiceField(
            choices=list(RERUN_SOURCES.items()),
            default=RERUN_FROM_PROFILE,
            help_text="snapshot: this run's settings (its snapshot); profile: the profile as it is now",
        ),
    },
)


class PromotionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    exchange = serializers.CharField()
    symbol = serializers.CharField()
    interval = serializers.CharField()
    run = serializers.IntegerField(source="run_id", allow_null=True, help_text="Null: a rollback cleared the market.")
    replaced = serializers.IntegerField(source="replaced_id", allow_null=True)
    promoted_by = serializers.CharField(source="promoted_by.username", allow_null=True, default=None)
    promoted_at = serializers.DateTimeField()
    trigger = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    checks = serializers.JSONField(help_text="The promotion checks: key, label, status, detail, threshold, overridden.")
    overridden = serializers.BooleanField(help_text="Promoted despite failed checks (force with a reason).")
