"""python manage.py rollback BTCUSDT [--exchange BINANCE] [--interval 1h] [--reason TEXT]: make the previously
active run of a market active again (past the first promotion: no active model)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from training.services.registry import model_rollback, rollback_message


class Command(BaseCommand):
    help = "Roll the active model of a market back to the run it replaced."

    def add_arguments(self, parser):
        parser.add_argument("symbol")
        parser.add_argument("--exchange", default="BINANCE")
        parser.add_argument("--interval", default="1h")
        parser.add_argument("--reason", default="")

    def handle(self, *args, symbol, exchange, interval, reason, **options):
        try:
            promotion = model_rollback(exchange=exchange, symbol=symbol, interval=interval, reason=reason)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(rollback_message(promotion))
