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
