"""Candle files in Binance's kline CSV layout (12 columns, prices with 8 decimals as Binance writes them),
in every variant the importer accepts, built from the same six hourly BTCUSDT candles."""

import gzip
import io
import zipfile

import pytest

# The offline sample, as documented with the source data: 2017-07-01 11:00 to 2019-07-04 01:00 UTC, no gaps.
SAMPLE_ROWS = 17_583

ROWS = [
    # open_time(ms), open, high, low, close, volume, close_time, quote_volume, trades, taker base, taker quote, ignore
    (
        1704067200000,
        "42283.58000000",
        "42554.57000000",
        "42261.02000000",
        "42475.23000000",
        "1271.68108000",
        1704070799999,
        "53957248.97326470",
        47134,
        "682.57581000",
        "28957416.81942940",
        "0",
    ),
    (
        1704070800000,
        "42475.23000000",
        "42775.00000000",
        "42431.65000000",
        "42613.56000000",
        "1196.37856000",
        1704074399999,
        "50951765.18301210",
        43965,
        "639.96111000",
        "27256424.50196090",
        "0",
    ),
    (
        1704074400000,
        "42613.57000000",
        "42638.41000000",
        "42500.00000000",
        "42581.10000000",
        "685.21237000",
        1704077999999,
        "29160686.36398790",
        31352,
        "332.65436000",
        "14157050.72085590",
        "0",
    ),
    (
        1704078000000,
        "42581.09000000",
        "42586.64000000",
        "42230.08000000",
        "42330.49000000",
        "794.80722000",
        1704081599999,
        "33697449.56407480",
        33765,
        "351.08410000",
        "14886134.18281210",
        "0",
    ),
    (
        1704081600000,
        "42330.50000000",
        "42399.99000000",
        "42209.46000000",
        "42399.98000000",
        "652.22784000",
        1704085199999,
        "27600331.49071380",
        28711,
        "342.13450000",
        "14476755.39830370",
        "0",
    ),
    (
        1704085200000,
        "42399.99000000",
        "42540.00000000",
        "42360.00000000",
        "42493.27000000",
        "532.33001000",
        1704088799999,
        "22604911.75497680",
        24817,
        "284.47315000",
        "12079325.63210010",
        "0",
    ),
]
HEADER = (
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore"
)


def lines(rows=ROWS, unit="ms") -> list[str]:
    factor = 1000 if unit == "us" else 1
    out = []
    for row in rows:
        row = list(row)
        row[0] = row[0] * factor
        row[6] = (row[6] + 1) * factor - 1
        out.append(",".join(str(v) for v in row))
    return out


def csv_text(rows=ROWS, *, header=False, unit="ms") -> str:
    return "\n".join(([HEADER] if header else []) + lines(rows, unit)) + "\n"


def zipped(text: str, member="BTCUSDT-1h-2024-01-01.csv") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, text)
    return buffer.getvalue()


def variants() -> dict[str, bytes]:
    return {
        "BTCUSDT-1h-2024-01-01.csv": csv_text().encode(),
        "BTCUSDT-1h-2024-01-01-header.csv": csv_text(header=True).encode(),
        "BTCUSDT-1h-2024-01-01-us.csv": csv_text(unit="us").encode(),
        "BTCUSDT-1h-2024-01-01-us-header.csv": csv_text(header=True, unit="us").encode(),
        "BTCUSDT-1h-2024-01-01.zip": zipped(csv_text()),
        "BTCUSDT-1h-2024-01-01-us.zip": zipped(csv_text(unit="us")),
        "BTCUSDT-1h-2024-01-01.csv.gz": gzip.compress(csv_text().encode()),
    }


def with_field(line_index: int, column: int, value: str, rows=ROWS) -> str:
    """The headerless file with one field of one row replaced (line number = line_index + 1)."""
    out = lines(rows)
    fields = out[line_index].split(",")
    fields[column] = value
    out[line_index] = ",".join(fields)
    return "\n".join(out) + "\n"


@pytest.fixture
def small_datasets_allowed(settings):
    """For tests built on the six real candles above; MARKET_DATA_MIN_CANDLES has tests of its own."""
    settings.MARKET_DATA_MIN_CANDLES = 1
