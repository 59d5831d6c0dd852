"""The run's large columns are stored last (migration 0023): on SQLite a column after a 180 KB ``result`` is read by
walking its overflow pages, and the run list reads only small columns. A migration that adds a column after them
fails here until it moves them after it again, as 0023 does."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection

from tests.training.runs_helpers import make_finished_run
from training.models import TrainingRun

LARGE = list(importlib.import_module("training.migrations.0023_i23_large_columns_last").LARGE)
rebuild_on_sqlite = importlib.import_module("training.migrations.0023_i23_large_columns_last").rebuild_on_sqlite


def table_columns() -> list[str]:
    """The table's columns in their stored order, less the self-referencing foreign keys (``rerun_of``): Django's
    SQLite rebuild always puts those at the end; the list never reads them, the run page reads ``result`` anyway."""
    own = {
        f.column for f in TrainingRun._meta.local_concrete_fields if f.is_relation and f.related_model is TrainingRun
    }
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, TrainingRun._meta.db_table)
    return [c.name for c in columns if c.name not in own]


@pytest.mark.django_db
def test_the_large_columns_are_the_model_s_and_the_table_s_last():
    fields = [f.column for f in TrainingRun._meta.local_concrete_fields]
    assert fields[-len(LARGE) :] == LARGE
    if connection.vendor == "sqlite":  # PostgreSQL keeps large values out of line and its table as it was
        assert table_columns()[-len(LARGE) :] == LARGE
        assert len(table_columns()) == len(fields) - 1  # all of them, rerun_of_id aside


@pytest.mark.django_db(transaction=True)  # SQLite rebuilds a table only outside a transaction
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the rebuild runs on SQLite only")
def test_the_rebuild_keeps_every_value_of_a_real_run(profile, dataset, tiny_result):
    run = make_finished_run(profile, dataset, result=tiny_result)
    TrainingRun.objects.filter(pk=run.pk).update(notes="kept", log="a log", traceback="a traceback")
    before = TrainingRun.objects.filter(pk=run.pk).values().get()
    tags_before = list(run.tags.values_list("name", flat=True))
    with connection.schema_editor() as editor:
        rebuild_on_sqlite(apps, editor)
    assert TrainingRun.objects.filter(pk=run.pk).values().get() == before
    assert list(run.tags.values_list("name", flat=True)) == tags_before
    assert run.model_results.count() > 0
    assert table_columns()[-len(LARGE) :] == LARGE
