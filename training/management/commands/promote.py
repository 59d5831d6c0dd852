"""python manage.py promote RUN_ID [--force --reason TEXT]: make a succeeded run the active model of its market.

A run that fails a promotion check is refused (the failed checks are printed); ``--force`` with a written
``--reason`` overrides, and the promotion records the checks it overrode."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from training.models import TrainingRun
from training.services.registry import MSG_REASON_REQUIRED, PromotionRefused, market_label, model_promote

MSG_NO_RUN = "No run #{pk}."
MSG_PROMOTED = "Run #{run} is now the active model of {market} (replaced: {replaced})."
MSG_OVERRIDDEN = "Overrode failed checks: {checks}."
MSG_USE_FORCE = "Use --force --reason TEXT to promote it anyway."


class Command(BaseCommand):
    help = "Promote a succeeded run to the active model of its (exchange, symbol, interval)."

    def add_arguments(self, parser):
        parser.add_argument("run_id", type=int)
        parser.add_argument("--reason", default="")
        parser.add_argument("--force", action="store_true", help="override failed promotion checks (needs --reason)")

    def handle(self, *args, run_id, reason, force, **options):
        run = TrainingRun.objects.filter(pk=run_id).first()
        if run is None:
            raise CommandError(MSG_NO_RUN.format(pk=run_id))
        if force and not reason.strip():
            raise CommandError(MSG_REASON_REQUIRED)
        try:
            promotion = model_promote(run=run, trigger=TrainingRun.Trigger.CLI, reason=reason, force=force)
        except PromotionRefused as refused:
            lines = [refused.messages[0], *(f"  FAILED {c.key}: {c.detail}" for c in refused.failed), MSG_USE_FORCE]
            raise CommandError("\n".join(lines)) from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        market = market_label(run.exchange, run.symbol, run.interval)
        replaced = f"run #{promotion.replaced_id}" if promotion.replaced_id else "none"
        self.stdout.write(MSG_PROMOTED.format(run=run.pk, market=market, replaced=replaced))
        if promotion.overridden:
            self.stdout.write(MSG_OVERRIDDEN.format(checks=", ".join(c["key"] for c in promotion.failed_checks)))
