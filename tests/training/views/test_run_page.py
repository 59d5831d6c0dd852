"""The run page from a real result (the `tiny` preset trained inline): summary first, verdicts, tables, charts."""

import json
import re

import pytest
from django.urls import reverse

from training.ml.results import RunResult
from training.selectors.run_summary import PENALTY_DOMINATED_WARN, predicted_classes, regime_tables
from training.templatetags.ares_ui import delta, num

pytestmark = pytest.mark.django_db


def section(page: str, element_id: str) -> str:
    return page.split(f'id="{element_id}"', 1)[1]


def test_summary_comes_first_with_data_trained_and_a_verdict_per_regime(launcher_client, real_run):
    page = launcher_client.get(reverse("training:run_detail", args=[real_run.pk])).content.decode()
    assert (
        page.index('id="summary"') < page.index('id="metrics"') < page.index('id="plots"') < page.index('id="settings"')
    )
    result = RunResult.from_dict(real_run.result)
    data = section(page, "data-trained").split("</p>", 1)[0]
    assert f"{result.data.rows} bars of the dataset's {real_run.dataset.row_count}" in data
    assert f"({result.data.labeled_rows} labeled)" in data and "no gaps" in data
    verdicts = section(page, "verdicts").split("</ul>", 1)[0]
    for regime, part in result.ensembles.items():
        assert f'data-regime="{regime}"' in verdicts
        if not part.trained:
            assert f"skipped — {part.reason}" in verdicts
            continue
        record = part.ensemble.vs_baseline
        line = verdicts.split(f'data-regime="{regime}"', 1)[1].split("</li>", 1)[0]
        assert f"Δ test log loss vs {record.baseline} {delta(record.difference)}" in line
        assert f"[{delta(record.ci95_low)} … {delta(record.ci95_high)}]" in line
        assert "test log loss 0." not in line  # the difference is never written as if it were the loss


def test_the_regime_verdict_is_the_ensembles_bootstrap_record_against_the_best_baseline(real_run):
    result = RunResult.from_dict(real_run.result)
    trained = [t for t in regime_tables(result) if t["status"] == "trained"]
    assert trained
    for table in trained:
        record = result.ensembles[table["regime"]].ensemble.vs_baseline
        verdict = table["verdict"]
        assert verdict["source"] == "evidence" and verdict["difference"] == record.difference
        low, high = record.ci95_low, record.ci95_high
        assert verdict["verdict"] == ("better" if high < 0 else "worse" if low > 0 else "no evidence")


def test_metrics_validation_first_numbers_rounded_best_marked(launcher_client, real_run):
    page = launcher_client.get(reverse("training:run_detail", args=[real_run.pk])).content.decode()
    metrics = section(page, "metrics")
    head = metrics.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert head.index("Validation") < head.index("Test") < head.index("gap")
    assert "Train scores, fit time and best parameters" in metrics  # train collapsed
    numbers = re.findall(r"<td>(-?\d+\.\d+)</td>", metrics.split("</table>", 1)[0])
    assert numbers and all(len(n.split(".")[1]) == 3 for n in numbers)
    assert metrics.count('<span class="tag-best">best</span>') == sum(
        1 for p in real_run.result["ensembles"].values() if p["status"] == "trained"
    )
    assert metrics.count("<dt>Baseline majority</dt>") == 1  # defined once for the page


def test_a_model_predicting_one_class_or_losing_to_a_baseline_is_flagged(real_run):
    result = RunResult.from_dict(real_run.result)
    lines = [(t["regime"], line) for t in regime_tables(result) for line in t["lines"] if line["kind"] == "model"]
    assert lines
    for regime, line in lines:
        model = result.ensembles[regime].models[line["name"]]
        kinds = {f["kind"] for f in line["flags"]}
        one_class = len(predicted_classes(model.metrics.validation)) == 1
        assert ("collapsed" in kinds) == (bool(model.collapsed) or one_class)
        assert ("loses" in kinds) == (model.vs_baseline.verdict == "worse")
        assert ("overfit" in kinds) == (model.train_val_gap.accuracy > 0.15)
        share = max((v for k, v in model.evidence.to_dict().items() if k.endswith("_share_of_loss")), default=0)
        assert ("penalty" in kinds) >= (share > PENALTY_DOMINATED_WARN)


def test_confusion_matrices_are_normalized_per_actual_class_with_axis_titles(launcher_client, real_run):
    page = launcher_client.get(reverse("training:run_detail", args=[real_run.pk])).content.decode()
    plots = section(page, "plots")
    assert plots.count('<table class="confusion"') >= 1 and "actual ↓ / predicted →" in plots
    first = RunResult.from_dict(real_run.result)
    regime = next(r for r, p in first.ensembles.items() if p.trained)
    matrix = first.ensembles[regime].models["logreg"].metrics.test.confusion_matrix
    row = matrix[0]
    assert f"{num(row[0] / sum(row), 2)}<span" in plots


def test_the_charts_data_is_embedded_as_json_and_drawn_by_static_scripts(launcher_client, real_run):
    page = launcher_client.get(reverse("training:run_detail", args=[real_run.pk])).content.decode()
    payload = json.loads(page.split('<script id="run-chart-data" type="application/json">', 1)[1].split("</script>")[0])
    series = real_run.result["regime_series"]
    assert len(payload["series"]["close"]) == len(series["close"]) > 0
    trained = [r for r, p in real_run.result["ensembles"].items() if p["status"] == "trained"]
    assert sorted(payload["regimes"]) == sorted(trained)
    shares = payload["regimes"][trained[0]]["importance"]["logreg"]["shares"]
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.0001
    assert "training/vendor/chart.umd.min.js" in page and "training/js/run_charts.js" in page


def test_a_cancelled_run_is_not_shown_as_an_error(launcher_client, profile, dataset):
    from training.models import TrainingRun

    run = TrainingRun.objects.create(
        symbol="BTCUSDT", profile=profile, snapshot={}, status="cancelled", error="Cancelled during training."
    )
    page = launcher_client.get(reverse("training:run_detail", args=[run.pk])).content.decode()
    assert "<strong>Cancelled:</strong>" in page and "<strong>Error:</strong>" not in page


def test_an_active_runs_progress_is_announced_politely(launcher_client, profile, dataset):
    """The live region (role=status, aria-live=polite) that run_detail.js fills with the step, each tenth of
    progress and the status; it starts with what the server knows, and a finished run's page says nothing."""
    from training.services.runs import training_run_create

    run = training_run_create(
        profile=profile, symbol=dataset.symbol, exchange=dataset.exchange, interval=dataset.interval, enqueue=False
    )
    page = launcher_client.get(reverse("training:run_detail", args=[run.pk])).content.decode()
    region = page.split('id="run-announce"', 1)[1].split("</p>", 1)[0]
    assert 'role="status" aria-live="polite"' in region and f"Run {run.status}." in region
    assert 'id="run-elapsed"' not in region  # the seconds ticking are not announced


def test_a_finished_runs_region_is_silent(launcher_client, real_run):
    page = launcher_client.get(reverse("training:run_detail", args=[real_run.pk])).content.decode()
    region = page.split('id="run-announce"', 1)[1].split("</p>", 1)[0]
    assert region.rstrip().endswith(">")  # empty: nothing to announce
