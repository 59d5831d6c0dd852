from django.template.loader import render_to_string
from django.utils.html import escape

from tests.training.ml.combiner_data import synthetic_ensemble_record
from training.selectors.runs import combination_summary


def test_combination_summary_of_a_real_ensemble_record_renders_next_to_the_baselines():
    ensemble = synthetic_ensemble_record().to_dict()
    summary = combination_summary(ensemble)
    assert summary["combiner"] == ensemble["combiner"]
    assert [c["name"] for c in summary["candidates"] if c["chosen"]] == [ensemble["combiner"]]
    assert summary["vs_best_member"] == ensemble["vs_best_member"]
    html = render_to_string("training/_ensemble_choice.html", {"regime": {"regime": "bull_trend"}, "c": summary})
    vs = ensemble["vs_best_member"]
    assert f"best member ({vs['member']})" in html and f"<strong>{vs['verdict']}</strong>" in html
    assert f"{ensemble['combiner']} (chosen)" in html
    assert "test ECE" in html and "reliability_bull_trend.png" in html
    assert escape(ensemble["calibration"]["check"]["reason"]) in html


def test_results_from_before_the_combiner_choice_show_no_summary():
    assert combination_summary({"metrics": {}, "meta_learner": {"C": 100}}) is None
    assert combination_summary(None) is None
