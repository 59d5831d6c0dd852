# Profile descriptions are bounded (5,000 characters); profiles carry a version (a save over a newer one is refused); runs carry the key that names their artifacts
# folder (runs/<id>-<key>), distinct per row, so a reused id never finds another run's files; a run part can be
# cancelled with its run.

import uuid

import django.core.validators
from django.db import migrations, models


def give_each_run_its_key(apps, schema_editor):
    TrainingRun = apps.get_model("training", "TrainingRun")
    for pk in TrainingRun.objects.values_list("pk", flat=True).iterator():
        TrainingRun.objects.filter(pk=pk).update(artifacts_key=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0012_merge_i21_i24"),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalregularizationprofile",
            name="description",
            field=models.TextField(
                blank=True, max_length=5000, validators=[django.core.validators.MaxLengthValidator(5000)]
            ),
        ),
        migrations.AlterField(
            model_name="regularizationprofile",
            name="description",
            field=models.TextField(
                blank=True, max_length=5000, validators=[django.core.validators.MaxLengthValidator(5000)]
            ),
        ),
        migrations.AddField(
            model_name="historicalregularizationprofile",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.AddField(
            model_name="regularizationprofile",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.AddField(
            model_name="trainingrun",
            name="artifacts_key",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_run_its_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="trainingrun",
            name="artifacts_key",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="runpart",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("succeeded", "Succeeded"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                ],
                default="queued",
                max_length=16,
            ),
        ),
    ]
