from django.core.management.base import BaseCommand

from training.marketdata.sample import SAMPLE_INTERVALS
from training.services.market_data import dataset_load_sample


class Command(BaseCommand):
    help = (
        "Load the bundled offline sample (real Bitfinex BTC/USD hourly candles 2017-2019, see data/sample/README.md) "
        "as BINANCE:BTCUSDT 1h, and resampled to 4-hour candles as BINANCE:BTCUSDT 4h (a second demo market). "
        "Idempotent; never overwrites real candles."
    )

    def handle(self, *args, **options):
        for interval in SAMPLE_INTERVALS:
            message, report = dataset_load_sample(interval=interval)
            self.stdout.write(message)
            if report is not None:
                self.stdout.write(report.as_text())
