import pytest
from django.db import IntegrityError, transaction

from tests.training.profile_factories import out_of_range_cases
from training.models import RegularizationProfile

# the admin cases without their message: (field, value) with the same ids
DB_CASES = [pytest.param(*case.values[:2], id=case.id) for case in out_of_range_cases()]


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), DB_CASES)
def test_check_constraints_refuse_out_of_range_values(field, value):
    profile = RegularizationProfile.objects.create(name="p")
    with pytest.raises(IntegrityError), transaction.atomic():
        RegularizationProfile.objects.filter(pk=profile.pk).update(**{field: value})
    profile.refresh_from_db()
    assert getattr(profile, field) != value


@pytest.mark.django_db
def test_database_allows_only_one_default():
    RegularizationProfile.objects.create(name="a", is_default=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        RegularizationProfile.objects.create(name="b", is_default=True)


@pytest.mark.django_db
def test_history_records_per_backend_overrides():
    profile = RegularizationProfile.objects.create(name="p")
    profile.sklearn_c = 7.0
    profile.save()
    latest, first = profile.history.all()[:2]
    assert latest.sklearn_c == 7.0 and first.sklearn_c is None
    assert [c.field for c in latest.diff_against(first).changes] == ["sklearn_c"]


@pytest.mark.django_db
def test_resolved_config_uses_overrides_and_base():
    profile = RegularizationProfile.objects.create(name="p", l1_alpha=0.02, sklearn_l1_ratio=0.1, tabnet_lambda_l2=0.3)
    config = profile.resolved_config()
    assert config["sklearn"] == {"alpha": 0.02, "l1_ratio": 0.1, "C": pytest.approx(50.0)}
    assert config["tabnet"] == {"lambda_sparse": 0.02, "lambda_l2": 0.3}
