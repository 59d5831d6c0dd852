"""Runs keep keys relative to the artifact store's root (issue 27): absolute host paths become keys, and a run
part records the digests of its files in the store."""

from pathlib import PurePosixPath

from django.conf import settings
from django.db import migrations, models

RUNS_FOLDER = "runs"


def path_to_key(path: str, root: str) -> str:
    """``<root>/runs/<id>-<uuid>`` (or any path whose folder sits in a ``runs`` folder) → ``runs/<id>-<uuid>``;
    anything else is kept as it is (read as a path outside the store)."""
    if not path.startswith("/"):
        return path
    root = root.rstrip("/")
    if root and path.startswith(root + "/"):
        return path[len(root) + 1 :]
    parts = PurePosixPath(path).parts
    if len(parts) >= 2 and parts[-2] == RUNS_FOLDER:
        return f"{RUNS_FOLDER}/{parts[-1]}"
    return path


def forwards(apps, schema_editor):
    TrainingRun = apps.get_model("training", "TrainingRun")
    root = str(settings.ARTIFACTS_DIR)
    for pk, path in TrainingRun.objects.exclude(artifacts_path="").values_list("pk", "artifacts_path"):
        key = path_to_key(path, root)
        if key != path:
            TrainingRun.objects.filter(pk=pk).update(artifacts_path=key)


def backwards(apps, schema_editor):
    TrainingRun = apps.get_model("training", "TrainingRun")
    root = str(settings.ARTIFACTS_DIR).rstrip("/")
    for pk, key in TrainingRun.objects.exclude(artifacts_path="").values_list("pk", "artifacts_path"):
        if not key.startswith("/"):
            TrainingRun.objects.filter(pk=pk).update(artifacts_path=f"{root}/{key}")


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0014_i20_sweep_seeds_objective"),
    ]

    operations = [
        migrations.AddField(
            model_name="runpart",
            name="files",
            field=models.JSONField(blank=True, default=dict, help_text="{name: sha256} of the part's files in the store"),
        ),
        migrations.AlterField(
            model_name="trainingrun",
            name="artifacts_path",
            field=models.CharField(
                blank=True, help_text="key of the run's folder in the artifact store (runs/<id>-<key>)", max_length=500
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
