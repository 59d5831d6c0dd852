"""The run list as a leaderboard (issue 25 item 5): the system verdict, after-cost Sharpe, mean Δ test log loss,
per-regime verdict chips and duration, sorted and filtered server-side, the filters and the sort kept in the URL
across pages; on runs whose results come from the real engine (``strength_results``, ``tiny_result``)."""

from __future__ import annotations

import re
import statistics

import pytest
from django.urls import reverse

from tests.training.runs_helpers import make_finished_run
from training.ml.results import RunResult
from training.models import TrainingRun
from training.services.runs import training_run_create
from training.templatetags.ares_ui import num
from training.views.runs import MSG_NOT_A_NUMBER

pytestmark = pytest.mark.django_db
ROW = re.compile(r'<tr data-run="(\d+)">')


def listed(client, **query) -> list[int]:
    page = client.get(reverse("training:run_list"), query)
    assert page.status_code == 200
    return [int(pk) for pk in ROW.findall(page.content.decode())]


def sharpe(run) -> float | None:
    trading = RunResult.from_dict(run.result).trading
    return trading.after_costs.stats.sharpe if trading else None


def mean_delta(run) -> float | None:
    """The mean of the ensembles' test log-loss differences to their baselines, read from the typed result."""
    parsed = RunResult.from_dict(run.result)
    deltas = [
        s.ensemble.vs_baseline.difference
        for s in parsed.ensembles.values()
        if s.trained and s.ensemble and s.ensemble.vs_baseline
    ]
    return statistics.fmean(deltas) if deltas else None


@pytest.fixture
def board(profile, dataset, strength_results, tiny_result):
    """Four runs with real results, one failed and one queued run (no evidence)."""
    runs = [make_finished_run(profile, dataset, result=r) for r in (*strength_results, tiny_result)]
    failed = make_finished_run(profile, dataset, result=tiny_result, status="failed")
    queued = training_run_create(
        profile=profile, symbol=dataset.symbol, interval=dataset.interval, preset="tiny", enqueue=False
    )
    return runs, failed, queued


def test_the_metric_columns_come_from_the_stored_result(board):
    runs, failed, queued = board
    for run in runs:
        run.refresh_from_db()
        trading = RunResult.from_dict(run.result).trading
        assert run.system_verdict == trading.verdict
        assert run.sharpe_after_costs == pytest.approx(sharpe(run))
        assert run.log_loss_delta == pytest.approx(mean_delta(run))
        assert set(run.regime_verdicts) == set(run.result["ensembles"])
    failed.refresh_from_db()
    assert failed.sharpe_after_costs is None and failed.system_verdict == ""
    assert len({r.sharpe_after_costs for r in runs}) > 1, "the real results should differ in Sharpe"


@pytest.mark.parametrize(
    "sort,key,reverse_",
    [
        ("sharpe", sharpe, True),
        ("sharpe_low", sharpe, False),
        ("log_loss", mean_delta, False),
        ("log_loss_high", mean_delta, True),
    ],
)
def test_sorting_by_a_metric_ranks_the_runs_that_have_it(launcher_client, board, sort, key, reverse_):
    runs, failed, queued = board
    having = [r for r in runs if key(r) is not None]
    assert len(having) >= 2
    # ties broken by the id in the sort's direction, as the index holds them
    expected = sorted(having, key=lambda r: (key(r), r.pk), reverse=reverse_)
    assert listed(launcher_client, sort=sort) == [r.pk for r in expected]
    assert failed.pk not in listed(launcher_client, sort=sort)
    assert set(listed(launcher_client)) == {*(r.pk for r in runs), failed.pk, queued.pk}  # newest: every run


def test_filters_on_verdict_and_minimum_sharpe(launcher_client, board):
    runs, failed, queued = board
    threshold = statistics.median(sharpe(r) for r in runs)
    above = sorted((r for r in runs if sharpe(r) >= threshold), key=lambda r: (sharpe(r), r.pk), reverse=True)
    assert listed(launcher_client, sort="sharpe", sharpe_min=f"{threshold!r}") == [r.pk for r in above]
    for verdict in {RunResult.from_dict(r.result).trading.verdict for r in runs}:
        expected = {r.pk for r in runs if RunResult.from_dict(r.result).trading.verdict == verdict}
        assert set(listed(launcher_client, verdict=verdict)) == expected
    not_better = {r.pk for r in runs if RunResult.from_dict(r.result).trading.verdict != "better"}
    assert set(listed(launcher_client, verdict="not better")) == not_better
    low = max(mean_delta(r) for r in runs)
    assert set(listed(launcher_client, log_loss_max=repr(low))) == {r.pk for r in runs}


def test_a_filter_and_a_sort_are_kept_across_pages(launcher_client, board, monkeypatch):
    monkeypatch.setattr("training.views.runs.PAGE_SIZE", 2)
    runs, failed, queued = board
    floor = min(sharpe(r) for r in runs) - 1
    query = {"sort": "sharpe", "sharpe_min": str(floor), "preset": "tiny"}
    first = launcher_client.get(reverse("training:run_list"), query).content.decode()
    older = re.search(r'<a href="\?([^"]+)">older →</a>', first).group(1).replace("&amp;", "&")
    assert "sort=sharpe" in older and f"sharpe_min={floor}" in older and "preset=tiny" in older
    second = launcher_client.get(f"{reverse('training:run_list')}?{older}").content.decode()
    tiny = [r for r in runs if r.preset == "tiny"]
    expected = [r.pk for r in sorted(tiny, key=lambda r: (sharpe(r), r.pk), reverse=True)]
    assert [int(pk) for pk in ROW.findall(first) + ROW.findall(second)] == expected[:4]
    # the column headers keep the filters and toggle the sort
    header = re.search(r'<a href="\?([^"]+)" id="sort-sharpe">', second).group(1).replace("&amp;", "&")
    assert "sort=sharpe_low" in header and "preset=tiny" in header and "page=" not in header


def test_a_threshold_that_is_not_a_number_is_reported_and_kept(launcher_client, board):
    runs, failed, queued = board
    page = launcher_client.get(reverse("training:run_list"), {"sharpe_min": "abc", "sort": "sharpe"}).content.decode()
    assert MSG_NOT_A_NUMBER.format(label="Min Sharpe", value="abc") in page
    assert 'name="sharpe_min" value="abc"' in page
    assert len(ROW.findall(page)) == len(runs)  # the filter is off, the sort still on


def test_the_row_shows_the_run_pages_numbers(launcher_client, real_run):
    """The list's Sharpe, Δ and chips of a run trained by the worker's service are the run page's."""
    from training.selectors.run_summary import run_page

    real_run.refresh_from_db()
    summary = run_page(real_run)
    record = summary["trading"]["record"]
    page = launcher_client.get(reverse("training:run_list")).content.decode()
    row = page.split(f'<tr data-run="{real_run.pk}">', 1)[1].split("</tr>", 1)[0]
    assert f'<td class="run-sharpe num">{num(record.after_costs.stats.sharpe, 2)}</td>' in row
    assert f">{record.verdict}</span>" in row.split('class="run-verdict"', 1)[1].split("</td>", 1)[0]
    detail = launcher_client.get(reverse("training:run_detail", args=[real_run.pk])).content.decode()
    assert num(record.after_costs.stats.sharpe, 2) in detail.split('id="system"', 1)[1].split("</section>", 1)[0]
    differences = []
    for regime in summary["regimes"]:
        verdict = regime["verdict"]
        shown = verdict.get("verdict", "none") if verdict["source"] == "evidence" else "none"
        if regime["status"] != "trained":
            shown = "skipped"
        assert f'data-regime="{regime["regime"]}" title="{regime["regime"]}: {shown}"' in row
        if verdict["source"] == "evidence":
            differences.append(verdict["difference"])
            assert f'data-regime="{regime["regime"]}"' in detail
    assert differences, "a real tiny run has an ensemble verdict with an interval"
    assert f'<td class="run-log-loss num">{num(statistics.fmean(differences))}</td>' in row


def test_duration_is_stored_when_the_run_ends_and_sorts(launcher_client, real_run, profile, dataset, launcher):
    from tests.training.views.real_runs import make_real_run

    second = make_real_run(profile, dataset, user=launcher)
    runs = [TrainingRun.objects.get(pk=pk) for pk in (real_run.pk, second.pk)]
    for run in runs:
        assert run.wall_seconds == pytest.approx(run.duration_seconds) and run.wall_seconds > 0
    longest = sorted(runs, key=lambda r: (r.wall_seconds, r.pk), reverse=True)
    assert listed(launcher_client, sort="duration") == [r.pk for r in longest]
    assert listed(launcher_client, sort="duration_short") == [r.pk for r in reversed(longest)]
