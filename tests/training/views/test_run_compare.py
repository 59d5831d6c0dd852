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
    assert row["cells"][0]["values"][0] == pytest.approx(values[0].validation.log_loss)
    assert row["cells"][1]["values"][1] == pytest.approx(values[1].test.log_loss)
    assert row["cells"][0]["values"][2] == pytest.approx(values[0].validation.balanced_accuracy)
    assert row["cells"][1]["values"][3] == pytest.approx(values[1].test.balanced_accuracy)
    assert row["cells"][1]["deltas"][2] == pytest.approx(
        values[1].validation.balanced_accuracy - values[0].validation.balanced_accuracy
    )
    # the winner: decided by the paired test log-loss difference on the shared bars, never without an interval
    paired = row["cells"][1]["paired"]
    assert paired["bars"] > 0 and paired["ci95_low"] <= paired["difference"] <= paired["ci95_high"]
    expected = [paired["verdict"] == "worse", paired["verdict"] == "better"]
    assert [c["winner"] for c in row["cells"]] == expected
    assert not any(c["winner"] for c in rows[(regime, "baseline: majority")]["cells"])
    assert "paired" not in rows[(regime, "baseline: majority")]["cells"][1]
    page = response.content.decode()
    assert "test balanced accuracy" in page and "test log loss" in page
    assert ("★ best" in page) == any(c["winner"] for r in rows.values() for c in r["cells"])


def test_settings_that_differ_are_listed(launcher_client, two_runs):
    first, second = two_runs
    response = launcher_client.get(reverse("training:run_compare") + f"?ids={first.pk},{second.pk}")
    keys = {row["key"]: row["values"] for row in response.context["settings_rows"]}
    assert keys["profile"] == ["baseline", "strong-l1"] and keys["config.l1_alpha"] == [0.01, 0.5]
    assert "config.l2_alpha" not in keys and "symbol" not in keys
    assert response.context["settings_mode"] == "differ"


def test_the_toggle_shows_all_settings_and_keeps_the_reference(launcher_client, two_runs):
    first, second = two_runs
    url = reverse("training:run_compare")
    response = launcher_client.get(url + f"?ids={first.pk}&ids={second.pk}&ref={second.pk}&settings=all")
    rows = {row["key"]: row for row in response.context["settings_rows"]}
    assert response.context["settings_mode"] == "all"
    assert rows["config.l2_alpha"]["differs"] is False and rows["config.l1_alpha"]["differs"] is True
    assert len(rows) == response.context["settings_total"] > len(response.context["differing"])
    page = response.content.decode()
    differ_link = f"?ids={first.pk}&amp;ids={second.pk}&amp;ref={second.pk}&amp;settings=differ"
    assert f'href="{differ_link}"' in page and "<code>config.l2_alpha</code>" in page
    unknown = launcher_client.get(url + f"?ids={first.pk},{second.pk}&settings=everything")
    assert unknown.context["settings_mode"] == "differ"
    assert "<code>config.l2_alpha</code>" not in unknown.content.decode()


def test_ref_picks_the_reference_for_deltas_and_paired_differences(launcher_client, two_runs):
    first, second = two_runs
    url = reverse("training:run_compare") + f"?ids={first.pk},{second.pk}"
    default = launcher_client.get(url).context
    picked = launcher_client.get(url + f"&ref={second.pk}").context
    assert default["reference"] == first and picked["reference"] == second
    assert [r.pk for r in picked["runs"]] == [first.pk, second.pk]  # the order stays as given
    assert "paired" in picked["system"][0] and "paired" not in picked["system"][1]
    a, b = default["system"][1]["paired"], picked["system"][0]["paired"]
    assert a["bars"] == b["bars"] > 0 and b["difference"] == pytest.approx(-a["difference"])
    row = next(r for r in picked["rows"] if r["line"] == "logreg")
    assert row["cells"][1]["deltas"][1] == 0
    assert row["cells"][0]["deltas"][1] == pytest.approx(row["cells"][0]["values"][1] - row["cells"][1]["values"][1])
    page = launcher_client.get(url + f"&ref={second.pk}").content.decode()
    assert f"Test log loss against the reference (#{second.pk})" in page
    assert f'href="?ids={first.pk}&amp;ids={second.pk}&amp;ref={first.pk}&amp;settings=differ">use as reference' in page


@pytest.mark.parametrize("ref", ["999999", "abc", "-1"])
def test_a_reference_not_compared_says_so_and_uses_the_first(launcher_client, two_runs, ref):
    from training.views.runs import MSG_COMPARE_REF_UNKNOWN

    first, second = two_runs
    response = launcher_client.get(reverse("training:run_compare") + f"?ids={first.pk},{second.pk}&ref={ref}")
    assert response.status_code == 200 and response.context["reference"] == first
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [MSG_COMPARE_REF_UNKNOWN.format(ref=ref, pk=first.pk)]


def test_each_run_shows_the_run_pages_verdicts(launcher_client, two_runs):
    from training.selectors.run_summary import regime_tables

    first, second = two_runs
    response = launcher_client.get(reverse("training:run_compare") + f"?ids={first.pk},{second.pk}")
    for column, run in zip(response.context["columns"], two_runs, strict=True):
        result = RunResult.from_dict(run.result)
        assert column["verdicts"]["system"] == result.trading.summary_line()
        assert [v["verdict"] for v in column["verdicts"]["regimes"]] == [t["verdict"] for t in regime_tables(result)]
    section = response.content.decode().split('id="compare-verdicts"', 1)[1].split("</section>", 1)[0]
    assert section.count('class="verdict-card"') == 2 and "Δ test log loss vs" in section
    pbo = response.content.decode().split('id="pbo"', 1)[1].split("</section>", 1)[0]
    assert 'id="pbo-note"' in pbo and "Each selected finished run is one configuration" in pbo


def test_learning_curves_are_split_into_train_and_validation_with_the_backends_step(two_runs):
    from training.selectors.run_compare import compare_curves

    results = [RunResult.from_dict(run.result) for run in two_runs]
    regime = next(name for name, part in results[0].ensembles.items() if part.trained)
    model = results[0].ensembles[regime].models["logreg"]
    model.history = {"train_loss": [1.0, 0.8], "val_loss": [1.1, 0.9]}
    curves = compare_curves(results, list(two_runs))
    assert curves == {
        f"{regime} · logreg": {
            "step": "epoch",
            "train": {f"#{two_runs[0].pk}": [1.0, 0.8]},
            "validation": {f"#{two_runs[0].pk}": [1.1, 0.9]},
        }
    }


def test_boosting_rounds_and_epochs_are_declared_by_the_backends():
    from training.ml.backends import get_backend

    assert get_backend("lightgbm").history_unit == "boosting round"
    assert {get_backend(k).history_unit for k in ("lstm", "transformer", "tabnet")} == {"epoch"}
