import gzip
import random

import numpy as np
import pytest

from tests.training.market_data_files import ROWS, csv_text, lines, variants, with_field, zipped
from training.marketdata import csvparse
from training.marketdata.binance import write_binance_csv
from training.marketdata.candles import Candles, find_gaps, fingerprint
from training.marketdata.checks import MSG_CONFLICTING_DUPLICATE
from training.marketdata.csvparse import parse_candle_file, parse_candle_text
from training.marketdata.errors import MAX_KEPT_PROBLEMS, MSG_MORE_PROBLEMS, CandleFileError

NAME = "BTCUSDT-1h.csv"


def parse_error(text: str, interval: str = "1h") -> list[str]:
    with pytest.raises(CandleFileError) as caught:
        parse_candle_text(text, interval=interval, name=NAME)
    return caught.value.messages


def test_every_binance_variant_gives_identical_candles():
    parsed = {name: parse_candle_file(data, interval="1h", name=name) for name, data in variants().items()}
    reference = parsed["BTCUSDT-1h-2024-01-01.csv"].candles
    assert len(reference) == 6
    assert reference.open_time[0] == 1704067200000 and reference.close[0] == 42475.23
    assert reference.trades.tolist() == [r[8] for r in ROWS]
    assert reference.quote_volume[0] == 53957248.9732647
    for name, result in parsed.items():
        assert result.rows_read == 6, name
        for column in Candles.FIELDS:
            np.testing.assert_array_equal(getattr(result.candles, column), getattr(reference, column), err_msg=name)
        assert fingerprint(result.candles) == fingerprint(reference), name


def test_plain_ohlcv_with_iso_and_epoch_times():
    iso = "timestamp,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01 01:00,1.5,2,1,1.8,11\n"
    epoch = "timestamp,open,high,low,close,volume\n1704067200,1,2,0.5,1.5,10\n1704070800,1.5,2,1,1.8,11\n"
    a = parse_candle_text(iso, interval="1h", name="iso.csv").candles
    b = parse_candle_text(epoch, interval="1h", name="epoch.csv").candles
    assert a.open_time.tolist() == b.open_time.tolist() == [1704067200000, 1704070800000]
    assert np.isnan(a.quote_volume).all() and (a.trades == -1).all()
    assert fingerprint(a) == fingerprint(b)


def test_missing_header_column_names_file_line_and_column():
    messages = parse_error("timestamp,open,high,low,close\n2024-01-01,1,2,1,2\n")
    assert messages == [
        f"{NAME}: line 1, column volume: missing column: the header has no 'volume' column "
        "(header: timestamp,open,high,low,close)"
    ]


def test_short_row_is_a_missing_column():
    text = "\n".join(lines()[:2] + [",".join(lines()[2].split(",")[:4])]) + "\n"
    assert parse_error(text) == [f"{NAME}: line 3, column close: missing column: the row has 4 fields; expected 12"]


def test_long_row_is_reported():
    text = "\n".join(lines()[:2] + [lines()[2] + ",7"]) + "\n"
    assert parse_error(text) == [f"{NAME}: line 3, column #13: the row has 13 fields; expected 12"]


@pytest.mark.parametrize(
    ("line", "column", "value", "expected"),
    [
        (1, 4, "4x2.1", "line 2, column close: cannot read '4x2.1' as a number"),
        (2, 0, "yesterday", "line 3, column open_time: cannot read 'yesterday' as a time"),
        (3, 2, "NaN", "line 4, column high: value is NaN"),
        (4, 5, "", "line 5, column volume: missing value"),
        (0, 3, "0", "line 1, column low: price 0.0 is not positive"),
        (5, 1, "-42399.99", "line 6, column open: price -42399.99 is not positive"),
        (1, 2, "42400.00000000", "line 2, column high: high 42400.0 is below low 42431.65"),
        (2, 1, "42700.00", "line 3, column open: 42700.0 is outside [low 42500.0, high 42638.41]"),
        (3, 4, "42000.5", "line 4, column close: 42000.5 is outside [low 42230.08, high 42586.64]"),
        (4, 5, "-1", "line 5, column volume: -1.0 is negative"),
    ],
)
def test_bad_values_name_file_line_and_column(line, column, value, expected):
    assert parse_error(with_field(line, column, value)) == [f"{NAME}: {expected}"]


def test_every_bad_row_is_listed_and_nothing_is_returned():
    text = with_field(1, 4, "x").replace(lines()[4], with_field(4, 2, "1").splitlines()[4])
    messages = parse_error(text)
    assert [m.split(", column")[0] for m in messages] == [f"{NAME}: line 2", f"{NAME}: line 5"]


def test_header_files_report_their_own_column_names():
    text = "timestamp,open,high,low,close,volume\n2024-01-01 00:00,1,2,1,2,3\n2024-01-01 01:00,1,2,1,oops,3\n"
    assert parse_error(text) == [f"{NAME}: line 3, column close: cannot read 'oops' as a number"]
    text = "timestamp,open,high,low,close,volume\n2024-01-01 00:00,1,2,1,2,3\n2024-13-01 01:00,1,2,1,2,3\n"
    assert parse_error(text) == [f"{NAME}: line 3, column timestamp: cannot read '2024-13-01 01:00' as a time"]


def test_conflicting_duplicate_names_both_lines():
    changed = lines()[1].replace("42613.56000000", "42613.57000000")
    messages = parse_error("\n".join(lines() + [changed]) + "\n")
    assert messages == [
        f"{NAME}: line 7, column close: "
        + MSG_CONFLICTING_DUPLICATE.format(
            time="2024-01-01 01:00:00", first=2, column="close", first_value=42613.56, value=42613.57
        )
    ]


def test_identical_duplicates_are_skipped():
    parsed = parse_candle_text("\n".join(lines() + [lines()[2]]) + "\n", interval="1h", name=NAME)
    assert (parsed.rows_read, len(parsed.candles), parsed.duplicates_skipped) == (7, 6, 1)


def test_unsorted_rows_are_sorted_and_reported():
    shuffled = [lines()[i] for i in (0, 3, 1, 2, 5, 4)]
    parsed = parse_candle_text("\n".join(shuffled) + "\n", interval="1h", name=NAME)
    reference = parse_candle_text(csv_text(), interval="1h", name=NAME)
    np.testing.assert_array_equal(parsed.candles.open_time, reference.candles.open_time)
    np.testing.assert_array_equal(parsed.candles.close, reference.candles.close)
    assert parsed.warnings == [
        f"{NAME}: line 3, column open_time: rows are not in time order "
        "(first one out of order: 2024-01-01 01:00:00); they were sorted"
    ]


def test_interval_mismatch_with_declared_interval():
    assert parse_error(csv_text(), interval="4h") == [
        f"{NAME}: line 2, column open_time: candles are 1h apart (the most common step, seen 5 times) "
        "but the declared interval is 4h"
    ]
    assert parse_error(csv_text(), interval="1m")[0].endswith("but the declared interval is 1m")


def test_off_grid_time():
    assert parse_error(with_field(2, 0, "1704074430000")) == [
        f"{NAME}: line 3, column open_time: open time 2024-01-01 02:00:30 is not on the 1h grid"
    ]


def test_empty_file_and_unknown_interval():
    assert parse_error("\n\n") == [f"{NAME}: line 1, column -: the file holds no candles"]
    with pytest.raises(ValueError, match="Unknown interval '7h'"):
        parse_candle_text(csv_text(), interval="7h", name=NAME)


def test_gaps_are_counted_with_the_missing_candles():
    parsed = parse_candle_text("\n".join(lines()[:2] + lines()[4:]) + "\n", interval="1h", name=NAME)
    assert find_gaps(parsed.candles.open_time, 3_600_000) == [
        {"after": "2024-01-01 01:00:00", "before": "2024-01-01 04:00:00", "missing": 2}
    ]


def test_writer_round_trips_exactly():
    candles = parse_candle_text(csv_text(), interval="1h", name=NAME).candles
    for header in (False, True):
        for unit in ("ms", "us"):
            again = parse_candle_text(write_binance_csv(candles, header=header, unit=unit), interval="1h", name="w")
            assert fingerprint(again.candles) == fingerprint(candles)


def test_a_utf8_bom_is_accepted():
    parsed = parse_candle_file(b"\xef\xbb\xbf" + csv_text(header=True).encode(), interval="1h", name=NAME)
    assert fingerprint(parsed.candles) == fingerprint(parse_candle_text(csv_text(), interval="1h", name=NAME).candles)


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Blocks of ~300 bytes: a six-line file is read in several blocks, as a large file is."""
    monkeypatch.setattr(csvparse, "BLOCK_BYTES", 300)


def test_a_file_read_in_many_blocks_gives_the_same_candles(tiny_blocks):
    text = "\n\n" + csv_text(header=True)
    parsed = parse_candle_file(text.encode(), interval="1h", name=NAME)
    reference = parse_candle_text(csv_text(), interval="1h", name=NAME)
    assert fingerprint(parsed.candles) == fingerprint(reference.candles)
    assert parsed.line_numbers.tolist() == [4, 5, 6, 7, 8, 9] and parsed.rows_read == 6


def test_problems_in_later_blocks_name_their_own_lines(tiny_blocks):
    text = with_field(4, 4, "x").replace(lines()[1], with_field(1, 2, "42400").splitlines()[1])
    messages = parse_error_file(text.encode())
    assert messages == [
        f"{NAME}: line 2, column high: high 42400.0 is below low 42431.65",
        f"{NAME}: line 5, column close: cannot read 'x' as a number",
    ]


def parse_error_file(data: bytes) -> list[str]:
    with pytest.raises(CandleFileError) as caught:
        parse_candle_file(data, interval="1h", name=NAME)
    return caught.value.messages


def test_a_file_of_only_bad_lines_keeps_a_bounded_list_of_problems():
    text = "\n".join(with_field(0, 4, "x").splitlines()[0] for _ in range(3000)) + "\n"
    with pytest.raises(CandleFileError) as caught:
        parse_candle_text(text, interval="1h", name=NAME)
    assert len(caught.value.messages) == MAX_KEPT_PROBLEMS and caught.value.more == 2000
    assert str(caught.value).splitlines()[-1] == MSG_MORE_PROBLEMS.format(count=2900)


def test_a_line_without_end_is_refused():
    with pytest.raises(CandleFileError, match="a line longer than 1 MB without a line break"):
        parse_candle_file(b"1" * (3 * 2**20), interval="1h", name=NAME)


def test_invalid_utf8_names_its_line():
    data = (csv_text(header=True) + "2024-01-01 06:00,1,2,1,\xe9,3\n").encode("latin-1")
    assert parse_error_file(data)[0].startswith(f"{NAME}: line 8, column -: not a readable CSV file ('utf-8' codec")


HOSTILE_CELLS = ["", "nan", "inf", "-1", "0", "1e308", "9" * 30, "2024-01-01", "x", '"', "\x00", "é", "17040672e9"]


def test_hostile_files_are_refused_with_messages_only():
    """Seeded random rows of hostile cells, plain and compressed: a CandleFileError or candles, nothing else."""
    rng = random.Random(7)
    for case in range(400):
        rows = [
            ",".join(rng.choice(HOSTILE_CELLS + lines()[0].split(",")) for _ in range(rng.randint(0, 14)))
            for _ in range(rng.randint(0, 6))
        ]
        data = (("timestamp,open,high,low,close,volume\n" if case % 3 == 0 else "") + "\n".join(rows)).encode()
        data = [data, gzip.compress(data), zipped(data.decode())][case % 3]
        try:
            parse_candle_file(data, interval="1h", name="f")
        except CandleFileError as exc:
            assert exc.messages and all(m.startswith("f: ") for m in exc.messages)
