"""The admin's run page is a read-only record: no Save/Delete/Add, JSON collapsed, numbers rounded, a link to the app."""

import pytest
from django.urls import reverse

from tests.training.runs_helpers import make_dataset, make_finished_run, make_profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(tiny_result):
    return make_finished_run(make_profile("baseline", is_default=True), make_dataset(), result=tiny_result)


def test_the_change_page_is_read_only_with_a_link_to_the_run_page(admin_client, run):
    page = admin_client.get(reverse("admin:training_trainingrun_change", args=[run.pk])).content.decode()
    for button in ('name="_save"', 'name="_continue"', 'name="_addanother"', "deletelink"):
        assert button not in page, button
    assert reverse("admin:training_trainingrun_add") not in page
    assert f'href="{reverse("training:run_detail", args=[run.pk])}"' in page and "View on site" in page
    assert page.count("<details><summary>") >= 3 and "&quot;ensembles&quot;: {" in page
    assert "0.61" in page and "0.6100000" not in page  # rounded in the inline


def test_posting_the_change_form_changes_nothing(admin_client, run):
    response = admin_client.post(reverse("admin:training_trainingrun_change", args=[run.pk]), {"status": "failed"})
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert admin_client.get(reverse("admin:training_trainingrun_delete", args=[run.pk])).status_code == 403


def test_the_list_shows_progress_as_a_percentage(admin_client, run):
    page = admin_client.get(reverse("admin:training_trainingrun_changelist")).content.decode()
    assert '<td class="field-progress_percent">100%</td>' in page
