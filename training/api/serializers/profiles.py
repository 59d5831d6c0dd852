"""Regularization profiles: every editable field (base values and the generated per-backend overrides) and the
validation report the admin shows."""

from __future__ import annotations

from rest_framework import serializers

from training.models import RegularizationProfile
from training.selectors.profiles import profile_report
from training.services.profiles import EDITABLE_FIELDS


class ProfileSerializer(serializers.ModelSerializer):
    """The list shape, and the input of create/update (values are checked by the profiles service: the same
    ranges, cross-field rules and messages as the admin form)."""

    class Meta:
        model = RegularizationProfile
        fields = ["id", *EDITABLE_FIELDS, "is_default", "version", "created_at", "updated_at"]
        read_only_fields = ["id", "is_default", "version", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}
        validators: list = []


class ProfileCreateSerializer(ProfileSerializer):
    class Meta(ProfileSerializer.Meta):
        read_only_fields = ["id", "version", "created_at", "updated_at"]


class ProfileDetailSerializer(ProfileSerializer):
    report = serializers.SerializerMethodField(help_text="The validation report (as on the admin change page).")

    class Meta(ProfileSerializer.Meta):
        fields = [*ProfileSerializer.Meta.fields, "report"]

    def get_report(self, profile) -> dict:
        return profile_report(profile=profile)
