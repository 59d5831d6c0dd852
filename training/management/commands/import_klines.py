from django.core.management.base import BaseCommand, CommandError

from training.marketdata.errors import CandleFileError
from training.services.market_data import dataset_import_file


class Command(BaseCommand):
    help = "Import a Binance kline CSV (header or not, ms or µs, .zip/.gz) or a plain OHLCV CSV into a dataset."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--symbol", required=True)
        parser.add_argument("--exchange", default="BINANCE")
        parser.add_argument("--interval", default="1h")
        parser.add_argument("--source", default="", help="Where the file comes from (stored on the dataset).")
        parser.add_argument(
            "--calendar",
            default=None,
            help="Market calendar: 24/7, forex or an exchange_calendars code (XNYS, XLON, CMES, ...); default: the "
            "dataset's, or the exchange's (crypto 24/7, FX venues forex, exchange codes their sessions).",
        )

    def handle(self, *args, **options):
        try:
            report = dataset_import_file(
                path_or_file=options["file"],
                symbol=options["symbol"],
                exchange=options["exchange"],
                interval=options["interval"],
                source=options["source"],
                calendar=options["calendar"],
            )
        except CandleFileError as exc:
            raise CommandError(f"Import refused, nothing was stored:\n{exc}") from None
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(report.as_text())
