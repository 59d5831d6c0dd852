"""Run notes and tags (service, page, admin, API), the code version in the snapshot, and "Run again" from the
run's snapshot or from the profile now."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ares_site.app_version import app_code_version
from tests.training.api.conftest import api_user, client_for
from training.models import RegularizationProfile, RunTag, TrainingRun
from training.services.run_notes import MSG_BAD_TAG, run_tags_parse, training_run_annotate
from training.services.runs import RERUN_FROM_PROFILE, RERUN_FROM_SNAPSHOT, training_run_create, training_run_rerun

pytestmark = pytest.mark.django_db


def launch(profile, dataset, **kwargs):
    return training_run_create(
        profile=profile, symbol=dataset.symbol, exchange=dataset.exchange, interval=dataset.interval,
        preset="smoke", enqueue=False, **kwargs,
    )  # fmt: skip


def test_the_snapshot_records_the_app_version_and_the_git_commit(profile, dataset):
    run = launch(profile, dataset)
    app = run.snapshot["app"]
    assert app == app_code_version() and app["version"]
    assert re.fullmatch(r"[0-9a-f]{40}", app["commit"])  # this checkout is a git work tree
    assert isinstance(app["dirty"], bool)


def test_run_again_from_the_snapshot_keeps_this_runs_settings_from_the_profile_takes_todays(profile, dataset):
    first = launch(profile, dataset)
    RegularizationProfile.objects.filter(pk=profile.pk).update(l1_alpha=0.3, tensorflow_dropout_rate=0.4)
    profile.refresh_from_db()
    same = training_run_rerun(run=first, source=RERUN_FROM_SNAPSHOT)
    now = training_run_rerun(run=first, source=RERUN_FROM_PROFILE)
    assert same.snapshot["config"] == first.snapshot["config"] and same.snapshot["config"]["l1_alpha"] == 0.01
    assert now.snapshot["config"] == profile.resolved_config() and now.snapshot["config"]["l1_alpha"] == 0.3
    assert same.snapshot["rerun"] == {"of": first.pk, "from": "snapshot"}
    assert now.snapshot["rerun"] == {"of": first.pk, "from": "profile"}
    assert (same.seed, same.preset, same.rerun_of) == (first.seed, first.preset, first)
    with pytest.raises(ValidationError):
        training_run_rerun(run=first, source="yesterday")


def test_tags_are_normalised_and_a_bad_one_saves_nothing(profile, dataset):
    run = launch(profile, dataset)
    assert run_tags_parse("Baseline, paper-2  baseline") == ["baseline", "paper-2"]
    training_run_annotate(run=run, notes="first look", tags="Baseline, paper-2")
    with pytest.raises(ValidationError) as exc:
        training_run_annotate(run=run, notes="changed", tags="ok, no spaces/allowed")
    assert exc.value.message_dict == {"tags": [MSG_BAD_TAG.format(tag="spaces/allowed")]}
    run = TrainingRun.objects.get(pk=run.pk)
    assert run.notes == "first look" and [t.name for t in run.tags.all()] == ["baseline", "paper-2"]
    assert run.snapshot["config"] == profile.resolved_config()  # the snapshot is untouched


def test_the_notes_page_edits_and_the_run_list_filters_by_tag(launcher_client, profile, dataset):
    tagged, other = launch(profile, dataset), launch(profile, dataset)
    url = reverse("training:run_notes", args=[tagged.pk])
    assert launcher_client.get(url).status_code == 200
    bad = launcher_client.post(url, {"notes": "kept", "tags": "UPPER ok, bad!"})
    assert bad.status_code == 200 and MSG_BAD_TAG.format(tag="bad!") in bad.content.decode().replace("&#x27;", "'")
    assert 'value="UPPER ok, bad!"' in bad.content.decode() and "kept" in bad.content.decode()  # nothing lost
    assert TrainingRun.objects.get(pk=tagged.pk).notes == ""
    saved = launcher_client.post(url, {"notes": "lower l1 next", "tags": "baseline, paper-2"})
    assert saved.status_code == 302
    page = launcher_client.get(reverse("training:run_list") + "?tag=paper-2").content.decode()
    assert f"#{tagged.pk}</a>" in page and f"#{other.pk}</a>" not in page
    assert "lower l1 next" in page and f'href="{url}?next=' in page


def test_the_notes_page_needs_the_change_permission(viewer_client, profile, dataset):
    run = launch(profile, dataset)
    assert viewer_client.post(reverse("training:run_notes", args=[run.pk]), {"notes": "x"}).status_code == 403
    assert "edit notes and tags" not in viewer_client.get(reverse("training:run_list")).content.decode()


def test_the_api_edits_notes_and_tags_filters_by_tag_and_reruns_from_the_snapshot(profile, dataset):
    tagged, other = launch(profile, dataset), launch(profile, dataset)
    full = client_for(api_user("api-full", "view", "add", "change"))
    viewer = client_for(api_user("api-viewer", "view"))
    body = {"notes": "from the API", "tags": ["Desk", "q3"]}
    assert viewer.patch(f"/api/runs/{tagged.pk}/", body, format="json").status_code == 403
    answer = full.patch(f"/api/runs/{tagged.pk}/", body, format="json")
    assert answer.status_code == 200 and answer.json()["tags"] == ["desk", "q3"], answer.content
    assert answer.json()["notes"] == "from the API" and answer.json()["snapshot"] == tagged.snapshot
    refused = full.patch(f"/api/runs/{tagged.pk}/", {"tags": ["no way"]}, format="json")
    assert refused.status_code == 400 and "no way" in refused.content.decode()
    listed = full.get("/api/runs/?tag=desk").json()["results"]
    assert [row["id"] for row in listed] == [tagged.pk] and listed[0]["tags"] == ["desk", "q3"]
    assert other.pk not in [row["id"] for row in full.get("/api/runs/?tag=q3").json()["results"]]
    RegularizationProfile.objects.filter(pk=profile.pk).update(l1_alpha=0.3)
    again = full.post(f"/api/runs/{tagged.pk}/rerun/", {"from": "snapshot"}, format="json")
    assert again.status_code == 201 and again.json()["snapshot"]["config"]["l1_alpha"] == 0.01
    assert full.post(f"/api/runs/{tagged.pk}/rerun/", {"from": "x"}, format="json").status_code == 400


def test_the_run_page_offers_both_kinds_of_run_again(
    launcher_client, profile, dataset, django_capture_on_commit_callbacks
):
    first = launch(profile, dataset)
    TrainingRun.objects.filter(pk=first.pk).update(status=TrainingRun.Status.FAILED)
    page = launcher_client.get(reverse("training:run_detail", args=[first.pk])).content.decode()
    assert 'name="from" value="snapshot"' in page and 'name="from" value="profile"' in page
    RegularizationProfile.objects.filter(pk=profile.pk).update(l1_alpha=0.3)
    with django_capture_on_commit_callbacks(execute=False):
        response = launcher_client.post(reverse("training:run_rerun", args=[first.pk]), {"from": "snapshot"})
    new = TrainingRun.objects.get(rerun_of=first)
    assert response["Location"] == reverse("training:run_detail", args=[new.pk])
    assert new.snapshot["config"]["l1_alpha"] == 0.01 and new.snapshot["rerun"]["from"] == "snapshot"


def test_the_admin_shows_notes_and_tags_filters_by_tag_and_links_the_edit_page(admin_client, profile, dataset):
    run = launch(profile, dataset)
    training_run_annotate(run=run, notes="admin sees this", tags="desk")
    change = admin_client.get(reverse("admin:training_trainingrun_change", args=[run.pk])).content.decode()
    assert "admin sees this" in change and reverse("training:run_notes", args=[run.pk]) in change
    assert 'name="_save"' not in change  # runs stay read-only records
    tag = RunTag.objects.get(name="desk")
    listing = admin_client.get(reverse("admin:training_trainingrun_changelist") + f"?tags__id__exact={tag.pk}")
    assert listing.status_code == 200 and "desk" in listing.content.decode()


def test_the_run_list_sorts_and_filters_server_side_with_the_choice_in_the_url(launcher_client, profile, dataset):
    from datetime import timedelta

    from django.utils import timezone

    short, long_, queued = launch(profile, dataset), launch(profile, dataset), launch(profile, dataset)
    now = timezone.now()
    TrainingRun.objects.filter(pk=short.pk).update(started_at=now, finished_at=now + timedelta(seconds=5))
    TrainingRun.objects.filter(pk=long_.pk).update(started_at=now, finished_at=now + timedelta(seconds=500))
    TrainingRun.objects.filter(pk=queued.pk).update(trigger=TrainingRun.Trigger.CLI)

    def order(query: str) -> list[int]:
        page = launcher_client.get(reverse("training:run_list") + query).content.decode()
        return [int(pk) for pk in re.findall(r'name="ids" value="(\d+)"', page)]

    assert order("?sort=oldest") == [short.pk, long_.pk, queued.pk]
    assert order("") == [queued.pk, long_.pk, short.pk] == order("?sort=bogus")
    assert order("?trigger=cli") == [queued.pk] and order("?preset=smoke&trigger=web&sort=oldest") == [
        short.pk,
        long_.pk,
    ]
    assert order("?sort=status") == [queued.pk, long_.pk, short.pk]  # all queued: newest first within
    page = launcher_client.get(reverse("training:run_list") + "?sort=oldest").content.decode()
    assert '<option value="oldest" selected>' in page and "500 s" in page and "5 s" in page
