"""Compare from real results (two `tiny` runs trained inline with different profiles)."""

import pytest
from django.urls import reverse

from tests.training.runs_helpers import make_profile
from tests.training.views.real_runs import make_real_run
from training.ml.results import RunResult

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_runs(transactional_db, profile, dataset, launcher):
    first = make_real_run(profile, dataset, user=launcher)
    second = make_real_run(make_profile("strong-l1", l1_alpha=0.5), dataset, user=launcher)
    return first, second


@pytest.mark.parametrize("query", ["?ids={a},{b}", "?ids={a}&ids={b}", "?ids={a}%2C{b}&ids={a}"])
def test_both_id_forms_compare_the_runs_in_the_order_given(launcher_client, two_runs, query):
    first, second = two_runs
    response = launcher_client.get(reverse("training:run_compare") + query.format(a=second.pk, b=first.pk))
    assert response.status_code == 200
    assert [r.pk for r in response.context["runs"]] == [second.pk, first.pk]


def test_rows_hold_ensemble_models_and_baselines_with_deltas_and_one_winner(launcher_client, two_runs):
    first, second = two_runs
    response = launcher_client.get(reverse("training:run_compare") + f"?ids={first.pk},{second.pk}")
    rows = {(r["regime"], r["line"]): r for r in response.context["rows"]}
    results = [RunResult.from_dict(run.result) for run in two_runs]
    regime = next(name for name, part in results[0].ensembles.items() if part.trained)
    assert {(regime, "ensemble"), (regime, "logreg"), (regime, "baseline: majority")} <= set(rows)
    row = rows[(regime, "logreg")]
    values = [results[i].ensembles[regime].models["logreg"].metrics for i in range(2)]
    assert row["cells"][0]["values"][0] == pytest.approx(values[0].validation.balanced_accuracy)
    assert row["cells"][1]["values"][2] == pytest.approx(values[1].test.balanced_accuracy)
    assert row["cells"][1]["deltas"][0] == pytest.approx(
        values[1].validation.balanced_accuracy - values[0].validation.balanced_accuracy
    )
    a, b = (v.validation.balanced_accuracy for v in values)
    assert [c["winner"] for c in row["cells"]] == ([a > b, b > a] if a != b else [False, False])
    assert not any(c["winner"] for c in rows[(regime, "baseline: majority")]["cells"])
    page = response.content.decode()
    assert "test balanced accuracy" in page
    assert ("★ best" in page) == any(c["winner"] for r in rows.values() for c in r["cells"])


def test_settings_that_differ_are_listed(launcher_client, two_runs):
    first, second = two_runs
    response = launcher_client.get(reverse("training:run_compare") + f"?ids={first.pk},{second.pk}")
    keys = {row["key"]: row["values"] for row in response.context["differing"]}
    assert keys["profile"] == ["baseline", "strong-l1"] and keys["config.l1_alpha"] == [0.01, 0.5]
    assert "config.l2_alpha" not in keys and "symbol" not in keys


def test_learning_curves_are_overlaid_per_model(two_runs):
    from training.selectors.run_compare import compare_curves

    results = [RunResult.from_dict(run.result) for run in two_runs]
    regime = next(name for name, part in results[0].ensembles.items() if part.trained)
    model = results[0].ensembles[regime].models["logreg"]
    model.history = {"train_loss": [1.0, 0.8], "val_loss": [1.1, 0.9]}
    curves = compare_curves(results, list(two_runs))
    assert curves == {f"{regime} · logreg": {f"#{two_runs[0].pk}": [1.1, 0.9]}}
