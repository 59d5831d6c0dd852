"""Sweep evidence from real tiny runs: per-backend curves with intervals and seed spread, the best with its
paired differences, "no evidence" on identical points."""

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests.training.runs_helpers import execute_inline, make_dataset, make_profile
from training.ml.bootstrap import NO_EVIDENCE
from training.models import RegularizationProfile
from training.selectors.sweep_evidence import MSG_NO_EVIDENCE, MSG_TEST_LABEL, sweep_evidence
from training.selectors.sweeps import sweep_points
from training.services.sweeps import sweep_create, sweep_reconcile
from training.views.sweeps import MSG_CONFIRM_NO_EVIDENCE

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def trained_sweep(axes, **kwargs):
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    sweep = sweep_create(profile=profile, symbol="BTCUSDT", preset="tiny", axes=axes, **kwargs)
    for point in sweep_points(sweep=sweep):
        assert execute_inline(point.run_id).status == "succeeded"
    return sweep_reconcile(sweep=sweep)


def test_a_two_seed_two_point_sweep_stores_per_backend_curves_with_intervals_and_seed_spread(test_broker):
    sweep = trained_sweep(["sklearn.alpha=0.1,30"], seeds=2)
    points = sweep_points(sweep=sweep)
    assert [(p.values["sklearn.alpha"], p.repeat, p.run.seed) for p in points] == [
        (0.1, 0, sweep.seed),
        (0.1, 1, sweep.seed + 1),
        (30.0, 0, sweep.seed),
        (30.0, 1, sweep.seed + 1),
    ]
    assert sweep.objective_model == "logreg"  # the one model the axis reaches
    evidence = sweep_evidence(sweep=sweep, points=points)
    assert [len(g["points"]) for g in evidence["groups"]] == [2, 2]
    for group in evidence["groups"]:
        assert group["objective"] == pytest.approx(sum(p.objective for p in group["points"]) / 2)
        for regime, models in group["curves"].items():
            curve = models["logreg"]
            low, high = curve["band"]
            assert low < curve["validation_log_loss"] < high and curve["seeds"] == 2
            per_seed = [
                p.summary["regimes"][regime]["models"]["logreg"]["validation_log_loss"] for p in group["points"]
            ]
            assert curve["validation_log_loss"] == pytest.approx(sum(per_seed) / 2)
            assert curve["seed_spread"] == pytest.approx(abs(per_seed[0] - per_seed[1]) / 2**0.5)
            assert curve["gap"] is not None and "zero_coefficient_share" in curve["effect"]
    best = evidence["best"]
    assert sweep.best_point == best["point"]
    comparison = evidence["best_vs_runner_up"]
    assert (
        comparison["ci95_low"] <= comparison["difference"] <= comparison["ci95_high"] and comparison["difference"] <= 0
    )
    assert evidence["best_vs_least_regularized"] is None or evidence["best_vs_least_regularized"]["rows"] > 0
    test = evidence["test_best_vs_least_regularized"]
    assert test is None or test["label"] == MSG_TEST_LABEL


def test_best_vs_runner_up_reports_no_evidence_on_a_sweep_of_identical_points(test_broker, client):
    sweep = trained_sweep(["sklearn.alpha=3000,10000"])  # both crush every coefficient: the same model twice
    evidence = sweep_evidence(sweep=sweep, points=sweep_points(sweep=sweep))
    assert evidence["best_vs_runner_up"]["verdict"] == NO_EVIDENCE
    assert evidence["no_evidence"] and evidence["verdict"] == MSG_NO_EVIDENCE

    client.force_login(User.objects.create_superuser("admin", "a@example.com", "pw"))
    page = client.get(reverse("training:sweep_detail", args=[sweep.pk])).content.decode()
    assert MSG_NO_EVIDENCE.capitalize() in page and 'name="confirm_no_evidence"' in page
    charts = json.loads(page.split('id="sweep-curve-data" type="application/json">')[1].split("</script>")[0])
    drawn = [p for chart in charts for p in chart["series"]["logreg"]]
    assert drawn and all(p["low"] <= p["y"] <= p["high"] for p in drawn)
    url = reverse("training:sweep_save_profile", args=[sweep.pk])
    response = client.post(url, {"name": "unproven"}, follow=True)
    assert MSG_CONFIRM_NO_EVIDENCE in response.content.decode()
    assert not RegularizationProfile.objects.filter(name="unproven").exists()
    client.post(url, {"name": "unproven", "confirm_no_evidence": "1"})
    assert RegularizationProfile.objects.filter(name="unproven").exists()

    # the advisor on a collapsed run: weaker, with a pre-filled sweep around alpha 3000 (run page and API)
    run = sweep_points(sweep=sweep)[0].run
    advice = client.get(reverse("api:run-detail", args=[run.pk])).json()["advice"]
    weaker = [a for a in advice if a["model"] == "logreg" and a["rule"] == "weaker"]
    assert weaker and {a["sweep_axis"] for a in weaker} == {"sklearn.alpha=300:30000:5"}
    page = client.get(reverse("training:run_detail", args=[run.pk])).content.decode()
    assert 'data-rule="logreg:weaker"' in page and "sweep around this" in page
    form = client.get(weaker[0]["sweep_url"]).content.decode()
    assert "sklearn.alpha=300:30000:5</textarea>" in form


def test_the_sweep_says_where_early_stopping_does_the_regularizing_from_the_points_recorded_best_iteration(
    smoke_result, django_capture_on_commit_callbacks
):
    """Points whose runs carry a real smoke result (all five backends): a mechanism line for each swept model (the
    ones the axis reaches) whose own mechanism rule fires in some regime fit (LightGBM's best iteration, the Keras models' best epoch), with the
    range and count read from what the points recorded, and the hold that would show the penalties alone."""
    from training.ml.backends import get_backend
    from training.models import TrainingRun
    from training.selectors.sweep_evidence import MSG_EARLY_STOPPING_AT_WORK, MSG_HOLD_INSTEAD, sweep_mechanism

    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    with django_capture_on_commit_callbacks(execute=False):
        sweep = sweep_create(profile=profile, symbol="BTCUSDT", preset="smoke", axes=["l2_alpha=0.1,1"])
    assert set(sweep.axes[0]["reaches"]) == {"lightgbm", "lstm", "transformer", "tabnet"}
    TrainingRun.objects.filter(sweep=sweep).update(status=TrainingRun.Status.SUCCEEDED, result=smoke_result)
    sweep = sweep_reconcile(sweep=sweep)
    points = sweep_points(sweep=sweep)
    assert all(p.recorded for p in points)
    lines = sweep_mechanism(sweep=sweep, points=points)
    expected = []
    for key in sweep.axes[0]["reaches"]:  # logreg (not reached by l2_alpha) is not described
        fits = [
            info["models"][key]["effect"]
            for p in points
            for info in p.summary["regimes"].values()
            if key in info.get("models", {})
        ]
        cls = get_backend(key)
        for rule in (r for r in cls.advice if r.direction == "mechanism"):
            fired = [e for e in fits if rule.fires(e)]
            if fired:
                fact = rule.when[-1].fact
                expected.append(
                    MSG_EARLY_STOPPING_AT_WORK.format(
                        model=key,
                        fact=fact,
                        low=min(e[fact] for e in fired),
                        high=max(e[fact] for e in fired),
                        fired=len(fired),
                        fits=len(fits),
                        rule=f"{fact} {rule.when[-1].op} {rule.when[-1].value:g}",
                        instead=MSG_HOLD_INSTEAD.format(section=cls.config_section),
                    )
                )
    assert sorted(lines) == sorted(expected)
    lightgbm = [e["best_iteration"] for p in points for e in [p.summary["backends"]["lightgbm"]["effect"]]]
    assert all(isinstance(v, float) for v in lightgbm)  # every point recorded the best iteration
    # nothing recorded: nothing said. The points are unmarked in memory: a reconciler pass of the session worker
    # (it shares this committed database) would record them again between an UPDATE and the read
    for point in points:
        point.recorded = False
    assert sweep_mechanism(sweep=sweep, points=points) == []
