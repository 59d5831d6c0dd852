"""The run page's one "best" rule and its three answers, from real engine results (``smoke_result``: all five
backends; ``tiny_result``: logistic regression alone, whose one-fold calibration runs to its bound)."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from tests.training.runs_helpers import make_finished_run
from training.ml.backends import get_backend
from training.ml.backends.evidence import PENALTY_SHARE, ZERO_SHARE
from training.ml.calibration import T_BOUNDS
from training.ml.results import RunResult
from training.selectors.run_answers import baselines_answer, calibration_at_cap, problems_answer, regularization_answer
from training.selectors.run_summary import best_line, regime_tables


def trained_tables(result: RunResult) -> list[dict]:
    return [t for t in regime_tables(result) if t["status"] == "trained"]


def test_best_is_the_lowest_validation_log_loss_even_where_balanced_accuracy_disagrees(smoke_result):
    result = RunResult.from_dict(smoke_result)
    disagreements = 0
    for table in trained_tables(result):
        models = result.ensembles[table["regime"]].models
        by_loss = min(models, key=lambda k: (models[k].metrics.validation.log_loss, k))
        by_accuracy = max(models, key=lambda k: models[k].metrics.validation.balanced_accuracy)
        marked = [line["name"] for line in table["lines"] if line["best"]]
        assert marked == [by_loss], table["regime"]
        disagreements += by_loss != by_accuracy
    # the smoke result has a regime where the two rules pick different models: the page follows log loss
    assert disagreements >= 1


def test_best_line_breaks_ties_by_name_and_skips_unscored_lines(smoke_result):
    result = RunResult.from_dict(smoke_result)
    table = trained_tables(result)[0]
    models = [line for line in table["lines"] if line["kind"] == "model"]
    first = dict(models[0], validation=None)
    assert best_line([first]) is None
    tied = [dict(models[1], name="b"), dict(models[1], name="a")]
    assert best_line(tied)["name"] == "a"


def test_the_ensemble_row_says_which_member_or_combination_it_is_and_why(smoke_result):
    result = RunResult.from_dict(smoke_result)
    for table in trained_tables(result):
        ensemble = result.ensembles[table["regime"]].ensemble
        line = next(line for line in table["lines"] if line["kind"] == "ensemble")
        choice = line["choice"]
        weights = {m: w for m, w in ensemble.combiner_weights.items() if w}
        if len(weights) == 1:
            assert choice["is"] == f"{next(iter(weights))} alone"
        else:
            assert choice["is"].startswith(ensemble.combiner_label) and all(m in choice["is"] for m in weights)
        chosen = ensemble.candidates[ensemble.combiner].validation_log_loss
        assert choice["why"].startswith(f"chosen on validation log loss ({chosen:.3f})")
        best = next(line["name"] for line in table["lines"] if line["best"])
        assert bool(choice["note"]) == (ensemble.vs_best_member.member != best)


def test_a_calibration_temperature_at_its_bound_is_flagged(tiny_result):
    result = RunResult.from_dict(tiny_result)
    tables = regime_tables(result)
    problems = problems_answer(result, tables)
    at_cap = 0
    for table in trained_tables(result):
        calibration = result.ensembles[table["regime"]].ensemble.calibration
        temperature = calibration.parameter["temperature"]
        cap = calibration_at_cap(calibration)
        near = any(abs(temperature - bound) <= 1e-3 * bound for bound in T_BOUNDS)
        assert (cap is not None) == near
        flagged = [p for p in problems if p["kind"] == "calibration" and table["regime"] in p["regimes"]]
        assert len(flagged) == int(near)
        if near:
            at_cap += 1
            assert f"temperature {temperature:.3f} is at the {cap['side']}" in flagged[0]["text"]
    assert at_cap >= 1  # the tiny preset's one-fold calibration runs to the upper bound (T = 20)
    # alike in several regimes: listed once, naming them (no two entries read the same after the regimes)
    calibration = [p["text"].split(": ", 1)[1] for p in problems if p["kind"] == "calibration"]
    assert (
        len(calibration) == len(set(calibration))
        and sum(len(p["regimes"]) for p in problems if p["kind"] == "calibration") == at_cap
    )


def test_regularization_answer_reads_each_backends_generic_evidence(smoke_result):
    result = RunResult.from_dict(smoke_result)
    rows = {row["model"]: row for row in regularization_answer(result, [])}
    trained = {k for s in result.ensembles.values() if s.trained for k in s.models}
    assert set(rows) == trained
    for key, row in rows.items():
        cls = get_backend(key)
        fields = [
            cls.generic_evidence(s.models[key].evidence)
            for s in result.ensembles.values()
            if s.trained and key in s.models
        ]
        for name in (PENALTY_SHARE, ZERO_SHARE):
            values = [f[name] for f in fields if name in f]
            expected = sum(values) / len(values) if values else None
            assert row[name] == pytest.approx(expected) if expected is not None else row[name] is None
        assert row["section"] == cls.config_section


def test_baselines_answer_is_the_regime_tables_verdicts(tiny_result):
    result = RunResult.from_dict(tiny_result)
    tables = regime_tables(result)
    answer = baselines_answer(tables, None)
    assert [line["regime"] for line in answer["lines"]] == [t["regime"] for t in tables]
    for line, table in zip(answer["lines"], tables, strict=True):
        if table["status"] == "trained":
            assert line["difference"] == table["verdict"]["difference"]


@pytest.mark.django_db
def test_the_page_shows_the_cap_flag_and_the_delta_wording(launcher_client, profile, dataset, tiny_result):
    run = make_finished_run(profile, dataset, result=tiny_result)
    page = launcher_client.get(reverse("training:run_detail", args=[run.pk])).content.decode()
    problems = page.split('id="problems"', 1)[1].split("</ul>", 1)[0]
    assert 'data-kind="calibration"' in problems and "calibration temperature 20.000 is at the upper bound" in problems
    verdicts = page.split('id="verdicts"', 1)[1].split("</ul>", 1)[0]
    assert "Δ test log loss vs " in verdicts
    assert page.index('id="answer-baselines"') < page.index('id="answer-regularization"')
    assert page.index('id="answer-regularization"') < page.index('id="answer-problems"') < page.index('id="metrics"')
    rules = page.split('id="answer-rules"', 1)[1].split("</div>", 1)[0]
    assert (
        f"over the next {tiny_result['labels']['horizon']} bars" in rules
        and escape(tiny_result["labels"]["rule"]) in rules
    )
    assert escape(tiny_result["regimes"]["rule"]) in rules


@pytest.mark.django_db
def test_the_latest_sweep_of_the_profile_is_linked_per_section(launcher_client, profile, dataset, tiny_result):
    from training.services.sweeps import sweep_create

    run = make_finished_run(profile, dataset, result=tiny_result)
    url = reverse("training:run_detail", args=[run.pk])
    assert "No sweep of this profile yet" in launcher_client.get(url).content.decode()
    older = sweep_create(profile=profile, symbol=dataset.symbol, preset="tiny", axes=["l1_alpha=0.001,0.1"])
    newer = sweep_create(profile=profile, symbol=dataset.symbol, preset="tiny", axes=["sklearn.alpha=1,10"], name="C")
    page = launcher_client.get(url).content.decode()
    sweeps = page.split('id="answer-sweeps"', 1)[1].split("</p>", 1)[0]
    # the newer sweep is the latest for its section; the older one (a base parameter) is the latest for the others
    assert reverse("training:sweep_detail", args=[newer.pk]) in sweeps and "sklearn.alpha" in sweeps
    assert reverse("training:sweep_detail", args=[older.pk]) in sweeps and "l1_alpha" in sweeps
