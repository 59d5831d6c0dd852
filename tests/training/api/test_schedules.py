"""/api/schedules/: create (with its beat task), list, update, delete; permissions and field errors."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from training.models import RetrainSchedule

pytestmark = pytest.mark.django_db

BODY = {"symbol": "btcusdt", "interval": "1h", "preset": "tiny", "crontab": "*/5 * * * *", "promote": "not_worse"}


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 403), ("full", 201)])
def test_create_needs_the_add_permission(clients, profile, who, expected):
    response = clients[who].post(reverse("api:schedule-list"), {**BODY, "profile": profile.pk}, format="json")
    assert response.status_code == expected, response.content
    if expected == 201:
        schedule = RetrainSchedule.objects.get(pk=response.json()["id"])
        assert (schedule.symbol, schedule.profile_id, schedule.promote, schedule.fetch) == (
            "BTCUSDT",
            profile.pk,
            "not_worse",
            False,
        )
        task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
        assert task.task == "training.schedule_execute" and json.loads(task.args) == [schedule.pk]
        assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == ("*/5", "*", "UTC")


def test_field_errors(full_api, db):
    response = full_api.post(
        reverse("api:schedule-list"), {**BODY, "crontab": "61 * * * *", "preset": "huge", "promote": "x"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"promote"}  # the serializer's choice check comes first
    response = full_api.post(
        reverse("api:schedule-list"), {**BODY, "crontab": "61 * *", "preset": "huge"}, format="json"
    )
    assert response.status_code == 400 and set(response.json()) == {"crontab", "preset"}
    assert not PeriodicTask.objects.exists()


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 200), ("full", 200)])
def test_list_and_change(clients, full_user, who, expected):
    from training.services.schedules import schedule_create

    schedule = schedule_create(symbol="BTCUSDT", crontab="0 * * * *", preset="tiny")
    assert clients[who].get(reverse("api:schedule-list")).status_code == expected
    url = reverse("api:schedule-detail", args=[schedule.pk])
    change = clients[who].patch(url, {"crontab": "30 2 * * 1", "enabled": False}, format="json")
    assert change.status_code == (200 if who == "full" else expected if expected != 200 else 403)
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    if who == "full":
        assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week, task.enabled) == (
            "30",
            "2",
            "1",
            False,
        )
        assert clients[who].delete(url).status_code == 204
        assert not RetrainSchedule.objects.exists() and not PeriodicTask.objects.exists()
    else:
        assert task.enabled is True
