from django.core.management.base import BaseCommand

from training.services.market_data import dataset_load_sample


class Command(BaseCommand):
    help = (
        "Load the bundled offline sample (real Bitfinex BTC/USD hourly candles 2017-2019, see data/sample/README.md) "
        "as BINANCE:BTCUSDT 1h. Idempotent; never overwrites real candles."
    )

    def handle(self, *args, **options):
        message, report = dataset_load_sample()
        self.stdout.write(message)
        if report is not None:
            self.stdout.write(report.as_text())
