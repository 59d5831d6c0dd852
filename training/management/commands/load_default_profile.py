from django.core.management.base import BaseCommand

from training.services.profiles import profile_ensure_default


class Command(BaseCommand):
    help = "Create the default regularization profile from settings when no profile is the default (idempotent)."

    def handle(self, *args, **options):
        profile, created = profile_ensure_default()
        verb = "Created" if created else "Kept"
        self.stdout.write(
            f"{verb} default profile “{profile.name}” (l1_alpha={profile.l1_alpha:g}, "
            f"l2_alpha={profile.l2_alpha:g}, dropout_rate={profile.dropout_rate:g})."
        )
