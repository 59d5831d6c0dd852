"""Profile names unique ignoring case (existing clashes are renamed "<name> (2)", … first); candles lose their
separate dataset_id index (the unique (dataset, open_time) index serves it; bulk imports are faster)."""

import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models


def rename_case_clashes(apps, schema_editor):
    Profile = apps.get_model("training", "RegularizationProfile")
    seen: set[str] = set()
    for profile in Profile.objects.order_by("pk"):
        name, n = profile.name, 2
        while name.lower() in seen:
            name, n = f"{profile.name[:90]} ({n})", n + 1
        seen.add(name.lower())
        if name != profile.name:
            profile.name = name
            profile.save(update_fields=["name"])


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0007_sweeps"),
    ]

    operations = [
        migrations.RunPython(rename_case_clashes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="candle",
            name="dataset",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="candles",
                to="training.marketdataset",
            ),
        ),
        migrations.AddConstraint(
            model_name="regularizationprofile",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                name="profile_name_unique_ignoring_case",
                violation_error_message="A profile with this name already exists (names are compared ignoring case).",
            ),
        ),
    ]
