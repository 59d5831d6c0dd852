"""The run's large columns last in the table (issue 23 item 7: the run list and run page cached or trimmed where
that is what costs).

SQLite keeps a row in one record: a column stored after the 180 KB ``result`` is read by walking its overflow
pages. The run list reads ``trigger``, the leaderboard columns and ``wall_seconds``, all added after ``result``, so
its 25-row query took 2.1 ms of which 1.9 ms was that walk (``bench/profile_pages.py PROFILE_SQL=1``). The state
moves ``snapshot``, ``report``, ``log``, ``traceback`` and ``result`` to the end of the model and SQLite's table
is rebuilt in that order (Django's own table rebuild, as its ALTER operations do on SQLite). PostgreSQL stores large
values out of line (TOAST) and keeps its table as it is. ``tests/training/models/test_large_columns_last.py``
fails when a later migration adds a column after them.
"""

from django.db import migrations, models

LARGE = {  # smallest first: the one read most often of them sits before the biggest
    "snapshot": models.JSONField(default=dict, blank=True),
    "report": models.JSONField(default=dict, blank=True),
    "log": models.TextField(blank=True),
    "traceback": models.TextField(blank=True),
    "result": models.JSONField(default=dict, blank=True),
}


def rebuild_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor._remake_table(apps.get_model("training", "TrainingRun"))  # columns in the state's order


class Migration(migrations.Migration):
    dependencies = [("training", "0022_i25b_leaderboard_fill")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                operation
                for name, field in LARGE.items()
                for operation in (
                    migrations.RemoveField(model_name="trainingrun", name=name),
                    migrations.AddField(model_name="trainingrun", name=name, field=field),
                )
            ]
        ),
        migrations.RunPython(rebuild_on_sqlite, migrations.RunPython.noop, elidable=True),
    ]
