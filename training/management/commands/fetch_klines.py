from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from training.marketdata.client import FetchError
from training.marketdata.errors import CandleFileError
from training.services.market_data import dataset_fetch_klines


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class Command(BaseCommand):
    help = "Fetch the closed candles missing in a range from Binance's public /api/v3/klines (BINANCE_API_URL)."

    def add_arguments(self, parser):
        parser.add_argument("symbol")
        parser.add_argument("--interval", default="1h")
        parser.add_argument("--start", required=True, type=_utc, help="UTC date or time, e.g. 2024-01-01")
        parser.add_argument("--end", type=_utc, help="UTC date or time (default: the last closed candle)")
        parser.add_argument("--exchange", default="BINANCE")
        parser.add_argument("--max-attempts", type=int, default=5, help="Tries per request on HTTP 429/418/5xx.")
        parser.add_argument("--max-wait", type=float, default=30.0, help="Longest wait between tries (s).")

    def handle(self, *args, **options):
        try:
            report = dataset_fetch_klines(
                symbol=options["symbol"],
                interval=options["interval"],
                start=options["start"],
                end=options["end"],
                exchange=options["exchange"],
                max_attempts=options["max_attempts"],
                max_wait_seconds=options["max_wait"],
            )
        except (FetchError, CandleFileError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(report.as_text())
