"""Migration 0022_i25b fills the leaderboard's columns of runs stored before them from their stored result (a
real engine result), by the function the service calls; a run without a result gets only its wall time."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps

from tests.training.runs_helpers import make_finished_run
from training.ml.results import RunResult
from training.models import TrainingRun

pytestmark = pytest.mark.django_db
fill = importlib.import_module("training.migrations.0022_i25b_leaderboard_fill").fill


def test_the_fill_reads_a_real_stored_result(profile, dataset, tiny_result):
    run = make_finished_run(profile, dataset, result=tiny_result)
    failed = make_finished_run(profile, dataset, result=tiny_result, status="failed")
    started = run.started_at - timedelta(seconds=90)
    blank = {"system_verdict": "", "sharpe_after_costs": None, "log_loss_delta": None, "regime_verdicts": {}}
    TrainingRun.objects.filter(pk__in=[run.pk, failed.pk]).update(**blank, wall_seconds=None, started_at=started)
    fill(apps, None)
    run.refresh_from_db()
    failed.refresh_from_db()
    trading = RunResult.from_dict(tiny_result).trading
    assert run.system_verdict == trading.verdict
    assert run.sharpe_after_costs == pytest.approx(trading.after_costs.stats.sharpe)
    differences = [
        s["ensemble"]["vs_baseline"]["difference"]
        for s in tiny_result["ensembles"].values()
        if s.get("ensemble") and s["ensemble"].get("vs_baseline")
    ]
    assert run.log_loss_delta == pytest.approx(sum(differences) / len(differences))
    assert run.regime_verdicts == {
        name: (s["ensemble"]["vs_baseline"]["verdict"] if s.get("ensemble") else "skipped")
        for name, s in tiny_result["ensembles"].items()
    }
    assert run.wall_seconds == pytest.approx((run.finished_at - started).total_seconds())
    assert failed.sharpe_after_costs is None and failed.system_verdict == "" and failed.wall_seconds > 0
