import gzip
import io
import zipfile
from datetime import UTC, datetime

import numpy as np
import pytest
from django.db import IntegrityError, connection

from ares_site import settings as project_settings
from tests.training.market_data_files import SAMPLE_ROWS, csv_text, lines, small_datasets_allowed, variants, with_field  # noqa: F401 (fixture)
from training.marketdata.binance import write_binance_csv
from training.marketdata.candles import fingerprint
from training.marketdata.client import FetchError
from training.marketdata.errors import CandleFileError
from training.marketdata.sample import SAMPLE_FILE, SAMPLE_SOURCE, read_sample
from training.ml.features import MIN_CANDLES
from training.models import Candle, MarketDataset
from training.selectors.market_data import dataset_candle_arrays
from training.services.market_data import (
    MSG_CONFLICT,
    MSG_SAMPLE_PRESENT,
    MSG_SAMPLE_REAL_DATA,
    MSG_TOO_SHORT,
    CandleConflict,
    dataset_fetch_klines,
    dataset_import_file,
    dataset_load_sample,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_datasets_allowed")]
UTC = UTC


def text_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_import_stores_candles_and_reports(tmp_path):
    path = text_file(tmp_path, "BTCUSDT-1h.csv", "\n".join(lines()[:2] + lines()[4:] + [lines()[0]]) + "\n")
    report = dataset_import_file(path_or_file=path, symbol="btcusdt", exchange="binance", interval="1h", source="t")
    dataset = MarketDataset.objects.get()
    assert (dataset.exchange, dataset.symbol, dataset.interval, dataset.source) == ("BINANCE", "BTCUSDT", "1h", "t")
    assert (report.rows_read, report.rows_stored, report.rows_skipped) == (5, 4, 1)
    assert Candle.objects.filter(dataset=dataset).count() == dataset.row_count == 4
    assert dataset.first_open_time == datetime(2024, 1, 1, 0, tzinfo=UTC)
    assert dataset.last_open_time == datetime(2024, 1, 1, 5, tzinfo=UTC)
    assert (dataset.gap_count, dataset.largest_gap) == (1, 2)
    assert dataset.gaps == [{"after": "2024-01-01 01:00:00", "before": "2024-01-01 04:00:00", "missing": 2}]
    text = report.as_text()
    for expected in (
        "rows read: 5",
        "stored: 4",
        "skipped: 1",
        "gaps: 1, largest 2 missing candles",
        "2024-01-01 00:00 to 2024-01-01 05:00 UTC",
    ):
        assert expected in text
    stored = dataset_candle_arrays(dataset.pk)
    assert fingerprint(stored) == dataset.fingerprint
    assert stored.trades.tolist() == [47134, 43965, 28711, 24817]


def test_every_file_variant_stores_identical_candles_and_fingerprints():
    fingerprints = set()
    frames = []
    for i, (name, data) in enumerate(variants().items()):
        report = dataset_import_file(
            path_or_file=data, name=name, symbol=f"V{i}USDT", exchange="BINANCE", interval="1h"
        )
        fingerprints.add(report.dataset.fingerprint)
        frames.append(dataset_candle_arrays(report.dataset.pk))
    assert len(fingerprints) == 1
    for frame in frames[1:]:
        for column in ("open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades"):
            np.testing.assert_array_equal(getattr(frame, column), getattr(frames[0], column))


def test_overlapping_import_merges(tmp_path):
    first = dataset_import_file(
        path_or_file=text_file(tmp_path, "a.csv", "\n".join(lines()[:4]) + "\n"), symbol="BTCUSDT", interval="1h"
    )
    second = dataset_import_file(
        path_or_file=text_file(tmp_path, "b.csv", "\n".join(lines()[2:]) + "\n"), symbol="BTCUSDT", interval="1h"
    )
    whole = dataset_import_file(path_or_file=csv_text().encode(), name="all.csv", symbol="CHECKUSDT", interval="1h")
    dataset = MarketDataset.objects.get(symbol="BTCUSDT")
    assert (first.rows_stored, second.rows_stored, second.already_stored) == (4, 2, 2)
    assert dataset.row_count == 6 and dataset.gap_count == 0
    assert dataset.fingerprint == whole.dataset.fingerprint


def test_conflicting_rows_refuse_the_import_and_store_nothing(tmp_path):
    dataset_import_file(
        path_or_file=text_file(tmp_path, "a.csv", "\n".join(lines()[:4]) + "\n"), symbol="BTCUSDT", interval="1h"
    )
    before = MarketDataset.objects.get()
    changed = lines()[3].replace("42330.49000000", "42330.50000000")
    path = text_file(tmp_path, "b.csv", "\n".join(lines()[2:3] + [changed] + lines()[4:]) + "\n")
    with pytest.raises(CandleConflict) as caught:
        dataset_import_file(path_or_file=path, symbol="BTCUSDT", interval="1h")
    assert caught.value.messages == [
        "b.csv: line 2, column close: "
        + MSG_CONFLICT.format(time="2024-01-01 03:00:00", dataset="BINANCE:BTCUSDT 1h", stored=42330.49, new=42330.5)
    ]
    after = MarketDataset.objects.get()
    assert Candle.objects.count() == after.row_count == 4
    assert (after.fingerprint, after.last_open_time) == (before.fingerprint, before.last_open_time)


def test_bad_file_creates_nothing(tmp_path):
    path = text_file(tmp_path, "bad.csv", csv_text().replace("42581.10000000", "nope"))
    with pytest.raises(CandleFileError, match=r"bad.csv: line 3, column close: cannot read 'nope' as a number"):
        dataset_import_file(path_or_file=path, symbol="BTCUSDT", interval="1h")
    assert not MarketDataset.objects.exists() and not Candle.objects.exists()


def test_bad_symbol_is_refused():
    with pytest.raises(ValueError, match="Symbol 'BTC/USDT' is not valid"):
        dataset_import_file(path_or_file=csv_text().encode(), symbol="BTC/USDT", interval="1h")


def test_a_symbol_that_upper_casing_would_change_is_refused_not_renamed(tmp_path):
    from django.core.management import CommandError, call_command

    from training.models import MarketDataset
    from training.services.market_data import MSG_SYMBOL_NOT_ASCII

    with pytest.raises(ValueError) as refused:
        dataset_import_file(path_or_file=csv_text().encode(), symbol="straße", interval="1h")
    assert str(refused.value) == MSG_SYMBOL_NOT_ASCII.format(given="straße", upper="STRASSE")
    path = tmp_path / "k.csv"
    path.write_text(csv_text())
    with pytest.raises(CommandError, match="would silently become 'STRASSE'"):
        call_command("import_klines", str(path), "--symbol", "straße")
    assert not MarketDataset.objects.exists()


def test_offline_sample_loads_complete_and_idempotent():
    message, report = dataset_load_sample()
    dataset = MarketDataset.objects.get()
    assert (dataset.exchange, dataset.symbol, dataset.interval, dataset.is_sample) == ("BINANCE", "BTCUSDT", "1h", True)
    assert dataset.source == SAMPLE_SOURCE and "Bitfinex BTC/USD" in dataset.source and "Apache-2.0" in dataset.source
    assert dataset.row_count == Candle.objects.count() == SAMPLE_ROWS
    assert dataset.first_open_time == datetime(2017, 7, 1, 11, tzinfo=UTC)
    assert dataset.last_open_time == datetime(2019, 7, 4, 1, tzinfo=UTC)
    assert (dataset.gap_count, dataset.gaps) == (0, [])
    assert report.rows_stored == SAMPLE_ROWS
    assert dataset.fingerprint == fingerprint(read_sample())
    again, report = dataset_load_sample()
    assert again == MSG_SAMPLE_PRESENT.format(dataset=dataset) and report is None
    assert Candle.objects.count() == SAMPLE_ROWS
    assert SAMPLE_FILE.stat().st_size < 1_000_000


def test_real_import_replaces_the_sample_and_the_sample_never_overwrites_real_data():
    dataset_load_sample()
    report = dataset_import_file(
        path_or_file=csv_text().encode(),
        name="real.csv",
        symbol="BTCUSDT",
        interval="1h",
        source="Binance data.binance.vision",
    )
    dataset = MarketDataset.objects.get()
    assert report.replaced_sample and not dataset.is_sample
    assert dataset.row_count == Candle.objects.count() == 6 and dataset.source == "Binance data.binance.vision"
    message, report = dataset_load_sample()
    assert message.startswith(MSG_SAMPLE_REAL_DATA.split("{dataset}")[0]) and "already holds real candles" in message
    assert report is None and Candle.objects.count() == 6


# --- fetcher against a local HTTP server -------------------------------------------------------------------

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def fetch(server, **kwargs):
    options = dict(
        symbol="BTCUSDT", interval="1h", base_url=server.url, now=NOW, backoff_seconds=0.01, sleep=lambda s: None
    )
    options.update(kwargs)
    return dataset_fetch_klines(**options)


def test_fetch_pages_through_and_stores(binance_server):
    report = fetch(binance_server, start=datetime(2017, 7, 1, tzinfo=UTC), end=datetime(2017, 9, 30, 23, tzinfo=UTC))
    dataset = MarketDataset.objects.get()
    expected = [r for r in binance_server.rows if r[0] <= datetime(2017, 9, 30, 23, tzinfo=UTC).timestamp() * 1000]
    assert dataset.row_count == len(expected) == report.import_report.rows_stored
    assert report.requests == len(binance_server.requests) == 3
    assert [int(q["startTime"]) for q in binance_server.requests] == [
        int(datetime(2017, 7, 1, tzinfo=UTC).timestamp() * 1000),
        expected[1000][0],
        expected[2000][0],
    ]
    assert all(q["limit"] == "1000" and q["interval"] == "1h" for q in binance_server.requests)
    assert dataset.first_open_time == datetime(2017, 7, 1, 11, tzinfo=UTC) and dataset.gap_count == 0
    sample = read_sample()
    stored = dataset_candle_arrays(dataset.pk)
    np.testing.assert_array_equal(stored.close, sample.close[: len(expected)])


def test_fetch_requests_only_what_is_missing(binance_server):
    fetch(binance_server, start=datetime(2017, 7, 10, tzinfo=UTC), end=datetime(2017, 7, 20, tzinfo=UTC))
    binance_server.requests.clear()
    report = fetch(binance_server, start=datetime(2017, 7, 1, tzinfo=UTC), end=datetime(2017, 7, 25, tzinfo=UTC))
    starts = sorted(int(q["startTime"]) for q in binance_server.requests)
    ends = sorted(int(q["endTime"]) for q in binance_server.requests)
    assert starts == [
        int(datetime(2017, 7, 1, tzinfo=UTC).timestamp() * 1000),
        int(datetime(2017, 7, 20, 1, tzinfo=UTC).timestamp() * 1000),
    ]
    assert ends == [
        int(datetime(2017, 7, 9, 23, tzinfo=UTC).timestamp() * 1000),
        int(datetime(2017, 7, 25, tzinfo=UTC).timestamp() * 1000),
    ]
    dataset = MarketDataset.objects.get()
    assert dataset.gap_count == 0 and report.import_report.already_stored == 0
    assert dataset.last_open_time == datetime(2017, 7, 25, tzinfo=UTC)
    binance_server.requests.clear()
    again = fetch(binance_server, start=datetime(2017, 7, 2, tzinfo=UTC), end=datetime(2017, 7, 24, tzinfo=UTC))
    assert binance_server.requests == [] and again.import_report is None


def test_fetch_retries_429_and_5xx_honouring_retry_after(binance_server):
    waits = []
    binance_server.errors = [(429, {"Retry-After": "2"}), (503, {})]
    report = fetch(
        binance_server,
        start=datetime(2017, 7, 1, tzinfo=UTC),
        end=datetime(2017, 7, 2, tzinfo=UTC),
        sleep=waits.append,
        backoff_seconds=0.5,
    )
    assert waits == [2.0, 1.0]
    assert report.retries == 2 and MarketDataset.objects.get().row_count == 14


def test_fetch_gives_up_with_a_clear_error_and_stores_nothing(binance_server):
    binance_server.errors = [(500, {})] * 3
    waits = []
    with pytest.raises(FetchError, match=r"Binance answered HTTP 500 3 times in a row .*gave up, nothing was stored"):
        fetch(
            binance_server,
            start=datetime(2017, 7, 1, tzinfo=UTC),
            end=datetime(2017, 7, 2, tzinfo=UTC),
            max_attempts=3,
            backoff_seconds=0.5,
            max_wait_seconds=1.5,
            sleep=waits.append,
        )
    assert waits == [0.5, 1.0]
    assert not MarketDataset.objects.exists()


def test_fetch_failing_on_a_later_page_stores_nothing(binance_server):
    rows = binance_server.rows
    binance_server.rows = rows[:1000]
    original = binance_server.answer

    def second_page_fails(query):
        if binance_server.requests:
            binance_server.errors = [(502, {})]
        return original(query)

    binance_server.answer = second_page_fails
    with pytest.raises(FetchError, match="HTTP 502"):
        fetch(
            binance_server,
            start=datetime(2017, 7, 1, tzinfo=UTC),
            end=datetime(2017, 10, 1, tzinfo=UTC),
            max_attempts=2,
        )
    assert not Candle.objects.exists()


def test_fetch_unknown_symbol_reports_binance_message(binance_server):
    with pytest.raises(FetchError, match=r"HTTP 400 .*Invalid symbol"):
        fetch(binance_server, symbol="NOPEUSDT", start=datetime(2017, 7, 1, tzinfo=UTC))


def test_fetch_closed_port_fails_at_once_and_clearly(closed_port_url):
    with pytest.raises(FetchError) as caught:
        dataset_fetch_klines(
            symbol="BTCUSDT", interval="1h", start=datetime(2024, 1, 1, tzinfo=UTC), base_url=closed_port_url
        )
    assert str(caught.value) == (
        f"Cannot reach Binance at {closed_port_url}/api/v3/klines: connection refused. "
        "Check the network or BINANCE_API_URL; nothing was stored."
    )
    assert not MarketDataset.objects.exists()


def test_fetch_only_knows_binance():
    with pytest.raises(FetchError, match="only knows Binance"):
        dataset_fetch_klines(symbol="BTCUSDT", interval="1h", start=datetime(2024, 1, 1, tzinfo=UTC), exchange="KRAKEN")


# --- refusals: each bad input gives its message and stores nothing ------------------------------------------


def two_member_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("2024-01.csv", csv_text())
        archive.writestr("2024-02.csv", csv_text())
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        (
            "y2317.csv",
            lambda: with_field(2, 0, "10950249600000"),
            "y2317.csv: line 3, column open_time: open time 2317",
        ),
        (
            "y1922.csv",
            lambda: with_field(4, 0, "-1514764800000"),
            "y1922.csv: line 5, column open_time: open time 1922",
        ),
        ("max.csv", lambda: with_field(3, 4, "1e308"), "max.csv: line 4, column close: price 1e+308 is above"),
        ("cut.csv.gz", lambda: gzip.compress(csv_text().encode())[:-9], "cut.csv.gz: the gzip file is truncated"),
        ("two.zip", two_member_zip, "two.zip: the zip archive holds 2 CSV files (2024-01.csv, 2024-02.csv)"),
    ],
)
def test_bad_inputs_are_refused_with_their_message(name, data, expected):
    content = data()
    with pytest.raises(CandleFileError) as caught:
        dataset_import_file(
            path_or_file=content.encode() if isinstance(content, str) else content, name=name, symbol="BTCUSDT"
        )
    assert caught.value.messages[0].startswith(expected)
    assert not MarketDataset.objects.exists() and not Candle.objects.exists()


def test_the_default_minimum_is_the_engines_warm_up():
    assert project_settings.MARKET_DATA_MIN_CANDLES == MIN_CANDLES


def test_a_dataset_shorter_than_the_minimum_is_refused_but_appending_to_a_long_one_is_not(settings):
    settings.MARKET_DATA_MIN_CANDLES = project_settings.MARKET_DATA_MIN_CANDLES
    with pytest.raises(CandleFileError) as caught:
        dataset_import_file(path_or_file=lines()[0].encode(), name="one.csv", symbol="BTCUSDT")
    assert caught.value.messages == [
        "one.csv: line 1, column -: " + MSG_TOO_SHORT.format(dataset="BINANCE:BTCUSDT 1h", count=1, minimum=MIN_CANDLES)
    ]
    assert not MarketDataset.objects.exists()
    long = write_binance_csv(read_sample().take(slice(0, MIN_CANDLES)))
    dataset_import_file(path_or_file=long.encode(), name="long.csv", symbol="BTCUSDT")
    after = write_binance_csv(read_sample().take(slice(MIN_CANDLES, MIN_CANDLES + 1)))
    report = dataset_import_file(path_or_file=after.encode(), name="one-more.csv", symbol="BTCUSDT")
    assert report.rows_stored == 1 and report.dataset.row_count == MIN_CANDLES + 1


# --- chunked writes -------------------------------------------------------------------------------------------


def test_a_chunked_import_stores_the_same_dataset(settings):
    whole = dataset_import_file(path_or_file=csv_text().encode(), name="whole.csv", symbol="ONEUSDT")
    settings.MARKET_DATA_INSERT_CHUNK_ROWS = 2
    dataset_import_file(path_or_file=("\n".join(lines()[:2]) + "\n").encode(), name="a.csv", symbol="TWOUSDT")
    report = dataset_import_file(path_or_file=csv_text().encode(), name="b.csv", symbol="TWOUSDT", source="b")
    assert (report.rows_stored, report.already_stored) == (4, 2)
    assert report.dataset.fingerprint == whole.dataset.fingerprint and report.dataset.row_count == 6
    assert report.dataset.source == "file a.csv\nb"
    assert Candle.objects.filter(dataset=report.dataset).count() == 6


@pytest.fixture
def failing_insert(transactional_db):
    """A real database failure (an SQLite trigger) when the candle of 2024-01-01 05:00 is inserted."""
    if connection.vendor != "sqlite":
        pytest.skip("the trigger is written for SQLite")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TRIGGER fail_at_five BEFORE INSERT ON training_candle WHEN NEW.open_time = '2024-01-01 05:00:00' "
            "BEGIN SELECT RAISE(ABORT, 'disk full (test trigger)'); END"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER fail_at_five")


def test_a_failed_chunked_import_removes_what_it_wrote(failing_insert, settings):
    settings.MARKET_DATA_INSERT_CHUNK_ROWS = 2
    with pytest.raises(IntegrityError, match="disk full"):
        dataset_import_file(path_or_file=csv_text().encode(), name="new.csv", symbol="BTCUSDT")
    assert not MarketDataset.objects.exists() and not Candle.objects.exists()
    first = dataset_import_file(path_or_file=("\n".join(lines()[:2]) + "\n").encode(), name="a.csv", symbol="BTCUSDT")
    with pytest.raises(IntegrityError, match="disk full"):
        dataset_import_file(path_or_file=csv_text().encode(), name="b.csv", symbol="BTCUSDT")
    dataset = MarketDataset.objects.get()
    assert (dataset.row_count, dataset.fingerprint) == (2, first.dataset.fingerprint)
    assert Candle.objects.count() == 2 and dataset.source == "file a.csv"


def test_a_failed_chunked_import_over_the_sample_loads_the_sample_again(failing_insert, settings):
    dataset_load_sample()
    sample = MarketDataset.objects.get()
    settings.MARKET_DATA_INSERT_CHUNK_ROWS = 2
    with pytest.raises(IntegrityError, match="disk full"):
        dataset_import_file(path_or_file=csv_text().encode(), name="real.csv", symbol="BTCUSDT")
    dataset = MarketDataset.objects.get()
    assert dataset.is_sample and dataset.source == SAMPLE_SOURCE
    assert (dataset.row_count, dataset.fingerprint) == (SAMPLE_ROWS, sample.fingerprint)
    assert Candle.objects.count() == SAMPLE_ROWS
