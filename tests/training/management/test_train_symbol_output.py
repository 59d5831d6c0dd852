"""train_symbol's first and last lines: no repeated status, the verdict per regime, the run's URL."""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.training.runs_helpers import make_dataset, make_profile
from training.management.commands.train_symbol import Command
from training.ml.results import RunResult
from training.models import TrainingRun


@pytest.mark.django_db(transaction=True)
def test_inline_run_ends_with_verdict_lines_the_run_url_and_the_system_line(fast_monitor, settings):
    settings.SITE_URL = "https://ares.example.org/"
    make_profile("baseline", is_default=True)
    make_dataset()
    out = StringIO()
    call_command("train_symbol", "BTCUSDT", "--preset", "tiny", "--inline", "--poll", "0.1", stdout=out)
    run = TrainingRun.objects.get()
    lines = out.getvalue().splitlines()
    assert lines[0] == f"run {run.pk}"
    assert lines[-2].startswith(f"run {run.pk} succeeded in ") and lines[-2].endswith(
        f": https://ares.example.org/runs/{run.pk}/"
    )
    result = RunResult.from_dict(run.result)
    trading = result.trading
    assert lines[-1] == trading.summary_line()
    assert lines[-1].startswith(f"system: Sharpe after 10 bps {trading.after_costs.stats.sharpe:+.2f} [")
    assert f"(N={trading.deflation.n_trials})" in lines[-1] and lines[-1].endswith(trading.verdict)
    assert run.snapshot["trading"] == {
        "cost_bps": 10.0,
        "allow_short": True,
        "hold": "horizon",
        "theta_grid": [0.0, 0.05, 0.1, 0.15, 0.2, 0.3],
    }
    verdicts = lines[-2 - len(result.ensembles) : -2]
    assert [v.split(":")[0].strip() for v in verdicts] == list(result.ensembles)
    for line, part in zip(verdicts, result.ensembles.values(), strict=True):
        if part.trained:
            record = part.ensemble.vs_baseline
            assert f"ensemble vs the best baseline ({record.baseline}): {record.verdict}, test log loss" in line
            assert f"{record.difference:+.3f} (95% interval {record.ci95_low:+.3f}" in line
        else:
            assert "skipped — " in line


def test_the_progress_line_never_repeats_the_status():
    queued = TrainingRun(status="queued", stage="queued", progress=0.0)
    assert Command._bar(queued).endswith("  0.0% queued — waiting for a worker")
    running = TrainingRun(status="running", stage="training: bull_trend: logreg fold 1/1 fitted", progress=0.5)
    assert Command._bar(running).endswith(" 50.0% running — training: bull_trend: logreg fold 1/1 fitted")
