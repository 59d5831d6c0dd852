"""model_promote: only succeeded runs with saved models, behind the promotion guard (a real tiny run is worse than
its best baseline in one regime: refused with the failed checks, accepted with a reason and recorded); the
history records who, when, why, the checks and what it replaced; model_rollback walks the history back."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.training.runs_helpers import make_finished_run, make_user
from training.models import ActiveModel, Promotion
from training.selectors.promotion_checks import (
    CHECK_KEYS,
    FAILED,
    NOT_AVAILABLE,
    PASSED,
    promotion_checks_evaluate,
)
from training.services.registry import (
    MSG_ALREADY_ACTIVE,
    MSG_NO_ARTIFACTS,
    MSG_NOT_SUCCEEDED,
    MSG_NOTHING_TO_ROLL_BACK,
    MSG_REASON_REQUIRED,
    PromotionRefused,
    model_promote,
    model_rollback,
    rollback_message,
)

pytestmark = pytest.mark.django_db
REASON = "reviewed by hand: the worse regime is rarely traded"


def worse_regimes(result: dict) -> list[str]:
    """The regimes whose stored ensemble verdict against the best baseline is 'worse' (read straight from the
    engine's result, independently of the guard)."""
    return [
        regime
        for regime, section in result["ensembles"].items()
        if ((section.get("ensemble") or {}).get("vs_baseline") or {}).get("verdict") == "worse"
    ]


def test_the_guard_refuses_a_worse_run_and_accepts_it_with_a_reason(settings, profile, dataset, tiny_result):
    worse = worse_regimes(tiny_result)
    assert worse, "the tiny run on the sample is worse than a baseline in at least one regime"
    run = make_finished_run(profile, dataset, result=tiny_result)
    checks = {check.key: check for check in promotion_checks_evaluate(run=run)}
    assert list(checks) == list(CHECK_KEYS)
    assert checks["not_worse_than_baseline"].status == FAILED
    assert all(regime in checks["not_worse_than_baseline"].detail for regime in worse)
    dsr = tiny_result["trading"]["deflation"]["dsr"]  # the engine's own number, read from the stored result
    expected_dsr = (
        NOT_AVAILABLE if dsr is None else (PASSED if dsr >= settings.PROMOTION_MIN_DEFLATED_SHARPE else FAILED)
    )
    assert checks["deflated_sharpe"].status == expected_dsr
    system_worse = tiny_result["trading"]["verdict"] == "worse"
    assert checks["system_not_worse"].status == (FAILED if system_worse else PASSED)
    assert checks["pbo"].status == NOT_AVAILABLE  # not a sweep point: PBO belongs to a sweep's configurations
    with pytest.raises(PromotionRefused) as refused:
        model_promote(run=run)
    failed = {key for key, check in checks.items() if check.status == FAILED}
    assert "not_worse_than_baseline" in failed
    assert {check.key for check in refused.value.failed} == failed
    with pytest.raises(ValidationError) as error:
        model_promote(run=run, force=True, reason="  ")
    assert error.value.messages == [MSG_REASON_REQUIRED]
    assert not ActiveModel.objects.exists() and not Promotion.objects.exists()
    promotion = model_promote(run=run, force=True, reason=REASON, trigger="cli")
    assert (promotion.overridden, promotion.reason, ActiveModel.objects.get().run_id) == (True, REASON, run.pk)
    stored = {check["key"]: check for check in Promotion.objects.get().checks}
    assert stored["not_worse_than_baseline"]["status"] == "failed" and stored["not_worse_than_baseline"]["overridden"]
    assert stored["not_collapsed"]["status"] == "passed" and not stored["not_collapsed"]["overridden"]


def test_free_promotion_when_no_enforced_check_fails(settings, profile, dataset, tiny_result):
    settings.PROMOTION_ENFORCED_CHECKS = ["ensembles_trained", "not_collapsed", "pbo"]
    run = make_finished_run(profile, dataset, result=tiny_result)
    promotion = model_promote(run=run)
    assert not promotion.overridden and promotion.failed_checks == []
    stored = {check["key"]: check for check in promotion.checks}
    assert stored["not_worse_than_baseline"]["status"] == "failed" and not stored["not_worse_than_baseline"]["enforced"]
    settings.PROMOTION_ENFORCED_CHECKS = ["no_such_check"]
    with pytest.raises(ValueError, match="no_such_check"):
        promotion_checks_evaluate(run=run)


def test_promote_replaces_and_records(profile, dataset, tiny_result):
    first = make_finished_run(profile, dataset, result=tiny_result)
    second = make_finished_run(profile, dataset, result=tiny_result)
    user = make_user("promoter", can_launch=False)
    model_promote(run=first, user=user, trigger="cli", reason="first", force=True)
    promotion = model_promote(run=second, trigger="admin", reason="second", force=True)
    active = ActiveModel.objects.get()
    assert (active.run_id, active.promoted_by) == (second.pk, None)
    assert (promotion.replaced_id, promotion.trigger) == (first.pk, "admin")
    history = list(Promotion.objects.values_list("run_id", "replaced_id", "promoted_by__username", "reason"))
    assert history == [(second.pk, first.pk, None, "second"), (first.pk, None, "promoter", "first")]
    with pytest.raises(ValidationError) as error:
        model_promote(run=second, force=True, reason="again")
    assert error.value.messages == [MSG_ALREADY_ACTIVE.format(pk=second.pk, market="BINANCE:BTCUSDT 1h")]


def test_rollback_walks_back_and_clears_past_the_first_promotion(profile, dataset, tiny_result):
    first, second, third = (make_finished_run(profile, dataset, result=tiny_result) for _ in range(3))
    for run in (first, second, third):
        model_promote(run=run, force=True, reason=f"run {run.pk}")
    market = {"exchange": "BINANCE", "symbol": "btcusdt", "interval": "1h"}
    back = model_rollback(**market, reason="third misbehaves")
    assert (back.run_id, back.replaced_id, back.trigger, back.reason) == (
        second.pk,
        third.pk,
        "rollback",
        "third misbehaves",
    )
    assert ActiveModel.objects.get().run_id == second.pk
    assert model_rollback(**market).run_id == first.pk
    cleared = model_rollback(**market)
    assert (cleared.run_id, cleared.replaced_id) == (None, first.pk)
    assert not ActiveModel.objects.exists()
    assert "no active model now" in rollback_message(cleared)
    with pytest.raises(ValidationError) as error:
        model_rollback(**market)
    assert error.value.messages == [MSG_NOTHING_TO_ROLL_BACK.format(market="BINANCE:BTCUSDT 1h")]
    assert list(Promotion.objects.values_list("trigger", flat=True)) == ["rollback"] * 3 + ["web"] * 3


def test_refused_runs(profile, dataset, tiny_result):
    from training.models import TrainingRun

    failed = make_finished_run(profile, dataset, result=tiny_result, status="failed")
    no_files = make_finished_run(profile, dataset, result=tiny_result)
    TrainingRun.objects.filter(pk=no_files.pk).update(artifacts_path="")
    no_files.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        model_promote(run=failed)
    assert error.value.messages == [MSG_NOT_SUCCEEDED.format(pk=failed.pk, status="failed")]
    with pytest.raises(ValidationError) as error:
        model_promote(run=no_files)
    assert error.value.messages == [MSG_NO_ARTIFACTS.format(pk=no_files.pk)]
    assert not ActiveModel.objects.exists() and not Promotion.objects.exists()
