from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from training.services.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore an archive written by `manage.py backup`: every digest is checked first (a mismatch restores "
        "nothing), then the database is replaced, the artifacts restored into the store (a local folder is swapped, "
        "the old one moved aside; an S3 store gets every object written and read back with its digest) and "
        "migrations applied. Stop `make run` first."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive")

    def handle(self, *args, archive, **options):
        try:
            report = backup_restore(archive=archive)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from None
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(report.as_text())
