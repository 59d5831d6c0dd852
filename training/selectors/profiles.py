from django.db.models import QuerySet

from training.ml.regularization import validate_and_report_regularization
from training.models import RegularizationProfile


def profile_list(*, names: list[str] | None = None) -> QuerySet[RegularizationProfile]:
    qs = RegularizationProfile.objects.all()
    return qs.filter(name__in=names) if names else qs


def profile_get_default() -> RegularizationProfile | None:
    return RegularizationProfile.objects.filter(is_default=True).first()


def profile_report(*, profile: RegularizationProfile) -> dict:
    """The validation report of the profile's resolved config, with the profile's identity added."""
    report = validate_and_report_regularization(profile.resolved_config())
    report["profile"] = {"id": profile.pk, "name": profile.name, "is_default": profile.is_default}
    report["config"] = profile.resolved_config()
    return report


def profile_launch_panels() -> list[dict]:
    """What each profile would apply, for the panel beside the launch form's profile picker: its description,
    its status with warnings and errors, the base values and every backend's resolved values."""
    panels = []
    for profile in RegularizationProfile.objects.order_by("-is_default", "name"):
        report = validate_and_report_regularization(profile.resolved_config())
        panels.append(
            {
                "id": profile.pk,
                "name": profile.name,
                "is_default": profile.is_default,
                "description": profile.description,
                "status": report["status"],
                "messages": [*report["errors"], *report["warnings"]],
                "base": [(row["name"], row["value"]) for row in report["base"]],
                "backends": [
                    {
                        "label": section["label"],
                        "values": [(row["name"], row["value"], row["source"]) for row in section["params"]],
                    }
                    for section in report["backends"].values()
                ],
            }
        )
    return panels
