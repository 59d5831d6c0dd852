"""A list filter typed into the admin's address bar with a number no database column holds (found by the URL
fuzz: `?profile=99…9` on SQLite raised OverflowError, a 500; later `?crontab=99…9` on django-celery-beat's periodic
tasks) gets the admin's own answer to a bad filter, on every registered admin."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.views.main import ERROR_FLAG
from django.db import connection
from django.urls import reverse

pytestmark = pytest.mark.django_db

HUGE = str(10**40)
ADMINS = [model for model in apps.get_models() if admin.site.is_registered(model)]  # every app's, third-party too
RELATED = [(model, field.name) for model in ADMINS for field in model._meta.fields if field.many_to_one]


def test_every_admin_model_with_a_foreign_key_is_covered():
    covered = {m._meta.model_name for m, _ in RELATED}
    assert {"trainingrun", "sweep", "retrainschedule", "candle", "periodictask"} <= covered


@pytest.mark.parametrize(("model", "field"), RELATED, ids=lambda v: v if isinstance(v, str) else v.__name__)
@pytest.mark.parametrize("value", [HUGE, f"-{HUGE}"])
def test_an_out_of_range_foreign_key_filter_is_an_incorrect_lookup_not_a_server_error(
    admin_client, model, field, value
):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = admin_client.get(url, {field: value})
    if connection.vendor == "sqlite":  # it cannot bind the number: the admin's "incorrect lookup" redirect
        assert response.status_code == 302 and response.url == f"{url}?{ERROR_FLAG}=1"
        assert admin_client.get(response.url).status_code == 200
    else:  # PostgreSQL compares it with the column: no rows
        assert response.status_code == 200 and response.context["cl"].result_count == 0
