import pytest

from tests.training.runs_helpers import make_profile
from training.models import RegularizationProfile
from training.services.profile_versions import MSG_STALE_NO_USER, StaleProfile
from training.services.profiles import profile_update

pytestmark = pytest.mark.django_db


def test_every_save_raises_the_version_and_a_save_of_an_older_one_changes_nothing():
    profile = make_profile("baseline")
    version = profile.version
    mine, theirs = RegularizationProfile.objects.get(pk=profile.pk), RegularizationProfile.objects.get(pk=profile.pk)
    assert profile_update(profile=theirs, data={"l1_alpha": 0.3}, expected_version=version).version == version + 1

    with pytest.raises(StaleProfile) as stale:
        profile_update(profile=mine, data={"l1_alpha": 0.05}, expected_version=version)

    current = RegularizationProfile.objects.get(pk=profile.pk)
    assert (current.l1_alpha, current.version) == (0.3, version + 1)
    assert stale.value.current.l1_alpha == 0.3
    assert f"was changed by {MSG_STALE_NO_USER} at " in stale.value.messages[0]
    assert "l1_alpha=0.3" in stale.value.messages[0]
    assert profile_update(profile=mine, data={"l2_alpha": 0.01}).version == version + 2  # no version given: saved
