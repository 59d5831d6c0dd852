from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from training.selectors.profiles import profile_list
from training.services.profiles import profile_export_json

MSG_UNKNOWN_NAMES = "No profile named {names}."


class Command(BaseCommand):
    help = "Export regularization profiles as JSON (all, or the NAMES given) to stdout or --output FILE."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", metavar="NAME")
        parser.add_argument("--output", "-o", help="file to write instead of stdout")

    def handle(self, *args, names, output, **options):
        profiles = list(profile_list(names=names))
        missing = sorted(set(names) - {p.name for p in profiles})
        if missing:
            raise CommandError(MSG_UNKNOWN_NAMES.format(names=", ".join(missing)))
        text = profile_export_json(profiles=profiles)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {len(profiles)} profile(s) to {output}")
        else:
            self.stdout.write(text, ending="")
