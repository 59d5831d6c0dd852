from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from training.services.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Write the database and every object of the artifact store (STORAGES['artifacts']) into one .tar.gz "
        "archive with a manifest of sha256 digests."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", default=None, help="the archive to write (default: var/backups/ares-<UTC time>.tar.gz)"
        )

    def handle(self, *args, output=None, **options):
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        path = Path(output) if output else Path(settings.BASE_DIR) / "var" / "backups" / f"ares-{stamp}.tar.gz"
        try:
            report = backup_create(output=path)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(report.as_text())
