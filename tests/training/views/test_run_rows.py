"""The run list's rows are rendered once per content and kept (selectors.run_rows, issue 23 item 7): a kept row
is served as rendered, and a row whose run, profile, launcher, tags or flags changed is rendered again."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.urls import reverse

from tests.training.runs_helpers import make_finished_run
from training.models import TrainingRun
from training.selectors.run_rows import CACHE_ALIAS, ROW_TEMPLATE
from training.selectors.runs import LEADERBOARD_FIELDS, LIST_FIELDS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_row_cache():
    caches[CACHE_ALIAS].clear()
    yield
    caches[CACHE_ALIAS].clear()


def row_of(html: str, pk: int) -> str:
    return re.search(rf'<tr data-run="{pk}">.*?</tr>', html, re.S).group(0)


def test_a_kept_row_is_served_as_rendered_and_a_changed_run_is_rendered_again(
    launcher_client, profile, dataset, launcher, smoke_result
):
    run = make_finished_run(profile, dataset, user=launcher, result=smoke_result)
    url = reverse("training:run_list")
    first = launcher_client.get(url).content.decode()
    cache = caches[CACHE_ALIAS]
    kept = len(cache._cache)
    assert kept == 1 and "status-succeeded" in row_of(first, run.pk)
    again = launcher_client.get(url).content.decode()
    assert row_of(again, run.pk) == row_of(first, run.pk) and len(cache._cache) == kept  # served as kept

    TrainingRun.objects.filter(pk=run.pk).update(status="failed", error="boom: the disk is full")
    row = row_of(launcher_client.get(url).content.decode(), run.pk)
    assert "status-failed" in row and "boom: the disk is full" in row

    profile.name = "renamed-profile"
    profile.save()
    assert "renamed-profile" in row_of(launcher_client.get(url).content.decode(), run.pk)

    launcher_client.post(reverse("training:run_notes", args=[run.pk]), {"notes": "kept a note", "tags": "alpha"})
    row = row_of(launcher_client.get(url).content.decode(), run.pk)
    assert "kept a note" in row and "?tag=alpha" in row


def test_the_edit_link_and_the_permission_are_part_of_a_row(launcher, viewer, profile, dataset, smoke_result):
    from django.test import Client

    run = make_finished_run(profile, dataset, result=smoke_result)
    url = reverse("training:run_list")
    reader, editor = Client(), Client()
    reader.force_login(viewer)
    editor.force_login(launcher)
    assert "edit notes and tags" not in row_of(reader.get(url).content.decode(), run.pk)
    editable = row_of(editor.get(url + "?status=succeeded").content.decode(), run.pk)
    assert "edit notes and tags" in editable and "next=/runs/%3Fstatus%3Dsucceeded" in editable
    assert "edit notes and tags" not in row_of(reader.get(url + "?status=succeeded").content.decode(), run.pk)


def test_every_run_field_the_row_shows_is_loaded_by_the_list_query_and_so_in_the_key():
    """A field the row template reads but the list query does not load would be missing from the row's key
    (and cost a query per row)."""
    template = next(Path(d) / ROW_TEMPLATE for d in settings.TEMPLATES[0]["DIRS"] if (Path(d) / ROW_TEMPLATE).exists())
    used = set(re.findall(r"\brun\.(\w+)", template.read_text()))
    loaded = {f.split("__")[0] for f in (*LIST_FIELDS, "trigger", *LEADERBOARD_FIELDS)}
    derived = {"pk", "tags", "duration_seconds"}  # the key, the prefetched tags, started_at/finished_at
    assert used - derived <= loaded, used - derived - loaded


def test_the_api_list_serves_a_kept_row_equal_to_its_fresh_serialization_and_follows_changes(
    viewer_client, profile, dataset, smoke_result
):
    run = make_finished_run(profile, dataset, result=smoke_result)
    fresh = viewer_client.get("/api/runs/").json()["results"]
    cache = caches[CACHE_ALIAS]
    assert len(cache._cache) == 1 and fresh[0]["id"] == run.pk and fresh[0]["status"] == "succeeded"
    assert viewer_client.get("/api/runs/").json()["results"] == fresh and len(cache._cache) == 1  # kept

    TrainingRun.objects.filter(pk=run.pk).update(notes="after the fact")
    changed = viewer_client.get("/api/runs/").json()["results"][0]
    assert changed["notes"] == "after the fact" and {k: v for k, v in changed.items() if k != "notes"} == {
        k: v for k, v in fresh[0].items() if k != "notes"
    }
