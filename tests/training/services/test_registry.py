"""model_promote: only succeeded runs with saved models; the history records who, when, why and what it replaced."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.training.runs_helpers import make_finished_run, make_user
from training.models import ActiveModel, Promotion
from training.services.registry import MSG_ALREADY_ACTIVE, MSG_NO_ARTIFACTS, MSG_NOT_SUCCEEDED, model_promote

pytestmark = pytest.mark.django_db


def test_promote_replaces_and_records(profile, dataset, tmp_path):
    first = make_finished_run(profile, dataset, tmp_path=tmp_path)
    second = make_finished_run(profile, dataset, tmp_path=tmp_path)
    user = make_user("promoter", can_launch=False)
    model_promote(run=first, user=user, trigger="cli", reason="first")
    promotion = model_promote(run=second, trigger="admin")
    active = ActiveModel.objects.get()
    assert (active.run_id, active.promoted_by) == (second.pk, None)
    assert (promotion.replaced_id, promotion.trigger) == (first.pk, "admin")
    history = list(Promotion.objects.values_list("run_id", "replaced_id", "promoted_by__username", "reason"))
    assert history == [(second.pk, first.pk, None, ""), (first.pk, None, "promoter", "first")]
    with pytest.raises(ValidationError) as error:
        model_promote(run=second)
    assert error.value.messages == [MSG_ALREADY_ACTIVE.format(pk=second.pk, market="BINANCE:BTCUSDT 1h")]


def test_refused_runs(profile, dataset, tmp_path):
    failed = make_finished_run(profile, dataset, tmp_path=tmp_path, status="failed")
    no_files = make_finished_run(profile, dataset)
    with pytest.raises(ValidationError) as error:
        model_promote(run=failed)
    assert error.value.messages == [MSG_NOT_SUCCEEDED.format(pk=failed.pk, status="failed")]
    with pytest.raises(ValidationError) as error:
        model_promote(run=no_files)
    assert error.value.messages == [MSG_NO_ARTIFACTS.format(pk=no_files.pk)]
    assert not ActiveModel.objects.exists() and not Promotion.objects.exists()
