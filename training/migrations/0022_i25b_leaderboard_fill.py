"""Fills the leaderboard's columns (0021_i25b) of the runs stored before them, from each run's stored result, by
the same function the service calls when it stores a result; and the wall time of every run that started and
finished. A result the type no longer reads leaves its columns empty."""

from django.db import migrations

BATCH = 200
TIMES = ("started_at", "finished_at")
COLUMNS = ("system_verdict", "sharpe_after_costs", "log_loss_delta", "regime_verdicts", "wall_seconds")


def fill(apps, schema_editor):
    from training.services.runs.leaderboard import run_leaderboard_columns, wall_seconds

    TrainingRun = apps.get_model("training", "TrainingRun")
    runs = TrainingRun.objects.filter(started_at__isnull=False, finished_at__isnull=False)
    ids = list(runs.order_by("pk").values_list("pk", flat=True))  # read, then write: no cursor open on the table
    for start in range(0, len(ids), BATCH):
        batch = list(
            TrainingRun.objects.filter(pk__in=ids[start : start + BATCH]).only("pk", "status", "result", *TIMES)
        )
        for run in batch:
            columns = run_leaderboard_columns(run.result if run.status == "succeeded" else None)
            for name, value in columns.items():
                setattr(run, name, value)
            run.wall_seconds = wall_seconds(run.started_at, run.finished_at)
        TrainingRun.objects.bulk_update(batch, COLUMNS)


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0021_i25b_leaderboard_columns"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
