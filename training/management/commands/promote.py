"""python manage.py promote RUN_ID [--reason TEXT]: make a succeeded run the active model of its market."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from training.models import TrainingRun
from training.services.registry import market_label, model_promote

MSG_NO_RUN = "No run #{pk}."
MSG_PROMOTED = "Run #{run} is now the active model of {market} (replaced: {replaced})."


class Command(BaseCommand):
    help = "Promote a succeeded run to the active model of its (exchange, symbol, interval)."

    def add_arguments(self, parser):
        parser.add_argument("run_id", type=int)
        parser.add_argument("--reason", default="")

    def handle(self, *args, run_id, reason, **options):
        run = TrainingRun.objects.filter(pk=run_id).first()
        if run is None:
            raise CommandError(MSG_NO_RUN.format(pk=run_id))
        try:
            promotion = model_promote(run=run, trigger=TrainingRun.Trigger.CLI, reason=reason)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        market = market_label(run.exchange, run.symbol, run.interval)
        replaced = f"run #{promotion.replaced_id}" if promotion.replaced_id else "none"
        self.stdout.write(MSG_PROMOTED.format(run=run.pk, market=market, replaced=replaced))
