"""manage.py promote RUN_ID and manage.py predict SYMBOL (the same answer as the API)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from tests.training.trained_run import make_trained_run, trained_artifacts  # noqa: F401
from training.models import ActiveModel, Promotion
from training.selectors.promotion_checks import promotion_checks_evaluate
from training.selectors.registry import MSG_NO_ACTIVE_MODEL

pytestmark = pytest.mark.django_db


def run_command(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_promote_and_predict(trained_artifacts, django_user_model):  # noqa: F811
    run = make_trained_run(trained_artifacts)
    with pytest.raises(CommandError) as error:
        run_command("predict", "btcusdt")
    assert str(error.value) == MSG_NO_ACTIVE_MODEL.format(market="BINANCE:BTCUSDT 1h")
    direct = json.loads(run_command("predict", "BTCUSDT", "--run", str(run.pk)))
    with pytest.raises(CommandError) as refused:  # the real tiny run is worse than a baseline in one regime
        run_command("promote", str(run.pk))
    assert "FAILED not_worse_than_baseline" in str(refused.value) and "--force --reason" in str(refused.value)
    with pytest.raises(CommandError, match="needs a written reason"):
        run_command("promote", str(run.pk), "--force")
    assert not Promotion.objects.exists()
    out = run_command("promote", str(run.pk), "--force", "--reason", "desk call")
    assert "is now the active model of BINANCE:BTCUSDT 1h (replaced: none)" in out
    failed = [check.key for check in promotion_checks_evaluate(run=run) if check.failed]
    assert "not_worse_than_baseline" in failed
    assert f"Overrode failed checks: {', '.join(failed)}." in out
    assert Promotion.objects.get().trigger == "cli" and ActiveModel.objects.get().run_id == run.pk
    printed = json.loads(run_command("predict", "BTCUSDT", "--exchange", "binance", "--interval", "1h"))
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_superuser("root", password="pw-root-123"))
    api = client.post(reverse("api:model-predict", args=["BINANCE", "BTCUSDT", "1h"]), {}, format="json").json()
    assert printed == api == direct and printed["run_id"] == run.pk


def test_promote_refuses_unknown_and_unfinished_runs(profile, dataset, tiny_result):
    with pytest.raises(CommandError, match="No run #4242"):
        run_command("promote", "4242")
    from tests.training.runs_helpers import make_finished_run

    failed = make_finished_run(profile, dataset, result=tiny_result, status="failed")
    with pytest.raises(CommandError, match="only a succeeded run can be promoted"):
        run_command("promote", str(failed.pk))


def test_rollback_command(profile, dataset, tiny_result):
    from tests.training.runs_helpers import make_finished_run

    first, second = (make_finished_run(profile, dataset, result=tiny_result) for _ in range(2))
    run_command("promote", str(first.pk), "--force", "--reason", "one")
    run_command("promote", str(second.pk), "--force", "--reason", "two")
    out = run_command("rollback", "btcusdt", "--reason", "two misbehaves")
    assert f"run #{first.pk} is the active model again (run #{second.pk} was)" in out
    assert ActiveModel.objects.get().run_id == first.pk
    assert Promotion.objects.first().trigger == "rollback"
    assert "no active model now" in run_command("rollback", "BTCUSDT")
    with pytest.raises(CommandError, match="nothing to roll back"):
        run_command("rollback", "BTCUSDT")
