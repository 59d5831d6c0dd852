"""python manage.py predict BTCUSDT [--exchange BINANCE] [--interval 1h] [--run ID]: the prediction for the
latest stored bar, as the API answers it (JSON), logged once per bar like the API's."""

import json

from django.core.management.base import BaseCommand, CommandError

from training.ml.predict import ModelUnavailable, PredictionError
from training.models import TrainingRun
from training.selectors.predictions import NoCandles
from training.selectors.registry import ActiveModelNotFound, active_model_get
from training.services.predictions import SOURCE_CLI, prediction_serve

MSG_NO_RUN = "No succeeded run #{pk} of {market}."


class Command(BaseCommand):
    help = "Predict the latest stored bar of a market with its active model (or --run ID)."

    def add_arguments(self, parser):
        parser.add_argument("symbol")
        parser.add_argument("--exchange", default="BINANCE")
        parser.add_argument("--interval", default="1h")
        parser.add_argument(
            "--run", type=int, default=None, help="a succeeded run of the market instead of the active one"
        )

    def handle(self, *args, symbol, exchange, interval, run, **options):
        symbol, exchange = symbol.strip().upper(), exchange.strip().upper()
        try:
            if run is None:
                target = active_model_get(exchange=exchange, symbol=symbol, interval=interval).run
            else:
                target = TrainingRun.objects.filter(
                    pk=run, exchange=exchange, symbol=symbol, interval=interval, status=TrainingRun.Status.SUCCEEDED
                ).first()
                if target is None:
                    raise CommandError(MSG_NO_RUN.format(pk=run, market=f"{exchange}:{symbol} {interval}"))
            prediction = prediction_serve(run=target, source=SOURCE_CLI)
        except (ActiveModelNotFound, NoCandles, ModelUnavailable, PredictionError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(prediction, indent=2))
