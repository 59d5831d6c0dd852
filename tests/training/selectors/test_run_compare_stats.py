"""The compare page's paired test log-loss differences, on real runs (tiny preset) of synthetic prices: checked
against scikit-learn's log loss on the shared bars read from the runs' stored window files; a planted effect gives
"better" with an interval below 0, a martingale gives no evidence; runs with no common bars say so."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss

from tests.training.compare_runs import martingale_results, planted_results  # noqa: F401 (fixtures)
from tests.training.runs_helpers import make_finished_run
from tests.training.views.real_runs import make_real_run
from training.artifact_store import run_dir
from training.ml.bootstrap import BETTER, NO_EVIDENCE, WORSE
from training.ml.trading.window import WINDOW_FILE
from training.selectors.run_compare import compare
from training.selectors.run_compare_stats import MSG_LABELS_DIFFER, MSG_NO_SHARED

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def planted(profile, dataset, planted_results):  # noqa: F811
    return [make_finished_run(profile, dataset, result=r) for r in planted_results]


@pytest.fixture
def martingale(profile, dataset, martingale_results):  # noqa: F811
    return [make_finished_run(profile, dataset, result=r) for r in martingale_results]


def _window(run) -> pd.DataFrame:
    frame = pd.read_csv(run_dir(run) / WINDOW_FILE)
    proba = frame[["p_down", "p_flat", "p_up"]].to_numpy()
    return frame[(frame["label"] >= 0) & np.isfinite(proba).all(axis=1)].set_index("open_time")


def _every_paired(data) -> list[dict]:
    cells = [c["paired"] for row in data["rows"] for c in row["cells"] if "paired" in c]
    return cells + [s["paired"] for s in data["system"] if "paired" in s]


def test_the_difference_is_the_log_loss_difference_on_the_shared_bars_with_an_interval(planted):
    weak, strong = planted
    data = compare(run_ids=[weak.pk, strong.pk])
    paired = data["system"][1]["paired"]
    a, b = _window(strong), _window(weak)
    shared = a.index.intersection(b.index)
    assert paired["bars"] == len(shared) > 500
    assert (a.loc[shared, "label"] == b.loc[shared, "label"]).all()
    columns = ["p_down", "p_flat", "p_up"]
    expected = log_loss(a.loc[shared, "label"], a.loc[shared, columns], labels=[0, 1, 2]) - log_loss(
        b.loc[shared, "label"], b.loc[shared, columns], labels=[0, 1, 2]
    )
    assert paired["difference"] == pytest.approx(expected, rel=1e-6)
    assert np.sign(paired["difference"]) == np.sign(expected) != 0
    assert paired["ci95_low"] < paired["difference"] < paired["ci95_high"]
    assert paired["block"] == 24
    flipped = compare(run_ids=[weak.pk, strong.pk], reference_id=strong.pk)["system"][0]["paired"]
    assert flipped["difference"] == pytest.approx(-paired["difference"])
    assert flipped["ci95_low"] == pytest.approx(-paired["ci95_high"], abs=0.02)


def test_a_planted_better_run_is_better_only_with_an_interval_below_zero(planted):
    weak, strong = planted
    data = compare(run_ids=[weak.pk, strong.pk])
    system = data["system"][1]["paired"]
    assert system["verdict"] == BETTER and system["ci95_high"] < 0
    assert compare(run_ids=[weak.pk, strong.pk], reference_id=strong.pk)["system"][0]["paired"]["verdict"] == WORSE
    rows = {(r["regime"], r["line"]): r for r in data["rows"]}
    logreg = [row for (regime, line), row in rows.items() if line == "logreg"]
    assert logreg and all(row["cells"][1]["winner"] and not row["cells"][0]["winner"] for row in logreg)
    for paired in _every_paired(data):
        assert (paired["verdict"] == BETTER) == (paired["ci95_high"] < 0)
        assert (paired["verdict"] == WORSE) == (paired["ci95_low"] > 0)


def test_a_martingale_gives_no_evidence_and_no_winner_without_an_interval(martingale):
    data = compare(run_ids=[run.pk for run in martingale])
    system = data["system"][1]["paired"]
    assert system["verdict"] == NO_EVIDENCE and system["ci95_low"] < 0 < system["ci95_high"]
    for row in data["rows"]:
        for cell in row["cells"]:
            paired = cell.get("paired")
            if cell["winner"]:  # a winner beats every other run of its row with an interval below 0
                others = compare(run_ids=[run.pk for run in martingale], reference_id=cell["run"].pk)
                line = next(r for r in others["rows"] if (r["regime"], r["line"]) == (row["regime"], row["line"]))
                assert all(c["paired"]["verdict"] == WORSE for c in line["cells"] if "paired" in c)
            if paired and "verdict" in paired:
                assert (paired["verdict"] == BETTER) == (paired["ci95_high"] < 0)


@pytest.mark.usefixtures("transactional_db")
def test_runs_without_common_bars_say_so(profile, dataset, launcher, planted):
    elsewhere = make_real_run(profile, dataset, user=launcher)  # its test bars end before the planted series'
    data = compare(run_ids=[planted[0].pk, elsewhere.pk])
    assert data["system"][1]["paired"] == {"bars": 0, "error": MSG_NO_SHARED}
    assert all(c["paired"]["error"] == MSG_NO_SHARED for r in data["rows"] for c in r["cells"] if "paired" in c)
    assert not any(c["winner"] for r in data["rows"] for c in r["cells"])


def test_runs_on_other_prices_at_the_same_times_are_not_compared(planted, martingale):
    data = compare(run_ids=[planted[0].pk, martingale[0].pk])
    paired = data["system"][1]["paired"]
    a, b = _window(planted[0]), _window(martingale[0])
    shared = a.index.intersection(b.index)
    differ = int((a.loc[shared, "label"] != b.loc[shared, "label"]).sum())
    assert differ > 0 and paired == {
        "bars": len(shared),
        "error": MSG_LABELS_DIFFER.format(n=differ, shared=len(shared)),
    }
    assert "verdict" not in paired and not any(c["winner"] for r in data["rows"] for c in r["cells"])


def test_a_run_whose_predictions_are_gone_is_not_paired_and_no_row_has_a_winner(planted, tmp_path):
    import shutil

    from training.models import TrainingRun
    from training.selectors.run_compare_stats import MSG_NO_PREDICTIONS

    weak, strong = planted
    moved = tmp_path / "moved"
    shutil.copytree(run_dir(weak), moved)
    (moved / WINDOW_FILE).unlink()  # the run's stored test window is gone
    TrainingRun.objects.filter(pk=weak.pk).update(artifacts_path=str(moved))
    data = compare(run_ids=[strong.pk, weak.pk])
    assert data["system"][1]["paired"] == {"bars": 0, "error": MSG_NO_PREDICTIONS}
    logreg = [r for r in data["rows"] if r["line"] == "logreg"]
    assert logreg and all(r["cells"][1]["paired"]["error"] == MSG_NO_PREDICTIONS for r in logreg)
    assert not any(c["winner"] for r in data["rows"] for c in r["cells"])  # the planted winner is not crowned


def test_a_window_file_from_before_the_bar_column_compares_the_same(planted, tmp_path):
    """Runs stored before the window files had their ``bar`` column read their bars from the stored predictions."""
    import shutil

    from training.models import TrainingRun

    weak, strong = planted
    now = compare(run_ids=[strong.pk, weak.pk])
    for run in planted:
        older = tmp_path / f"older-{run.pk}"
        shutil.copytree(run_dir(run), older)
        frame = pd.read_csv(older / WINDOW_FILE)
        assert frame["bar"].is_monotonic_increasing and frame["bar"].is_unique
        frame.drop(columns="bar").to_csv(older / WINDOW_FILE, index=False, float_format="%.8g")
        TrainingRun.objects.filter(pk=run.pk).update(artifacts_path=str(older))
    assert compare(run_ids=[strong.pk, weak.pk])["system"] == now["system"]
