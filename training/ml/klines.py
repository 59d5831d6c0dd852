"""Read and check OHLCV candle files: Binance's 12-column kline CSV (header or not, open times in ms or µs,
plain, zipped or gzipped) and a plain OHLCV CSV with a header. Plain Python and pandas, no Django.

Times are carried as int64 milliseconds since the epoch (UTC). Every problem is reported as
"<file>: line <n>, column <name>: <problem>"; a file with any error is refused as a whole.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

SAMPLE_FILE = (
    Path(__file__).resolve().parents[2] / "data" / "sample" / "BTCUSDT-1h-2017-07-01-2019-07-04-bitfinex-btcusd.zip"
)
FRAME_COLUMNS = ["open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades"]

INTERVAL_MS: dict[str, int] = {
    "1s": 1_000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}
DAY_MS = 86_400_000
MAX_LISTED_PROBLEMS = 100

BINANCE_COLUMNS = [
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trades",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
    "ignore",
]
PRICE_COLUMNS = ["open", "high", "low", "close"]
REQUIRED_COLUMNS = ["open_time", *PRICE_COLUMNS, "volume"]
OPTIONAL_COLUMNS = ["quote_volume", "trades"]
HEADER_ALIASES = {
    "open_time": ("open_time", "open time", "opentime", "timestamp", "time", "date", "datetime", "unix"),
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close",),
    "volume": ("volume", "base_volume", "volume_base"),
    "quote_volume": ("quote_volume", "quote_asset_volume", "quote volume", "volume_quote"),
    "trades": ("trades", "count", "number_of_trades", "trade_count"),
}

LOCATION = "{file}: line {line}, column {column}: {problem}"
MSG_UNKNOWN_INTERVAL = "Unknown interval {interval!r}; known intervals: {known}."
MSG_EMPTY_FILE = "the file holds no candles"
MSG_NOT_CSV = "not a readable CSV file ({detail})"
MSG_ZIP_NO_CSV = "the zip archive holds no .csv file"
MSG_MISSING_COLUMN = "missing column: the header has no {column!r} column (header: {header})"
MSG_TOO_FEW_FIELDS = "missing column: the row has {count} fields; expected {expected}"
MSG_WRONG_FIELD_COUNT = "the row has {count} fields; expected {expected}"
MSG_MISSING_VALUE = "missing value"
MSG_NOT_A_NUMBER = "cannot read {value!r} as a number"
MSG_NOT_A_TIME = "cannot read {value!r} as a time"
MSG_NAN = "value is NaN"
MSG_NOT_FINITE = "value {value!r} is not finite"
MSG_NOT_POSITIVE = "price {value} is not positive"
MSG_NEGATIVE = "{value} is negative"
MSG_NOT_INTEGER = "trade count {value} is not a whole number"
MSG_HIGH_BELOW_LOW = "high {high} is below low {low}"
MSG_OUTSIDE_RANGE = "{value} is outside [low {low}, high {high}]"
MSG_CONFLICTING_DUPLICATE = (
    "open time {time} appears twice with different values (line {first} has {column} {first_value}, "
    "this line has {value})"
)
MSG_UNSORTED = "rows are not in time order (first one out of order: {time}); they were sorted"
MSG_INTERVAL_MISMATCH = (
    "candles are {step} apart (the most common step, seen {count} times) but the declared interval is {interval}"
)
MSG_OFF_GRID = "open time {time} is not on the {interval} grid"
MSG_MORE_PROBLEMS = "… and {count} more problems"


class CandleFileError(ValueError):
    """A file (or API answer) that cannot be imported; `messages` lists every problem."""

    def __init__(self, messages: list[str]):
        self.messages = list(messages)
        shown = self.messages[:MAX_LISTED_PROBLEMS]
        if len(self.messages) > MAX_LISTED_PROBLEMS:
            shown.append(MSG_MORE_PROBLEMS.format(count=len(self.messages) - MAX_LISTED_PROBLEMS))
        super().__init__("\n".join(shown))


@dataclass
class Candles:
    """Columns of a candle series sorted by open time; unknown quote volume is NaN, unknown trades -1."""

    open_time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    quote_volume: np.ndarray
    trades: np.ndarray

    FIELDS = ("open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades")

    def __len__(self) -> int:
        return len(self.open_time)

    @classmethod
    def empty(cls) -> Candles:
        return cls(np.empty(0, "int64"), *(np.empty(0, "float64") for _ in range(6)), np.empty(0, "int64"))

    def take(self, index) -> Candles:
        return Candles(*(getattr(self, name)[index] for name in self.FIELDS))

    @classmethod
    def concat(cls, parts: list[Candles]) -> Candles:
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in cls.FIELDS))

    def sorted(self) -> Candles:
        return self.take(np.argsort(self.open_time, kind="stable"))

    def to_frame(self) -> pd.DataFrame:
        """The engine's candles frame: open_time (datetime64 UTC), prices and volumes as float64, trades float64
        with NaN where unknown."""
        return pd.DataFrame(
            {
                "open_time": pd.to_datetime(self.open_time, unit="ms", utc=True),
                "open": self.open,
                "high": self.high,
                "low": self.low,
                "close": self.close,
                "volume": self.volume,
                "quote_volume": self.quote_volume,
                "trades": np.where(self.trades >= 0, self.trades, np.nan).astype("float64"),
            },
            columns=FRAME_COLUMNS,
        )


@dataclass
class ParsedFile:
    name: str
    candles: Candles
    rows_read: int
    line_numbers: np.ndarray
    duplicates_skipped: int = 0
    warnings: list[str] = field(default_factory=list)


def interval_ms(interval: str) -> int:
    try:
        return INTERVAL_MS[interval]
    except KeyError:
        raise ValueError(MSG_UNKNOWN_INTERVAL.format(interval=interval, known=", ".join(INTERVAL_MS))) from None


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


def format_time(ms: int) -> str:
    return ms_to_datetime(ms).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(ms: int) -> str:
    for unit, size in (("d", DAY_MS), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if ms % size == 0 and ms >= size:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def read_bytes(source: str | Path | bytes | BinaryIO) -> tuple[bytes, str]:
    """The raw bytes of a path, bytes or file-like object, and a name for messages."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        return path.read_bytes(), path.name
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), "upload"
    data = source.read()
    if isinstance(data, str):
        data = data.encode()
    return data, Path(str(getattr(source, "name", "") or "upload")).name


def decode_text(data: bytes, name: str) -> str:
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
                if not members:
                    raise CandleFileError([LOCATION.format(file=name, line=1, column="-", problem=MSG_ZIP_NO_CSV)])
                data = archive.read(members[0])
        except zipfile.BadZipFile as exc:
            raise CandleFileError(
                [LOCATION.format(file=name, line=1, column="-", problem=MSG_NOT_CSV.format(detail=exc))]
            ) from None
    elif data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CandleFileError(
            [LOCATION.format(file=name, line=1, column="-", problem=MSG_NOT_CSV.format(detail=exc))]
        ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _layout(lines_before: int, first_line: str, name: str) -> tuple[bool, list[str], dict[str, int], list[str]]:
    """(has_header, names for pandas, canonical column -> position, errors) from the first non-blank line.
    Header files get pandas names equal to their own header, so messages name the file's columns."""
    fields = [f.strip().strip('"').strip() for f in first_line.split(",")]
    if fields and _is_number(fields[0]):
        positions = {col: BINANCE_COLUMNS.index(col) for col in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
        return False, list(BINANCE_COLUMNS), positions, []
    lowered = [f.lower() for f in fields]
    positions: dict[str, int] = {}
    errors = []
    for column, aliases in HEADER_ALIASES.items():
        found = next((i for i, f in enumerate(lowered) if f in aliases), None)
        if found is not None:
            positions[column] = found
        elif column in REQUIRED_COLUMNS:
            problem = MSG_MISSING_COLUMN.format(
                column=column if column != "open_time" else "timestamp", header=",".join(fields)
            )
            errors.append(LOCATION.format(file=name, line=lines_before + 1, column=column, problem=problem))
    names = [f or f"column {i + 1}" for i, f in enumerate(fields)]
    names = [n if names.index(n) == i else f"{n} ({i + 1})" for i, n in enumerate(names)]
    return True, names, positions, errors


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series)


def _times_from_numbers(values: np.ndarray) -> np.ndarray:
    """Epoch seconds, milliseconds, microseconds or nanoseconds (told apart by size, row by row) -> ms."""
    magnitude = np.abs(values)
    ms = np.where(
        magnitude < 1e11,
        values * 1000.0,
        np.where(magnitude < 1e14, values, np.where(magnitude < 1e17, values / 1000.0, values / 1e6)),
    )
    return np.floor(ms + 1e-6).astype("int64")


def _read_frame(text_body: str, names: list[str], use: dict[str, int], as_text: bool) -> pd.DataFrame:
    usecols = sorted(set(use.values()))
    kwargs = dict(header=None, names=names, usecols=usecols, skip_blank_lines=False, index_col=False, engine="c")
    if as_text:
        return pd.read_csv(io.StringIO(text_body), dtype=str, keep_default_na=False, na_filter=False, **kwargs)
    dtypes = {names[i]: "float64" for col, i in use.items() if col != "open_time"}
    return pd.read_csv(io.StringIO(text_body), dtype=dtypes, **kwargs)


def parse_candle_file(source: str | Path | bytes | BinaryIO, *, interval: str, name: str | None = None) -> ParsedFile:
    data, default_name = read_bytes(source)
    name = name or default_name
    text = decode_text(data, name)
    return parse_candle_text(text, interval=interval, name=name)


def parse_candle_text(text: str, *, interval: str, name: str) -> ParsedFile:
    step_ms = interval_ms(interval)
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise CandleFileError([LOCATION.format(file=name, line=1, column="-", problem=MSG_EMPTY_FILE)])
    has_header, names, use, errors = _layout(first, lines[first], name)
    if errors:
        raise CandleFileError(errors)
    body_start = first + 1 if has_header else 0
    body = "".join(lines[body_start:])
    expected = len(names)

    def field_count_error(exc: Exception) -> CandleFileError:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if not match:
            return CandleFileError(
                [LOCATION.format(file=name, line=body_start + 1, column="-", problem=MSG_NOT_CSV.format(detail=exc))]
            )
        line, count = int(match.group(2)) + body_start, int(match.group(3))
        return CandleFileError(
            [
                LOCATION.format(
                    file=name,
                    line=line,
                    column=f"#{count}",
                    problem=MSG_WRONG_FIELD_COUNT.format(count=count, expected=expected),
                )
            ]
        )

    frame = None
    if not body.strip():
        raise CandleFileError([LOCATION.format(file=name, line=body_start + 1, column="-", problem=MSG_EMPTY_FILE)])
    try:
        fast = _read_frame(body, names, use, as_text=False)
    except pd.errors.ParserError as exc:
        raise field_count_error(exc) from None
    except ValueError:
        fast = None
    if fast is not None:
        time_col = fast[names[use["open_time"]]]
        required = fast[[names[use[c]] for c in REQUIRED_COLUMNS]] if _numeric(time_col) else None
        field_count_ok = body.count(",") == len(fast) * (len(names) - 1)
        if field_count_ok and required is not None and np.isfinite(required.to_numpy("float64")).all():
            frame = fast
    if frame is not None:
        line_numbers = np.arange(len(frame), dtype="int64") + body_start + 1
        times = _times_from_numbers(frame[names[use["open_time"]]].to_numpy("float64"))
        values = {c: frame[names[use[c]]].to_numpy("float64") for c in REQUIRED_COLUMNS if c != "open_time"}
        for c in OPTIONAL_COLUMNS:
            values[c] = frame[names[use[c]]].to_numpy("float64") if c in use else np.full(len(frame), np.nan)
        ok = np.ones(len(frame), bool)
        rows_read = len(frame)
    else:
        try:
            raw = _read_frame(body, names, use, as_text=True)
        except pd.errors.ParserError as exc:
            raise field_count_error(exc) from None
        times, values, ok, line_numbers, rows_read, errors = _parse_text_frame(raw, names, use, name, body_start, body)
    errors = list(errors)
    display = {c: names[i] for c, i in use.items()}
    errors += _check_values(name, line_numbers, values, ok, display)
    trades = values["trades"]
    known_trades = ~np.isnan(trades)
    candles = Candles(
        times,
        values["open"],
        values["high"],
        values["low"],
        values["close"],
        values["volume"],
        values["quote_volume"],
        np.where(known_trades, np.nan_to_num(trades, nan=-1.0), -1.0).astype("int64"),
    )
    candles = candles.take(ok)
    line_numbers = line_numbers[ok]
    if errors:
        raise CandleFileError(sorted(errors, key=_line_of))
    if not len(candles):
        raise CandleFileError([LOCATION.format(file=name, line=body_start + 1, column="-", problem=MSG_EMPTY_FILE)])
    return _order_and_check_spacing(name, candles, line_numbers, rows_read, interval, step_ms, display)


def _parse_text_frame(raw: pd.DataFrame, names, use, name, body_start, body):
    errors: list[str] = []
    display = {c: names[i] for c, i in use.items()}
    line_numbers = np.arange(len(raw), dtype="int64") + body_start + 1
    stripped = {c: raw[names[i]].fillna("").astype(str).str.strip().str.strip('"') for c, i in use.items()}
    blank = np.logical_and.reduce([(s == "").to_numpy() for s in stripped.values()])
    ok = ~blank
    counts = np.full(len(raw), len(names))
    physical = pd.Series(body.splitlines()[: len(raw)], dtype=object).str.count(",").to_numpy() + 1
    counts[: len(physical)] = physical
    needed = max(use[c] for c in REQUIRED_COLUMNS) + 1
    for i in np.flatnonzero((counts > len(names)) & ok):
        problem = MSG_WRONG_FIELD_COUNT.format(count=int(counts[i]), expected=len(names))
        errors.append(
            LOCATION.format(file=name, line=int(line_numbers[i]), column=f"#{len(names) + 1}", problem=problem)
        )
        ok[i] = False
    for i in np.flatnonzero((counts < needed) & ok):
        first_missing = min((c for c in REQUIRED_COLUMNS if use[c] >= counts[i]), key=lambda c: use[c])
        problem = MSG_TOO_FEW_FIELDS.format(count=int(counts[i]), expected=len(names))
        errors.append(
            LOCATION.format(file=name, line=int(line_numbers[i]), column=display[first_missing], problem=problem)
        )
        ok[i] = False
    rows_read = int(ok.sum())
    values: dict[str, np.ndarray] = {}
    for column, text in stripped.items():
        if column == "open_time":
            continue
        number = pd.to_numeric(text, errors="coerce").to_numpy("float64")
        bad = np.isnan(number) & ~blank
        for i in np.flatnonzero((bad | (np.isinf(number) & ~blank)) & ok):
            value = text.iloc[i]
            if value == "":
                if column in OPTIONAL_COLUMNS:
                    continue
                problem = MSG_MISSING_VALUE
            elif value.lower() in ("nan", "-nan", "+nan"):
                problem = MSG_NAN
            elif np.isinf(number[i]):
                problem = MSG_NOT_FINITE.format(value=value)
            else:
                problem = MSG_NOT_A_NUMBER.format(value=value)
            errors.append(
                LOCATION.format(file=name, line=int(line_numbers[i]), column=display[column], problem=problem)
            )
            ok[i] = False
        values[column] = number
    for column in OPTIONAL_COLUMNS:
        values.setdefault(column, np.full(len(raw), np.nan))
    time_text = stripped["open_time"]
    numeric_time = pd.to_numeric(time_text, errors="coerce").to_numpy("float64")
    times = np.zeros(len(raw), dtype="int64")
    is_numeric = ~np.isnan(numeric_time) & np.isfinite(numeric_time)
    if is_numeric.any():
        times[is_numeric] = _times_from_numbers(numeric_time[is_numeric])
    others = ~is_numeric & ok
    if others.any():
        parsed = pd.to_datetime(time_text[others], utc=True, errors="coerce", format="ISO8601")
        good = parsed.notna().to_numpy()
        idx = np.flatnonzero(others)
        times[idx[good]] = parsed[good].astype("int64").to_numpy() // 1_000_000
        for i in idx[~good]:
            value = time_text.iloc[i]
            problem = (
                MSG_MISSING_VALUE
                if value == ""
                else (MSG_NAN if value.lower() == "nan" else MSG_NOT_A_TIME.format(value=value))
            )
            errors.append(
                LOCATION.format(file=name, line=int(line_numbers[i]), column=display["open_time"], problem=problem)
            )
            ok[i] = False
    return times, values, ok, line_numbers, rows_read, errors


def _check_values(name, line_numbers, v, ok, display) -> list[str]:
    errors = []

    def report(mask, column, make_problem):
        for i in np.flatnonzero(mask & ok):
            errors.append(
                LOCATION.format(file=name, line=int(line_numbers[i]), column=display[column], problem=make_problem(i))
            )
            ok[i] = False

    with np.errstate(invalid="ignore"):
        for column in PRICE_COLUMNS:
            report(v[column] <= 0, column, lambda i, c=column: MSG_NOT_POSITIVE.format(value=v[c][i]))
        for column in ("volume", "quote_volume"):
            report(v[column] < 0, column, lambda i, c=column: MSG_NEGATIVE.format(value=v[c][i]))
        report(v["trades"] < 0, "trades", lambda i: MSG_NEGATIVE.format(value=v["trades"][i]))
        report(
            (v["trades"] != np.floor(v["trades"])) & ~np.isnan(v["trades"]),
            "trades",
            lambda i: MSG_NOT_INTEGER.format(value=v["trades"][i]),
        )
        report(v["high"] < v["low"], "high", lambda i: MSG_HIGH_BELOW_LOW.format(high=v["high"][i], low=v["low"][i]))
        for column in ("open", "close"):
            outside = ((v[column] < v["low"]) | (v[column] > v["high"])) & (v["high"] >= v["low"])
            report(
                outside,
                column,
                lambda i, c=column: MSG_OUTSIDE_RANGE.format(value=v[c][i], low=v["low"][i], high=v["high"][i]),
            )
    return errors


def _line_of(message: str) -> int:
    match = re.search(r": line (\d+), column", message)
    return int(match.group(1)) if match else 0


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b


def _order_and_check_spacing(name, candles: Candles, line_numbers, rows_read, interval, step_ms, display) -> ParsedFile:
    display = {**{c: c for c in Candles.FIELDS}, **display}
    warnings: list[str] = []
    errors: list[str] = []
    diffs = np.diff(candles.open_time)
    if (diffs < 0).any():
        first_bad = int(np.flatnonzero(diffs < 0)[0]) + 1
        warnings.append(
            LOCATION.format(
                file=name,
                line=int(line_numbers[first_bad]),
                column=display["open_time"],
                problem=MSG_UNSORTED.format(time=format_time(candles.open_time[first_bad])),
            )
        )
        order = np.argsort(candles.open_time, kind="stable")
        candles, line_numbers = candles.take(order), line_numbers[order]
    repeated = np.flatnonzero(np.diff(candles.open_time) == 0) + 1
    keep = np.ones(len(candles), bool)
    for i in repeated:
        j = i - 1
        while not keep[j]:
            j -= 1
        for column in Candles.FIELDS[1:]:
            a, b = getattr(candles, column)[j], getattr(candles, column)[i]
            if not _same(np.array([a]), np.array([b]))[0]:
                errors.append(
                    LOCATION.format(
                        file=name,
                        line=int(line_numbers[i]),
                        column=display[column],
                        problem=MSG_CONFLICTING_DUPLICATE.format(
                            time=format_time(candles.open_time[i]),
                            first=int(line_numbers[j]),
                            column=column,
                            first_value=a,
                            value=b,
                        ),
                    )
                )
                break
        keep[i] = False
    duplicates = int((~keep).sum())
    candles, line_numbers = candles.take(keep), line_numbers[keep]
    diffs = np.diff(candles.open_time)
    if len(diffs):
        steps, counts = np.unique(diffs, return_counts=True)
        common = step_ms if counts[steps == step_ms].sum() == counts.max() else int(steps[np.argmax(counts)])
        if common != step_ms:
            at = int(np.flatnonzero(diffs == common)[0]) + 1
            errors.append(
                LOCATION.format(
                    file=name,
                    line=int(line_numbers[at]),
                    column=display["open_time"],
                    problem=MSG_INTERVAL_MISMATCH.format(
                        step=format_duration(common), count=int(counts.max()), interval=interval
                    ),
                )
            )
        else:
            anchor = 0 if step_ms <= DAY_MS else int(candles.open_time[0])
            for i in np.flatnonzero((candles.open_time - anchor) % step_ms != 0):
                errors.append(
                    LOCATION.format(
                        file=name,
                        line=int(line_numbers[i]),
                        column=display["open_time"],
                        problem=MSG_OFF_GRID.format(time=format_time(candles.open_time[i]), interval=interval),
                    )
                )
    if errors:
        raise CandleFileError(errors)
    return ParsedFile(
        name=name,
        candles=candles,
        rows_read=rows_read,
        line_numbers=line_numbers,
        duplicates_skipped=duplicates,
        warnings=warnings,
    )


def find_gaps(open_time: np.ndarray, step_ms: int) -> list[dict]:
    """Holes in a sorted series: the last open time before, the first after, and how many candles are missing."""
    diffs = np.diff(open_time)
    holes = np.flatnonzero(diffs > step_ms)
    return [
        {
            "after": format_time(open_time[i]),
            "before": format_time(open_time[i + 1]),
            "missing": int(diffs[i] // step_ms - 1),
        }
        for i in holes
    ]


FINGERPRINT_TAG = b"ares-candles-v1"


def fingerprint(candles: Candles) -> str:
    """sha256 over the canonical content (sorted columns as little-endian int64/float64), independent of the
    file layout, the time unit or the import path."""
    digest = hashlib.sha256(FINGERPRINT_TAG)
    digest.update(np.int64(len(candles)).astype("<i8").tobytes())
    for column in Candles.FIELDS:
        values = getattr(candles, column)
        if values.dtype.kind == "f":
            values = np.where(np.isnan(values), np.nan, values).astype("<f8") + 0.0
        else:
            values = values.astype("<i8")
        digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


def api_rows_to_text(rows: list[list]) -> str:
    """Binance REST kline rows (lists of 12 values) as headerless kline CSV, so they pass the same checks."""
    return "".join(",".join("" if value is None else str(value) for value in row) + "\n" for row in rows)


def write_binance_csv(candles: Candles, *, header: bool = False, unit: str = "ms") -> str:
    """Binance's 12-column kline CSV for a series (used by the sample converter, the tests and the bench)."""
    factor = 1000 if unit == "us" else 1
    step = np.diff(candles.open_time)
    close_offset = int(np.median(step)) if len(step) else 0
    frame = pd.DataFrame(
        {
            "open_time": candles.open_time * factor,
            "open": candles.open,
            "high": candles.high,
            "low": candles.low,
            "close": candles.close,
            "volume": candles.volume,
            "close_time": (candles.open_time + close_offset) * factor - 1,
            "quote_volume": candles.quote_volume,
            "trades": pd.Series(candles.trades, dtype="Int64").mask(candles.trades < 0),
            "taker_buy_base_volume": np.nan,
            "taker_buy_quote_volume": np.nan,
            "ignore": 0,
        }
    )
    header_row = ",".join(BINANCE_COLUMNS[:8] + ["count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"])
    body = frame.to_csv(header=False, index=False, lineterminator="\n", na_rep="")
    return (header_row + "\n" + body) if header else body
