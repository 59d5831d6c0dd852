import gzip
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from tests.training.market_data_files import SAMPLE_ROWS, csv_text, small_datasets_allowed, zipped  # noqa: F401 (fixture)
from training.models import Candle, MarketDataset

SAMPLE_4H_ROWS = 4_395  # complete 4-hour buckets of the sample (tests/training/marketdata/test_sample.py)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_datasets_allowed")]


def test_import_klines_prints_the_report(tmp_path):
    path = tmp_path / "BTCUSDT-1h-2024-01-01.zip"
    path.write_bytes(zipped(csv_text(unit="us")))
    out = StringIO()
    call_command(
        "import_klines", str(path), "--symbol", "BTCUSDT", "--exchange", "BINANCE", "--interval", "1h", stdout=out
    )
    text = out.getvalue()
    assert "Imported BTCUSDT-1h-2024-01-01.zip into BINANCE:BTCUSDT 1h" in text
    assert "rows read: 6" in text and "stored: 6" in text and "gaps: 0" in text
    assert Candle.objects.count() == 6


def test_import_klines_fails_with_the_messages(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(csv_text().replace("42554.57000000", "42000.00000000"))
    with pytest.raises(CommandError) as caught:
        call_command("import_klines", str(path), "--symbol", "BTCUSDT", "--interval", "1h")
    assert str(caught.value) == (
        "Import refused, nothing was stored:\nbad.csv: line 1, column high: high 42000.0 is below low 42261.02"
    )
    assert not MarketDataset.objects.exists()


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("cut.csv.gz", gzip.compress(csv_text().encode())[:-20], "cut.csv.gz: the gzip file is truncated or corrupt"),
        ("bad.zip", b"PK\x03\x04" + b"\x00" * 40, "bad.zip: the zip file is truncated or corrupt"),
    ],
)
def test_import_klines_refuses_broken_archives_with_a_message(tmp_path, name, data, expected):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CommandError) as caught:
        call_command("import_klines", str(path), "--symbol", "BTCUSDT", "--interval", "1h")
    assert str(caught.value).startswith(f"Import refused, nothing was stored:\n{expected}")
    assert not MarketDataset.objects.exists()


def test_import_klines_refuses_a_too_short_dataset(tmp_path, settings):
    settings.MARKET_DATA_MIN_CANDLES = 7
    path = tmp_path / "six.csv"
    path.write_text(csv_text())
    with pytest.raises(CommandError, match=r"BINANCE:BTCUSDT 1h would hold 6 candle\(s\); a dataset needs at least 7"):
        call_command("import_klines", str(path), "--symbol", "BTCUSDT", "--interval", "1h")
    assert not MarketDataset.objects.exists()


def test_fetch_klines_without_network_fails_clearly(closed_port_url):
    with override_settings(BINANCE_API_URL=closed_port_url):
        with pytest.raises(CommandError, match=r"Cannot reach Binance at http://127\.0\.0\.1:\d+/api/v3/klines"):
            call_command("fetch_klines", "BTCUSDT", "--interval", "1h", "--start", "2024-01-01")
    assert not MarketDataset.objects.exists()


def test_fetch_klines_stores_from_the_configured_url(binance_server):
    out = StringIO()
    with override_settings(BINANCE_API_URL=binance_server.url):
        call_command(
            "fetch_klines",
            "BTCUSDT",
            "--interval",
            "1h",
            "--start",
            "2017-07-01T11:00",
            "--end",
            "2017-07-02",
            stdout=out,
        )
    assert "stored: 14" in out.getvalue()
    assert MarketDataset.objects.get().row_count == 14


def test_load_sample_data_is_idempotent():
    out = StringIO()
    call_command("load_sample_data", stdout=out)
    call_command("load_sample_data", stdout=out)
    assert "Loaded the offline sample into BINANCE:BTCUSDT 1h." in out.getvalue()
    assert "Loaded the offline sample into BINANCE:BTCUSDT 4h." in out.getvalue()
    assert out.getvalue().count("already loaded") == 2
    hourly, four_hourly = MarketDataset.objects.order_by("interval")
    assert Candle.objects.filter(dataset=hourly).count() == SAMPLE_ROWS == hourly.row_count
    assert four_hourly.is_sample and four_hourly.row_count == SAMPLE_4H_ROWS and "Resampled to 4h" in four_hourly.source
    assert four_hourly.first_open_time.hour % 4 == 0 and four_hourly.calendar == "24/7"
