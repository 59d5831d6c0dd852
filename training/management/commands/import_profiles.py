from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from training.services.profiles import profile_import


class Command(BaseCommand):
    help = (
        "Import regularization profiles from a JSON file written by export_profiles (all or nothing). A profile whose "
        "name exists already (ignoring case) is refused unless --replace."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the JSON file, or - for stdin")
        parser.add_argument("--replace", action="store_true", help="overwrite existing profiles of the same name")

    def handle(self, *args, file, replace, **options):
        try:
            data = self.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        try:
            profiles = profile_import(data=data, replace=replace)
        except ValidationError as exc:
            raise CommandError(f"{file}: nothing imported:\n" + "\n".join(exc.messages)) from exc
        self.stdout.write(f"Imported {len(profiles)} profile(s): {', '.join(p.name for p in profiles)}")
