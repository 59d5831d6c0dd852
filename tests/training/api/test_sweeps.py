"""/api/sweeps/<id>/ and /api/sweeps/<id>/save-profile/: payload and permissions (the runs API's)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from training.api.views.sweeps import MSG_NO_SWEEP
from training.models import RegularizationProfile, Sweep, SweepPoint, TrainingRun
from training.services.sweeps import MSG_NO_BEST, sweep_create, sweep_run_finished

pytestmark = pytest.mark.django_db
PAYLOAD_KEYS = {"status", "runs", "points", "best", "objective"}


@pytest.fixture
def grid_sweep(profile, dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return sweep_create(
            profile=profile, symbol="BTCUSDT", preset="smoke", axes=["l1_alpha=0.001,0.1", "dropout_rate=0,0.5"]
        )


def finish(point: SweepPoint, objective: float) -> None:
    """The state a finished point leaves in the database (its run succeeded, its objective recorded, then the
    run-finish path reconciled the sweep: reads write nothing)."""
    TrainingRun.objects.filter(pk=point.run_id).update(status=TrainingRun.Status.SUCCEEDED)
    SweepPoint.objects.filter(pk=point.pk).update(recorded=True, objective=objective)
    sweep_run_finished(run_id=point.run_id)


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 200), ("full", 200)])
def test_the_detail_needs_the_runs_view_permission(clients, grid_sweep, who, expected):
    response = clients[who].get(reverse("api:sweep-detail", args=[grid_sweep.pk]))
    assert response.status_code == expected, response.content
    assert response["Content-Type"] == "application/json"


def test_the_detail_gives_status_runs_points_best_and_the_objective(full_api, grid_sweep):
    body = full_api.get(reverse("api:sweep-detail", args=[grid_sweep.pk])).json()
    assert PAYLOAD_KEYS <= set(body) and body["status"] == "queued"
    points = list(grid_sweep.points.order_by("index"))
    assert body["runs"] == [p.run_id for p in points]
    assert [p["values"] for p in body["points"]] == [p.values for p in points]
    assert body["points"][0] == {
        "index": 0,
        "values": {"l1_alpha": 0.001, "dropout_rate": 0.0},
        "repeat": 0,
        "run": points[0].run_id,
        "status": "queued",
        "objective": None,
        "backends": {},
    }
    assert body["best"] is None and body["objective"]["lower_is_better"] is True
    assert "validation log loss" in body["objective"]["description"]

    finish(points[1], 1.02)
    finish(points[2], 0.98)
    body = full_api.get(reverse("api:sweep-detail", args=[grid_sweep.pk])).json()
    assert body["best"] == points[2].values and body["best_objective"] == 0.98 and body["best_run"] == points[2].run_id
    assert body["status"] == "running" and "2 of 4 point(s) finished" == body["detail"]


def test_an_unknown_sweep_is_a_json_404(full_api):
    response = full_api.get(reverse("api:sweep-detail", args=[999]))
    assert response.status_code == 404 and response.json() == {"detail": MSG_NO_SWEEP.format(pk=999)}


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 403), ("full", 201)])
def test_save_profile_needs_the_add_profile_permission_and_answers_the_new_id(clients, grid_sweep, who, expected):
    finish(grid_sweep.points.get(index=3), 0.9)
    response = clients[who].post(
        reverse("api:sweep-save-profile", args=[grid_sweep.pk]), {"name": "api best"}, format="json"
    )
    assert response.status_code == expected, response.content
    if expected == 201:
        saved = RegularizationProfile.objects.get(name="api best")
        assert response.json() == {"id": saved.pk, "name": "api best"}
        assert (saved.l1_alpha, saved.dropout_rate) == (0.1, 0.5) and f"sweep #{grid_sweep.pk}" in saved.description


def test_save_profile_refuses_without_a_best_point_or_a_name(full_api, grid_sweep):
    url = reverse("api:sweep-save-profile", args=[grid_sweep.pk])
    response = full_api.post(url, {"name": "too early"}, format="json")
    assert response.status_code == 400 and response.json() == {
        "non_field_errors": [MSG_NO_BEST.format(pk=grid_sweep.pk)]
    }
    finish(grid_sweep.points.get(index=0), 1.0)
    assert full_api.post(url, {}, format="json").status_code == 400
    response = full_api.post(url, {"name": grid_sweep.profile.name}, format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_the_api_launch_refuses_a_shadowed_axis_naming_the_overrides_and_takes_seeds(
    clients, dataset, django_capture_on_commit_callbacks
):
    from tests.training.runs_helpers import make_profile
    from training.ml.default_profile import default_override_fields
    from training.services.sweep_reach import MSG_AXIS_REACHES_NOTHING

    shadowing = make_profile("default-like", **default_override_fields())
    body = {"symbol": "BTCUSDT", "preset": "tiny", "profile": shadowing.pk, "axes": ["l1_alpha=0.001,0.1"]}
    assert clients["viewer"].post(reverse("api:sweep-list"), body, format="json").status_code == 403
    response = clients["full"].post(reverse("api:sweep-list"), body, format="json")
    assert response.status_code == 400
    (message,) = response.json()["non_field_errors"]
    assert message.startswith(MSG_AXIS_REACHES_NOTHING.split(":")[0].format(param="l1_alpha"))
    assert "sklearn_alpha" in message and "Sweep sklearn.alpha instead." in message
    with django_capture_on_commit_callbacks(execute=False):
        response = clients["full"].post(
            reverse("api:sweep-list"), {**body, "axes": ["sklearn.alpha=1,10"], "seeds": 2}, format="json"
        )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["seeds"] == 2 and [p["repeat"] for p in created["points"]] == [0, 1, 0, 1]
    assert created["objective"]["model"] == "logreg" and created["axes"][0]["reaches"] == ["logreg"]
    assert created["best_vs_runner_up"] is None and created["best_vs_least_regularized"] is None
    assert Sweep.objects.get().points.count() == 4


def test_the_api_launch_takes_a_held_setting_and_the_detail_carries_it(
    clients, dataset, django_capture_on_commit_callbacks
):
    from tests.training.runs_helpers import make_profile
    from training.services.sweep_holds import MSG_HOLD_VALUE

    profile = make_profile("plain")
    body = {"symbol": "BTCUSDT", "preset": "smoke", "profile": profile.pk}
    bad = {**body, "axes": ["lightgbm.reg_lambda=0.1,1", "lightgbm.early_stopping=no"]}
    response = clients["full"].post(reverse("api:sweep-list"), bad, format="json")
    assert response.status_code == 400 and response.json()["non_field_errors"] == [
        MSG_HOLD_VALUE.format(
            text="lightgbm.early_stopping=no", setting="lightgbm.early_stopping", words="off", value="no"
        )
    ]
    with django_capture_on_commit_callbacks(execute=False):
        response = clients["full"].post(
            reverse("api:sweep-list"),
            {**body, "axes": ["lightgbm.reg_lambda=0.1,1", "lightgbm.early_stopping=off"]},
            format="json",
        )
    assert response.status_code == 201, response.content
    created = response.json()
    assert [h["text"] for h in created["holds"]] == ["lightgbm.early_stopping=off"] and created["mechanism"] == []
    assert [a["param"] for a in created["axes"]] == ["lightgbm.reg_lambda"] and len(created["points"]) == 2
    detail = clients["viewer"].get(reverse("api:sweep-detail", args=[created["id"]])).json()
    assert detail["holds"] == created["holds"]
    runs = TrainingRun.objects.filter(sweep_id=created["id"])
    assert all(r.snapshot["preset_overrides"] == {"models": {"lightgbm": {"early_stopping": False}}} for r in runs)
