"""The schedules page: a market picker of markets with candles, readable crontab errors, the next fire times, edit
and disable, its place in the navigation; the footer; the 403 page naming the permission to ask for."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from ares_site.app_version import app_code_version
from tests.training.runs_helpers import make_user
from training.models import RetrainSchedule
from training.services.schedules import schedule_create

pytestmark = pytest.mark.django_db


def planner(client, *codenames):
    user = make_user("planner", can_launch=False)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_retrainschedule", *codenames]))
    client.force_login(user)
    return user


def test_the_picker_lists_only_markets_with_candles_and_a_bad_crontab_is_explained(client, profile, dataset):
    from training.models import MarketDataset

    MarketDataset.objects.create(exchange="BINANCE", symbol="EMPTYUSDT", interval="1h")  # no candles
    planner(client, "add_retrainschedule")
    page = client.get(reverse("training:schedule_list")).content.decode()
    assert 'value="BINANCE:BTCUSDT:1h"' in page and "EMPTYUSDT" not in page
    assert reverse("training:schedule_preview") in page and 'aria-label="Main"' in page
    base = {"preset": "tiny", "promote": "never", "enabled": "on"}
    refused = client.post(
        reverse("training:schedule_list"), {**base, "market": "BINANCE:EMPTYUSDT:1h", "crontab": "0 3 * * *"}
    )
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    bad = client.post(
        reverse("training:schedule_list"), {**base, "market": "BINANCE:BTCUSDT:1h", "crontab": "0 25 * * *"}
    )
    text = bad.content.decode().replace("&#x27;", "'")
    assert bad.status_code == 400 and "The hour field '25' is not valid: use 0–23" in text
    assert 'value="0 25 * * *"' in text and not RetrainSchedule.objects.exists()  # nothing lost, nothing saved


def test_preview_json_gives_words_and_the_next_five_times(client):
    planner(client)
    good = client.get(reverse("training:schedule_preview"), {"crontab": "0 3 * * *"}).json()
    assert good["ok"] and good["description"] == "At 03:00 (UTC)" and len(good["next"]) == 5
    bad = client.get(reverse("training:schedule_preview"), {"crontab": "0 3 * *"}).json()
    assert not bad["ok"] and bad["errors"][0].startswith("A crontab has 5 fields")


def test_edit_and_disable_keep_the_beat_task_in_step(client, profile, dataset):
    schedule = schedule_create(symbol="BTCUSDT", crontab="0 3 * * *", preset="tiny")
    planner(client, "change_retrainschedule")
    listing = client.get(reverse("training:schedule_list")).content.decode()
    assert reverse("training:schedule_edit", args=[schedule.pk]) in listing and "next five" in listing
    edit = reverse("training:schedule_edit", args=[schedule.pk])
    assert 'value="0 3 * * *"' in client.get(edit).content.decode()
    saved = client.post(
        edit,
        {
            "market": "BINANCE:BTCUSDT:1h",
            "preset": "tiny",
            "promote": "never",
            "crontab": "30 6 * * 1",
            "enabled": "on",
        },
    )
    assert saved.status_code == 302
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week, task.enabled) == ("30", "6", "1", True)
    client.post(reverse("training:schedule_enable", args=[schedule.pk]), {"enabled": "0"})
    schedule.refresh_from_db()
    task.refresh_from_db()
    assert (schedule.enabled, task.enabled) == (False, False)
    assert ">enable</button>" in client.get(reverse("training:schedule_list")).content.decode()


def test_the_footer_shows_version_commit_and_a_health_link(admin_client):
    page = admin_client.get(reverse("training:run_list")).content.decode()
    code = app_code_version()
    assert 'id="site-footer"' in page and code["version"] in page and code["commit"][:12] in page
    assert f'href="{reverse("training:healthz")}" id="health-link"' in page and "footer_health.js" in page
    assert f'href="{reverse("training:schedule_list")}"' in page  # superuser: Schedules is in the nav


def test_the_403_page_names_the_permission_to_ask_for(client, profile):
    client.force_login(make_user("viewer", can_launch=False))
    response = client.get(reverse("training:schedule_list"))
    page = response.content.decode()
    assert response.status_code == 403 and 'id="forbidden-permission"' in page
    assert "Can view retrain schedule" in page and "training.view_retrainschedule" in page
    launch = client.get(reverse("training:run_new")).content.decode()
    assert "Can add training run" in launch and "training.add_trainingrun" in launch
