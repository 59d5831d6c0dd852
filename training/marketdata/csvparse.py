"""Streamed reading of candle CSV files: Binance's 12-column kline CSV (header or not, open times in s, ms or µs)
and a plain OHLCV CSV with a header, from a plain, zipped or gzipped source (see `archive`).

The file is read in blocks of whole lines (BLOCK_BYTES), each parsed by pandas' C reader into numpy columns
and checked (`checks`); only the columns of the valid rows are kept, so memory is bounded by the candles, not
the text. Every problem is reported as "<file>: line <n>, column <name>: <problem>"; a file with any problem is
refused as a whole.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from training.marketdata.archive import open_candle_stream
from training.marketdata.binance import BINANCE_COLUMNS, BINANCE_POSITIONS
from training.marketdata.candles import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, Candles, ParsedFile
from training.marketdata.checks import check_plausible, check_values, order_and_check_spacing
from training.marketdata.errors import CandleFileError, Problems, file_error, located
from training.marketdata.limits import DEFAULT_LIMITS, MIB, InputLimits
from training.marketdata.times import interval_ms

BLOCK_BYTES = 8 * MIB
MAX_LINE_BYTES = 1 * MIB
BOM = b"\xef\xbb\xbf"
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

MSG_EMPTY_FILE = "the file holds no candles"
MSG_NOT_CSV = "not a readable CSV file ({detail})"
MSG_LINE_TOO_LONG = "a line longer than {size} without a line break: not a candle CSV file"
MSG_MISSING_COLUMN = "missing column: the header has no {column!r} column (header: {header})"
MSG_TOO_FEW_FIELDS = "missing column: the row has {count} fields; expected {expected}"
MSG_WRONG_FIELD_COUNT = "the row has {count} fields; expected {expected}"
MSG_MISSING_VALUE = "missing value"
MSG_NOT_A_NUMBER = "cannot read {value!r} as a number"
MSG_NOT_A_TIME = "cannot read {value!r} as a time"
MSG_NAN = "value is NaN"
MSG_NOT_FINITE = "value {value!r} is not finite"
MSG_TOO_MANY_COLUMNS = (
    "the first line has {count:,} columns, more than the limit of {limit} (MARKET_DATA_MAX_COLUMNS): "
    "not a candle CSV file"
)
MSG_PARSE_BUDGET = (
    "reading the file took longer than the budget of {seconds:g} s (MARKET_DATA_MAX_PARSE_SECONDS); "
    "refused after line {line:,}"
)
TIME_CLIP_MS = 1e15  # beyond year 33000: refused as implausible, kept inside int64


@dataclass
class Layout:
    has_header: bool
    names: list[str]  # names given to pandas: the file's own header, or Binance's columns
    use: dict[str, int]  # canonical column -> position

    @property
    def display(self) -> dict[str, str]:
        return {c: self.names[i] for c, i in self.use.items()}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _layout(line_number: int, first_line: str, name: str, max_columns: int) -> Layout:
    """The layout from the first non-blank line. Header files get pandas names equal to their own header, so
    messages name the file's columns. Linear in the line's length; refuses more than `max_columns` fields."""
    count = first_line.count(",") + 1
    if count > max_columns:
        raise file_error(name, MSG_TOO_MANY_COLUMNS.format(count=count, limit=max_columns), line=line_number)
    fields = [f.strip().strip('"').strip() for f in first_line.split(",")]
    if fields and _is_number(fields[0]):
        return Layout(False, list(BINANCE_COLUMNS), dict(BINANCE_POSITIONS))
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
            errors.append(located(name, line_number, column, problem))
    if errors:
        raise CandleFileError(errors)
    names = [f or f"column {i + 1}" for i, f in enumerate(fields)]
    first_seen: dict[str, int] = {}
    for i, n in enumerate(names):
        first_seen.setdefault(n, i)
    names = [n if first_seen[n] == i else f"{n} ({i + 1})" for i, n in enumerate(names)]
    return Layout(True, names, positions)


def _times_from_numbers(values: np.ndarray) -> np.ndarray:
    """Epoch seconds, milliseconds, microseconds or nanoseconds (told apart by size, row by row) -> ms."""
    magnitude = np.abs(values)
    with np.errstate(over="ignore", invalid="ignore"):
        ms = np.where(
            magnitude < 1e11,
            values * 1000.0,
            np.where(magnitude < 1e14, values, np.where(magnitude < 1e17, values / 1000.0, values / 1e6)),
        )
    return np.floor(np.clip(ms, -TIME_CLIP_MS, TIME_CLIP_MS) + 1e-6).astype("int64")


def _line_blocks(stream, name: str) -> Iterator[bytes]:
    """Blocks of whole lines (the last may lack its line break), the BOM removed."""
    pending, first = b"", True
    while data := stream.read(BLOCK_BYTES):
        if first:
            data, first = (data[len(BOM) :] if data.startswith(BOM) else data), False
        data = pending + data if pending else data
        cut = data.rfind(b"\n")
        if cut < 0:
            if len(data) > MAX_LINE_BYTES:
                raise file_error(name, MSG_LINE_TOO_LONG.format(size="1 MB"))
            pending = data
            continue
        yield data[: cut + 1]
        pending = data[cut + 1 :]
    if pending:
        yield pending


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series)


def _read_frame(block: bytes, layout: Layout, as_text: bool) -> pd.DataFrame:
    names, use = layout.names, layout.use
    kwargs = dict(header=None, names=names, usecols=sorted(set(use.values())), skip_blank_lines=False, index_col=False)
    if as_text:
        return pd.read_csv(io.BytesIO(block), dtype=str, keep_default_na=False, na_filter=False, **kwargs)
    dtypes = {names[i]: "float64" for col, i in use.items() if col != "open_time"}
    return pd.read_csv(io.BytesIO(block), dtype=dtypes, engine="c", **kwargs)


def _field_count_error(exc: Exception, name: str, first_line: int, expected: int) -> CandleFileError:
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if not match:
        return file_error(name, MSG_NOT_CSV.format(detail=exc), line=first_line)
    line, count = int(match.group(2)) + first_line - 1, int(match.group(3))
    problem = MSG_WRONG_FIELD_COUNT.format(count=count, expected=expected)
    return file_error(name, problem, line=line, column=f"#{count}")


def _parse_block(block: bytes, first_line: int, layout: Layout, name: str, problems: Problems):
    """(times, values, ok, line numbers, rows read) of one block of lines starting at `first_line`."""
    names, use = layout.names, layout.use
    try:
        fast = _read_frame(block, layout, as_text=False)
    except pd.errors.ParserError as exc:
        raise _field_count_error(exc, name, first_line, len(names)) from None
    except ValueError:
        fast = None
    if fast is not None and _numeric(fast[names[use["open_time"]]]):
        required = fast[[names[use[c]] for c in REQUIRED_COLUMNS]].to_numpy("float64")
        if block.count(b",") == len(fast) * (len(names) - 1) and np.isfinite(required).all():
            line_numbers = np.arange(len(fast), dtype="int64") + first_line
            times = _times_from_numbers(fast[names[use["open_time"]]].to_numpy("float64"))
            values = {c: fast[names[use[c]]].to_numpy("float64") for c in REQUIRED_COLUMNS if c != "open_time"}
            for c in OPTIONAL_COLUMNS:
                values[c] = fast[names[use[c]]].to_numpy("float64") if c in use else np.full(len(fast), np.nan)
            return times, values, np.ones(len(fast), bool), line_numbers, len(fast)
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + block.count(b"\n", 0, exc.start)
        raise file_error(name, MSG_NOT_CSV.format(detail=exc), line=line) from None
    try:
        raw = _read_frame(block, layout, as_text=True)
    except pd.errors.ParserError as exc:
        raise _field_count_error(exc, name, first_line, len(names)) from None
    return _parse_text_frame(raw, layout, text, first_line, problems)


def _parse_text_frame(raw: pd.DataFrame, layout: Layout, text: str, first_line: int, problems: Problems):
    """The slow path for a block with any unreadable value: every cell as text, each problem listed."""
    names, use, display = layout.names, layout.use, layout.display
    line_numbers = np.arange(len(raw), dtype="int64") + first_line
    stripped = {c: raw[names[i]].fillna("").astype(str).str.strip().str.strip('"') for c, i in use.items()}
    blank = np.logical_and.reduce([(s == "").to_numpy() for s in stripped.values()])
    ok = ~blank
    counts = np.full(len(raw), len(names))
    physical = pd.Series(text.split("\n")[: len(raw)], dtype=object).str.count(",").to_numpy() + 1
    counts[: len(physical)] = physical
    needed = max(use[c] for c in REQUIRED_COLUMNS) + 1
    for i in np.flatnonzero((counts > len(names)) & ok):
        problem = MSG_WRONG_FIELD_COUNT.format(count=int(counts[i]), expected=len(names))
        problems.add(int(line_numbers[i]), f"#{len(names) + 1}", problem)
        ok[i] = False
    for i in np.flatnonzero((counts < needed) & ok):
        first_missing = min((c for c in REQUIRED_COLUMNS if use[c] >= counts[i]), key=lambda c: use[c])
        problem = MSG_TOO_FEW_FIELDS.format(count=int(counts[i]), expected=len(names))
        problems.add(int(line_numbers[i]), display[first_missing], problem)
        ok[i] = False
    rows_read = int(ok.sum())
    values: dict[str, np.ndarray] = {}
    for column, cells in stripped.items():
        if column == "open_time":
            continue
        number = pd.to_numeric(cells, errors="coerce").to_numpy("float64")
        for i in np.flatnonzero((np.isnan(number) | np.isinf(number)) & ~blank & ok):
            value = cells.iloc[i]
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
            problems.add(int(line_numbers[i]), display[column], problem)
            ok[i] = False
        values[column] = number
    for column in OPTIONAL_COLUMNS:
        values.setdefault(column, np.full(len(raw), np.nan))
    time_text = stripped["open_time"]
    numeric_time = pd.to_numeric(time_text, errors="coerce").to_numpy("float64")
    times = np.zeros(len(raw), dtype="int64")
    is_numeric = np.isfinite(numeric_time)
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
            if value == "":
                problem = MSG_MISSING_VALUE
            else:
                problem = MSG_NAN if value.lower() == "nan" else MSG_NOT_A_TIME.format(value=value)
            problems.add(int(line_numbers[i]), display["open_time"], problem)
            ok[i] = False
    return times, values, ok, line_numbers, rows_read


def _first_content_line(block: bytes) -> tuple[int, int, int]:
    """(blank lines skipped, start, end) of the first non-blank line of a block; start == -1 when all blank."""
    position, skipped = 0, 0
    while position < len(block):
        end = block.find(b"\n", position)
        end = len(block) if end < 0 else end + 1
        if block[position:end].strip():
            return skipped, position, end
        position, skipped = end, skipped + 1
    return skipped, -1, -1


def _candles(times: np.ndarray, values: dict) -> Candles:
    trades = values["trades"]
    known = ~np.isnan(trades) & (np.abs(trades) < 2**62)
    return Candles(
        times,
        values["open"],
        values["high"],
        values["low"],
        values["close"],
        values["volume"],
        values["quote_volume"],
        np.where(known, np.nan_to_num(trades, nan=-1.0), -1.0).astype("int64"),
    )


def parse_blocks(
    blocks: Iterator[bytes], *, interval: str, name: str, limits: InputLimits = DEFAULT_LIMITS
) -> ParsedFile:
    step_ms = interval_ms(interval)
    problems = Problems(name)
    layout: Layout | None = None
    consumed = 0  # lines before the current block
    body_line = 1  # the first line that can hold a candle
    parts: list[Candles] = []
    line_parts: list[np.ndarray] = []
    rows_read = 0
    deadline = time.monotonic() + limits.max_parse_seconds
    for block in blocks:
        lines_in_block = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
        first_line = consumed + 1
        consumed += lines_in_block
        if layout is None:
            skipped, start, end = _first_content_line(block)
            if start < 0:
                continue
            first_line += skipped
            header = block[start:end].decode("utf-8", errors="replace")
            layout = _layout(first_line, header, name, limits.max_columns)
            if layout.has_header:
                block, first_line = block[end:], first_line + 1
            else:
                block = block[start:]
            body_line = first_line
        if not block.strip():
            continue
        times, values, ok, line_numbers, read = _parse_block(block, first_line, layout, name, problems)
        rows_read += read
        display = layout.display
        check_plausible(times, values, ok, line_numbers, display, problems, limits=limits, step_ms=step_ms)
        check_values(values, ok, line_numbers, display, problems)
        if not problems:
            parts.append(_candles(times, values).take(ok))
            line_parts.append(line_numbers[ok])
        if time.monotonic() > deadline:
            raise file_error(name, MSG_PARSE_BUDGET.format(seconds=limits.max_parse_seconds, line=consumed))
    if layout is None:
        raise file_error(name, MSG_EMPTY_FILE)
    problems.raise_if_any()
    candles, line_numbers = Candles.concat_consuming(parts), np.concatenate(line_parts or [np.empty(0, "int64")])
    del parts, line_parts
    if not len(candles):
        raise file_error(name, MSG_EMPTY_FILE, line=body_line)
    return order_and_check_spacing(name, candles, line_numbers, rows_read, interval, step_ms, layout.display)


def parse_candle_file(
    source: str | Path | bytes | BinaryIO,
    *,
    interval: str,
    name: str | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
) -> ParsedFile:
    """Read, check and order one candle file (plain, .zip or .gz) within the input limits."""
    interval_ms(interval)
    with open_candle_stream(source, name=name, limits=limits) as stream:
        return parse_blocks(_line_blocks(stream, stream.name), interval=interval, name=stream.name, limits=limits)


def parse_candle_text(text: str, *, interval: str, name: str, limits: InputLimits = DEFAULT_LIMITS) -> ParsedFile:
    data = text.encode("utf-8")
    return parse_blocks(iter([data] if data else []), interval=interval, name=name, limits=limits)
