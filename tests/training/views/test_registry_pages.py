"""Pages: the promote button on the run page, /models/, /schedules/, the admin's promote action and API token."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils.html import escape

from tests.training.runs_helpers import make_finished_run, make_user
from training.admin.api_tokens import MSG_NO_TOKEN
from training.forms.symbols import MSG_WILL_BECOME
from training.marketdata.markets import MSG_NOT_ASCII
from training.models import ActiveModel, Promotion, RetrainSchedule

pytestmark = pytest.mark.django_db


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_run_page_promote_button_and_trigger(client, profile, dataset, tiny_result):
    run = make_finished_run(profile, dataset, result=tiny_result)
    user = make_user("viewer", can_launch=False)
    client.force_login(user)
    page = client.get(reverse("training:run_detail", args=[run.pk])).content.decode()
    assert "promote-button" not in page and '<dd id="run-trigger">web</dd>' in page
    assert client.post(reverse("training:run_promote", args=[run.pk])).status_code == 403
    grant(user, "add_promotion", "view_activemodel")
    page = client.get(reverse("training:run_detail", args=[run.pk])).content.decode()
    assert "promote-button" in page
    assert '<span class="check-failed" data-check="not_worse_than_baseline"' in page
    url = reverse("training:run_promote", args=[run.pk])
    confirm = client.post(url)  # the real tiny run is worse than a baseline in one regime: confirmation page
    assert confirm.status_code == 409 and not Promotion.objects.exists()
    page = confirm.content.decode()
    assert 'data-check="not_worse_than_baseline"' in page and 'name="force" value="1"' in page
    assert client.post(url, {"force": "1", "reason": " "}).status_code == 400 and not Promotion.objects.exists()
    response = client.post(url, {"force": "1", "reason": "accepted by the desk"}, follow=True)
    assert f"Run #{run.pk} is now the active model of BINANCE:BTCUSDT 1h, overriding:" in response.content.decode()
    promotion = Promotion.objects.get()
    assert (promotion.run_id, promotion.trigger, promotion.promoted_by) == (run.pk, "web", user)
    assert (promotion.overridden, promotion.reason) == (True, "accepted by the desk")
    models_page = client.get(reverse("training:model_list")).content.decode()
    assert f'href="{reverse("training:run_detail", args=[run.pk])}">#{run.pk}</a>' in models_page


def test_models_page_needs_the_view_permission(client):
    client.force_login(make_user("viewer", can_launch=False))
    assert client.get(reverse("training:model_list")).status_code == 403


def test_schedule_page_creates_schedules(client, profile, dataset):
    user = grant(make_user("planner", can_launch=False), "view_retrainschedule")
    client.force_login(user)
    form = {"market": "BINANCE:BTCUSDT:1h", "preset": "tiny", "crontab": "0 3 * * *", "enabled": "on"}
    assert "schedule-form" not in client.get(reverse("training:schedule_list")).content.decode()
    assert client.post(reverse("training:schedule_list"), {**form, "promote": "always"}).status_code == 403
    grant(user, "add_retrainschedule")
    bad = client.post(reverse("training:schedule_list"), {**form, "crontab": "0 99 * * *", "promote": "always"})
    assert bad.status_code == 400 and not RetrainSchedule.objects.exists()
    response = client.post(reverse("training:schedule_list"), {**form, "promote": "not_worse"}, follow=True)
    schedule = RetrainSchedule.objects.get()
    assert (schedule.symbol, schedule.crontab, schedule.promote, schedule.created_by) == (
        "BTCUSDT",
        "0 3 * * *",
        "not_worse",
        user,
    )
    assert f"Schedule #{schedule.pk} created" in response.content.decode()


def test_admin_promote_action_and_api_token(admin_client, admin_user, profile, dataset, tiny_result):
    run = make_finished_run(profile, dataset, result=tiny_result)
    changelist = reverse("admin:training_trainingrun_changelist")
    action = {"action": "promote_runs", "_selected_action": [run.pk]}
    confirm = admin_client.post(changelist, action)
    assert confirm.status_code == 200 and not Promotion.objects.exists()
    assert 'data-check="not_worse_than_baseline"' in confirm.content.decode()
    assert admin_client.post(changelist, {**action, "confirm": "yes", "reason": ""}).status_code == 400
    response = admin_client.post(changelist, {**action, "confirm": "yes", "reason": "desk call"}, follow=True)
    assert f"Run #{run.pk} is now the active model" in response.content.decode()
    assert ActiveModel.objects.get().run_id == run.pk and Promotion.objects.get().trigger == "admin"
    assert Promotion.objects.get().overridden and Promotion.objects.get().reason == "desk call"
    rollback = {"action": "rollback_models", "_selected_action": [ActiveModel.objects.get().pk]}
    response = admin_client.post(reverse("admin:training_activemodel_changelist"), rollback, follow=True)
    assert "no active model now" in response.content.decode() and not ActiveModel.objects.exists()
    assert Promotion.objects.first().trigger == "rollback"
    change = reverse("admin:auth_user_change", args=[admin_user.pk])
    assert escape(MSG_NO_TOKEN) in admin_client.get(change).content.decode()
    admin_client.post(
        reverse("admin:auth_user_changelist"), {"action": "create_api_token", "_selected_action": [admin_user.pk]}
    )
    admin_user.refresh_from_db()
    assert admin_user.auth_token.key in admin_client.get(change).content.decode()


def test_admin_schedule_is_saved_through_the_service(admin_client):
    data = {"exchange": "BINANCE", "symbol": "ethusdt", "interval": "1h", "preset": "tiny", "crontab": "*/10 * * * *"}
    url = reverse("admin:training_retrainschedule_add")
    shown = admin_client.post(url, {**data, "promote": "never", "enabled": "on"})
    assert shown.status_code == 200 and not RetrainSchedule.objects.exists()  # shown, not saved
    assert escape(MSG_WILL_BECOME.format(label="Symbol", given="ethusdt", saved="ETHUSDT")) in shown.content.decode()
    assert 'name="symbol" value="ETHUSDT"' in shown.content.decode()
    refused = admin_client.post(url, {**data, "symbol": "straße", "promote": "never", "enabled": "on"})
    message = MSG_NOT_ASCII.format(label="Symbol", given="straße", upper="STRASSE")
    assert escape(message) in refused.content.decode() and not RetrainSchedule.objects.exists()
    response = admin_client.post(url, {**data, "symbol": "ETHUSDT", "promote": "never", "enabled": "on"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    schedule = RetrainSchedule.objects.get()
    assert schedule.symbol == "ETHUSDT" and schedule.periodic_task.crontab.minute == "*/10"


def test_active_run_is_marked_and_the_models_page_rolls_back(admin_client, profile, dataset, tiny_result):
    from training.services.registry import model_promote

    first, second = (make_finished_run(profile, dataset, result=tiny_result) for _ in range(2))
    model_promote(run=first, force=True, reason="first pick")
    model_promote(run=second, force=True, reason="desk override")
    run_list = admin_client.get(reverse("training:run_list")).content.decode()
    assert run_list.count('class="badge active-badge"') == 1
    assert 'id="active-badge"' in admin_client.get(reverse("training:run_detail", args=[second.pk])).content.decode()
    assert 'id="active-badge"' not in admin_client.get(reverse("training:run_detail", args=[first.pk])).content.decode()
    compare = admin_client.get(reverse("training:run_compare"), {"ids": [first.pk, second.pk]}).content.decode()
    assert compare.count("active-badge") == 1
    page = admin_client.get(reverse("training:model_list")).content.decode()
    assert "desk override" in page and "first pick" in page and "overrode not_worse_than_baseline" in page
    assert 'data-check="not_worse_than_baseline" class="check-failed"' in page and "(overridden)" in page
    rollback = reverse("training:model_rollback", args=["BINANCE", "BTCUSDT", "1h"])
    page = admin_client.post(rollback, {"reason": "second misbehaves"}, follow=True).content.decode()
    assert f"run #{first.pk} is the active model again (run #{second.pk} was)" in page
    assert ActiveModel.objects.get().run_id == first.pk
    page = admin_client.post(rollback, follow=True).content.decode()
    assert "no active model now" in page and "No active model (rolled back past its first promotion)." in page
    assert not ActiveModel.objects.exists()
    assert "nothing to roll back" in admin_client.post(rollback, follow=True).content.decode()
