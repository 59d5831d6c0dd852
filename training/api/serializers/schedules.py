from __future__ import annotations

from rest_framework import serializers

from training.models import RegularizationProfile, RetrainSchedule
from training.services.schedules import EDITABLE_FIELDS


class ScheduleSerializer(serializers.ModelSerializer):
    """Input: symbol, crontab (required), exchange, interval, preset, profile (id), fetch, promote, enabled."""

    profile = serializers.PrimaryKeyRelatedField(
        queryset=RegularizationProfile.objects.all(), required=False, allow_null=True
    )
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = RetrainSchedule
        fields = [
            "id",
            *EDITABLE_FIELDS,
            "created_by",
            "created_at",
            "last_run",
            "last_fired_at",
            "last_error",
            "periodic_task",
        ]
        read_only_fields = [
            "id",
            "created_by",
            "created_at",
            "last_run",
            "last_fired_at",
            "last_error",
            "periodic_task",
        ]
        extra_kwargs = {"crontab": {"validators": []}}
