"""/api/runs/: list, filters, pages, detail (today's keys), launch, cancel, re-run, artifacts; permissions."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse

from ares_site.embedded_redis import free_port
from tests.conftest import celery_app_using
from tests.training.runs_helpers import make_finished_run
from training.api.views.runs import MSG_NO_RUN
from training.ml.presets import PRESETS
from training.models import TrainingRun
from training.services.runs import MSG_BROKER_UNREACHABLE, MSG_NOT_CANCELLABLE, MSG_UNKNOWN_PRESET, training_run_create

pytestmark = pytest.mark.django_db

DETAIL_KEYS = {"status", "progress", "snapshot", "report", "metrics", "error"}


@pytest.fixture
def finished_tiny(profile, dataset, tiny_result):
    return make_finished_run(profile, dataset, result=tiny_result)


def queued_run(profile, dataset, **kwargs):
    return training_run_create(
        profile=profile, symbol=dataset.symbol, interval=dataset.interval, preset="smoke", enqueue=False, **kwargs
    )


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 200), ("full", 200)])
def test_list_and_detail_need_the_view_permission(clients, finished_tiny, who, expected):
    for url in (reverse("api:run-list"), reverse("api:run-detail", args=[finished_tiny.pk])):
        response = clients[who].get(url)
        assert response.status_code == expected, (url, response.content)
        assert response["Content-Type"] == "application/json"
    if expected == 401:
        assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 403), ("full", 201)])
def test_launch_needs_the_add_permission(clients, profile, dataset, who, expected):
    response = clients[who].post(
        reverse("api:run-list"), {"symbol": "btcusdt", "preset": "smoke", "profile": profile.pk}, format="json"
    )
    assert response.status_code == expected, response.content
    if expected == 201:
        body = response.json()
        run = TrainingRun.objects.get(pk=body["id"])
        assert (run.symbol, run.trigger, run.status) == ("BTCUSDT", "api", "queued")
        assert body["trigger"] == "api" and DETAIL_KEYS <= set(body)


def test_launch_refused_answers_400_with_every_message(full_api, profile, dataset):
    response = full_api.post(reverse("api:run-list"), {"symbol": "BTCUSDT", "preset": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [MSG_UNKNOWN_PRESET.format(name="nope", known=", ".join(PRESETS))]}
    response = full_api.post(reverse("api:run-list"), {"preset": "smoke", "profile": 999}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"symbol", "profile"}


def test_detail_keeps_todays_keys_and_adds_trigger(viewer_api, finished_tiny):
    body = viewer_api.get(reverse("api:run-detail", args=[finished_tiny.pk])).json()
    assert DETAIL_KEYS <= set(body)
    assert body["status"] == "succeeded" and body["trigger"] == "web" and body["error"] is None
    assert body["progress"]["fraction"] == 1.0
    stored = finished_tiny.result["ensembles"]
    expected = {(regime, model) for regime, section in stored.items() for model in section["models"]}
    assert expected and {(m["regime"], m["model"]) for m in body["metrics"]} == expected
    assert body["artifacts_url"] == reverse("api:run-artifacts", args=[finished_tiny.pk])


def test_detail_gives_the_typed_result_and_report_as_stored(viewer_api, finished_tiny):
    """The answer's ``result`` and ``report`` are the stored records read through their types and written back."""
    body = viewer_api.get(reverse("api:run-detail", args=[finished_tiny.pk])).json()
    assert body["result"] == json.loads(json.dumps(finished_tiny.result))
    assert body["report"] == {"measured_warnings": None, **finished_tiny.report}  # null: not stored with the run
    assert set(body["report"]) == {"ok", "status", "errors", "warnings", "base", "backends", "measured_warnings"}


def test_the_run_page_name_resolves_to_the_drf_endpoint(viewer_api, finished_tiny):
    url = reverse("api:run-detail", args=[finished_tiny.pk])
    assert url == reverse("api:run-detail", args=[finished_tiny.pk]) == f"/api/runs/{finished_tiny.pk}/"
    assert viewer_api.get(url).json()["id"] == finished_tiny.pk


def test_unknown_run_and_unknown_path_are_json_404(full_api):
    response = full_api.get(reverse("api:run-detail", args=[987654]))
    assert response.status_code == 404 and response.json() == {"detail": MSG_NO_RUN.format(pk=987654)}
    response = full_api.get("/api/no-such-thing/")
    assert response.status_code == 404 and "no-such-thing" in response.json()["detail"]


def test_list_filters_and_pages(viewer_api, profile, dataset):
    other = queued_run(profile, dataset, trigger=TrainingRun.Trigger.CLI)
    runs = [queued_run(profile, dataset) for _ in range(3)]
    TrainingRun.objects.filter(pk=runs[0].pk).update(status="failed")
    url = reverse("api:run-list")
    body = viewer_api.get(url, {"page_size": 2}).json()
    assert body["count"] == 4 and len(body["results"]) == 2 and body["next"]
    assert [r["id"] for r in body["results"]] == [runs[2].pk, runs[1].pk]
    assert [r["id"] for r in viewer_api.get(url, {"trigger": "cli"}).json()["results"]] == [other.pk]
    assert [r["id"] for r in viewer_api.get(url, {"status": "failed"}).json()["results"]] == [runs[0].pk]
    assert viewer_api.get(url, {"symbol": "btcusdt", "profile": profile.pk}).json()["count"] == 4
    assert viewer_api.get(url, {"symbol": "ETHUSDT"}).json()["count"] == 0
    response = viewer_api.get(url, {"status": "bogus"})
    assert response.status_code == 400 and "status" in response.json()


def test_a_list_longer_than_the_count_cap_pages_without_a_count(viewer_api, profile, dataset, monkeypatch):
    from training.api.pagination import Pagination

    runs = [queued_run(profile, dataset) for _ in range(5)]
    TrainingRun.objects.filter(pk=runs[1].pk).update(status="failed")
    url = reverse("api:run-list")
    monkeypatch.setattr(Pagination, "count_cap", 3)
    first = viewer_api.get(url, {"page_size": 2}).json()
    assert first["count"] is None and first["count_more_than"] == 3 and first["next"] and first["previous"] is None
    third = viewer_api.get(url, {"page_size": 2, "page": 3}).json()
    assert [r["id"] for r in first["results"] + viewer_api.get(first["next"]).json()["results"]] == [
        r.pk for r in reversed(runs[1:])
    ]
    assert [r["id"] for r in third["results"]] == [runs[0].pk] and third["next"] is None and third["previous"]
    assert viewer_api.get(url, {"page_size": 2, "page": 9}).json()["results"] == []  # past the end: empty
    failed = viewer_api.get(url, {"status": "failed"}).json()
    assert failed["count"] == 1 and failed["count_more_than"] is None  # under the cap: exact


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 403), ("full", 200)])
def test_cancel(clients, profile, dataset, who, expected):
    run = queued_run(profile, dataset)
    response = clients[who].post(reverse("api:run-cancel", args=[run.pk]))
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["status"] == "cancelled"
        again = clients[who].post(reverse("api:run-cancel", args=[run.pk]))
        assert again.status_code == 400
        assert again.json() == {"non_field_errors": [MSG_NOT_CANCELLABLE.format(pk=run.pk, status="cancelled")]}


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 403), ("full", 201)])
def test_rerun(clients, finished_tiny, who, expected):
    response = clients[who].post(reverse("api:run-rerun", args=[finished_tiny.pk]))
    assert response.status_code == expected
    if expected == 201:
        new = TrainingRun.objects.get(pk=response.json()["id"])
        assert (new.rerun_of_id, new.trigger, new.seed) == (finished_tiny.pk, "api", finished_tiny.seed)


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 200), ("full", 200)])
def test_artifacts_zip(clients, finished_tiny, who, expected):
    response = clients[who].get(reverse("api:run-artifacts", args=[finished_tiny.pk]))
    assert response.status_code == expected
    if expected == 200:
        names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        assert sorted(names) == sorted(finished_tiny.result["artifacts"]["files"])


@pytest.mark.django_db(transaction=True)
def test_broker_down_answers_503_with_the_stored_run(full_api, profile, dataset):
    with celery_app_using(f"redis://127.0.0.1:{free_port()}/0"):
        response = full_api.post(reverse("api:run-list"), {"symbol": "BTCUSDT", "preset": "smoke"}, format="json")
    assert response.status_code == 503
    body = response.json()
    run = TrainingRun.objects.get(pk=body["run"])
    assert run.status == "failed" and body["detail"] == run.error
    assert body["detail"].startswith(MSG_BROKER_UNREACHABLE.split("(")[0])


@pytest.mark.parametrize("value", [str(2**63), str(2**63 - 1), "0", "-1", "1e3", "99999999999999999999999"])
def test_an_id_filter_beyond_what_a_database_stores_is_a_400_on_both_databases(viewer_api, profile, value):
    response = viewer_api.get(reverse("api:run-list"), {"profile": value})
    if value == str(2**63 - 1):
        assert response.status_code == 200 and response.json()["count"] == 0
        return
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["profile"]
