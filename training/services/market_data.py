"""Store candle series: import files, fetch from Binance's REST API, load the offline sample.

Parsing, checks, the HTTP client and the bulk inserts live in `training.marketdata`; these services decide what
is stored. Merging: candles already stored with the same values are skipped; a candle whose values differ from
the stored one refuses the whole import and lists every conflict (file, line, column, both values), so a
dataset never silently mixes two versions of a candle and its fingerprint always means one thing. A value the
file does not give (quote volume, trade count) is not a conflict.

All or nothing, without long locks: the whole file is read and checked, and compared with what is stored,
before anything is written. Up to MARKET_DATA_INSERT_CHUNK_ROWS new candles are written in one transaction.
A longer import writes them in chunks of that size, one short transaction each, and publishes the dataset's
summary (row count, range, fingerprint) in a last one; if any step fails, the candles it wrote are deleted (and
a replaced offline sample is loaded again), so a failed import leaves the dataset as it was. While a chunked
import runs, a new dataset counts no candles (launch forms do not offer it).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
from django.conf import settings
from django.db import transaction

from training.marketdata.binance import api_rows_to_text
from training.marketdata.bulk import delete_candles, insert_candles
from training.marketdata.candles import Candles, ParsedFile, find_gaps, fingerprint
from training.marketdata.client import KLINES_PATH, BinanceClient, FetchError
from training.marketdata.csvparse import parse_candle_file, parse_candle_text
from training.marketdata.errors import CandleFileError, located
from training.marketdata.limits import MIB, InputLimits
from training.marketdata.sample import SAMPLE_EXCHANGE, SAMPLE_FILE, SAMPLE_INTERVAL, SAMPLE_SYMBOL, sample_at
from training.marketdata.times import datetime_to_ms, format_time, interval_ms, ms_to_datetime
from training.ml.calendars import calendar_default, calendar_key
from training.models import Candle, MarketDataset
from training.selectors.market_data import dataset_candle_arrays
from training.services.market_data_reports import FetchReport, ImportReport

__all__ = ["CandleConflict", "FetchError", "FetchReport", "ImportReport"]

MAX_STORED_GAPS = 1000
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9]{2,32}$")
EXCHANGE_PATTERN = re.compile(r"^[A-Z0-9_.-]{2,32}$")
MSG_BAD_SYMBOL = "Symbol {symbol!r} is not valid: use letters and digits only, like BTCUSDT."
MSG_SYMBOL_NOT_ASCII = (
    "Symbol {given!r} has letters outside A-Z (upper-cased it would silently become {upper!r}); exchange symbols "
    "are ASCII letters and digits, like BTCUSDT. Nothing was stored."
)
MSG_BAD_EXCHANGE = "Exchange {exchange!r} is not valid: use letters, digits, '-', '_' or '.', like BINANCE."
MSG_CONFLICT = (
    "differs from the candle already stored for {time} in {dataset} (stored {stored}, new {new}); nothing was imported"
)
MSG_TOO_SHORT = (
    "{dataset} would hold {count} candle(s); a dataset needs at least {minimum} (MARKET_DATA_MIN_CANDLES, the "
    "indicator warm-up of every preset), so nothing was imported"
)
MSG_CHANGED_MEANWHILE = (
    "another import changed {dataset} while this one was being checked; nothing was imported, run it again"
)
MSG_FETCH_EXCHANGE = "fetch_klines only knows Binance's public API; exchange {exchange!r} cannot be fetched."
MSG_FETCH_RANGE = "The start {start} is not before the end {end} (only closed candles are fetched)."
MSG_SAMPLE_LOADED = "Loaded the offline sample into {dataset}."
MSG_SAMPLE_PRESENT = "The offline sample is already loaded in {dataset}; nothing to do."
MSG_SAMPLE_REAL_DATA = "{dataset} already holds real candles ({source}); the offline sample was not loaded."


class CandleConflict(CandleFileError):
    pass


def input_limits() -> InputLimits:
    return InputLimits(
        max_bytes=int(settings.MARKET_DATA_MAX_INPUT_MB * MIB),
        max_ratio=settings.MARKET_DATA_MAX_COMPRESSION_RATIO,
        max_price=settings.MARKET_DATA_MAX_PRICE,
        min_price=settings.MARKET_DATA_MIN_PRICE,
        max_volume=settings.MARKET_DATA_MAX_VOLUME,
        max_price_jump=settings.MARKET_DATA_MAX_PRICE_JUMP,
        max_columns=settings.MARKET_DATA_MAX_COLUMNS,
        max_parse_seconds=settings.MARKET_DATA_MAX_PARSE_SECONDS,
    )


def _normalise(symbol: str, exchange: str, interval: str) -> tuple[str, str, str]:
    if not symbol.strip().isascii():
        raise ValueError(MSG_SYMBOL_NOT_ASCII.format(given=symbol.strip(), upper=symbol.strip().upper()))
    symbol, exchange = symbol.strip().upper(), exchange.strip().upper()
    if not SYMBOL_PATTERN.match(symbol):
        raise ValueError(MSG_BAD_SYMBOL.format(symbol=symbol))
    if not EXCHANGE_PATTERN.match(exchange):
        raise ValueError(MSG_BAD_EXCHANGE.format(exchange=exchange))
    interval_ms(interval)
    return symbol, exchange, interval


def dataset_import_file(
    *,
    path_or_file: str | Path | bytes | BinaryIO,
    symbol: str,
    exchange: str = "BINANCE",
    interval: str = "1h",
    source: str = "",
    name: str | None = None,
    calendar: str | None = None,
) -> ImportReport:
    """Parse, check and store one candle file (CSV, .zip or .gz); raises CandleFileError listing every problem.
    ``calendar`` sets the market's calendar (default: the dataset's, or the exchange's default for a new one)."""
    started = time.perf_counter()
    symbol, exchange, interval = _normalise(symbol, exchange, interval)
    if calendar:
        calendar = calendar_key(calendar)
    parsed = parse_candle_file(path_or_file, interval=interval, name=name, limits=input_limits())
    report = dataset_import_candles(
        parsed=parsed,
        symbol=symbol,
        exchange=exchange,
        interval=interval,
        source=source or f"file {parsed.name}",
        min_candles=settings.MARKET_DATA_MIN_CANDLES,
        calendar=calendar,
    )
    report.seconds = time.perf_counter() - started
    return report


def _snapshot(dataset: MarketDataset | None) -> tuple:
    return (None, None) if dataset is None else (dataset.row_count, dataset.fingerprint)


def dataset_import_candles(
    *,
    parsed: ParsedFile,
    symbol: str,
    exchange: str,
    interval: str,
    source: str,
    is_sample: bool = False,
    min_candles: int = 0,
    chunk_rows: int | None = None,
    calendar: str | None = None,
) -> ImportReport:
    """Store checked candles (all or nothing, see the module docstring); `min_candles` refuses a dataset that
    would hold fewer; `chunk_rows` (default MARKET_DATA_INSERT_CHUNK_ROWS) new candles per transaction;
    `calendar` replaces the market's calendar (kept when not given; a new market gets its exchange's default)."""
    symbol, exchange, interval = _normalise(symbol, exchange, interval)
    calendar = calendar_key(calendar) if calendar else None
    step = interval_ms(interval)
    new = parsed.candles
    label = f"{exchange}:{symbol} {interval}"
    dataset = MarketDataset.objects.filter(exchange=exchange, symbol=symbol, interval=interval).first()
    snapshot = _snapshot(dataset)
    replace_sample = dataset is not None and dataset.is_sample and not is_sample
    existing = dataset_candle_arrays(dataset.pk) if dataset is not None and not replace_sample else Candles.empty()
    fresh = _without_stored(new, existing, parsed, label)
    to_insert = new if fresh.all() else new.take(fresh)
    if not len(existing):
        merged = new
    elif not len(to_insert):
        merged = existing  # stored sorted: a re-import of stored candles copies nothing
    else:
        merged = Candles.concat([existing, to_insert]).sorted()
    del existing
    if len(merged) < min_candles:
        raise CandleFileError(
            [located(parsed.name, 1, "-", MSG_TOO_SHORT.format(dataset=label, count=len(merged), minimum=min_candles))]
        )
    chunk = max(int(chunk_rows or settings.MARKET_DATA_INSERT_CHUNK_ROWS), 1)

    def finish(ds: MarketDataset, created: bool) -> None:
        if replace_sample:
            ds.is_sample, ds.source = False, source
        elif not created and source and source not in ds.source:
            ds.source = f"{ds.source}\n{source}".strip()
        if calendar or created:
            ds.calendar = calendar or calendar_default(exchange)
        update_dataset_summary(ds, merged, step)
        ds.full_clean()
        ds.save()

    write = _write_chunked if len(to_insert) > chunk else _write_at_once
    dataset = write(
        lookup=dict(exchange=exchange, symbol=symbol, interval=interval, source=source, is_sample=is_sample),
        snapshot=snapshot,
        replace_sample=replace_sample,
        to_insert=to_insert,
        finish=finish,
        chunk=chunk,
    )
    if len(to_insert):
        from training.services.live import predictions_mature

        predictions_mature(exchange=exchange, symbol=symbol, interval=interval)
    return ImportReport(
        dataset=dataset,
        file=parsed.name,
        rows_read=parsed.rows_read,
        rows_stored=len(to_insert),
        duplicates_in_file=parsed.duplicates_skipped,
        already_stored=int(len(new) - len(to_insert)),
        first_open_time=ms_to_datetime(new.open_time[0]),
        last_open_time=ms_to_datetime(new.open_time[-1]),
        warnings=list(parsed.warnings),
        replaced_sample=replace_sample,
    )


def _locked_dataset(lookup: dict, snapshot: tuple) -> tuple[MarketDataset, bool]:
    """The dataset row, locked, after checking that nobody changed it since the snapshot was read."""
    fields = {k: lookup[k] for k in ("exchange", "symbol", "interval")}
    defaults = {"source": lookup["source"], "is_sample": lookup["is_sample"]}
    dataset, created = MarketDataset.objects.select_for_update().get_or_create(**fields, defaults=defaults)
    current = (None, None) if created else _snapshot(dataset)
    if current != snapshot:
        raise CandleFileError([MSG_CHANGED_MEANWHILE.format(dataset=dataset)])
    return dataset, created


def _write_at_once(*, lookup, snapshot, replace_sample, to_insert, finish, chunk) -> MarketDataset:
    with transaction.atomic():
        dataset, created = _locked_dataset(lookup, snapshot)
        if replace_sample:
            Candle.objects.filter(dataset=dataset).delete()
        insert_candles(dataset.pk, to_insert)
        finish(dataset, created)
    return dataset


def _write_chunked(*, lookup, snapshot, replace_sample, to_insert, finish, chunk) -> MarketDataset:
    with transaction.atomic():
        dataset, created = _locked_dataset(lookup, snapshot)
        if replace_sample:
            Candle.objects.filter(dataset=dataset).delete()
            MarketDataset.objects.filter(pk=dataset.pk).update(row_count=0, fingerprint="", is_sample=False)
        snapshot = _snapshot(MarketDataset.objects.get(pk=dataset.pk))
    written = 0
    try:
        for start in range(0, len(to_insert), chunk):
            with transaction.atomic():
                insert_candles(dataset.pk, to_insert.take(slice(start, start + chunk)))
            written = start + chunk
        with transaction.atomic():
            dataset, _ = _locked_dataset(lookup, snapshot)
            finish(dataset, created)
    except BaseException:
        _undo_chunks(dataset, to_insert.open_time[:written], created=created, replace_sample=replace_sample)
        raise
    return dataset


def _undo_chunks(dataset: MarketDataset, open_time: np.ndarray, *, created: bool, replace_sample: bool) -> None:
    with transaction.atomic():
        delete_candles(dataset.pk, open_time)
        if created:
            MarketDataset.objects.filter(pk=dataset.pk).delete()
    if replace_sample:
        dataset_load_sample(interval=dataset.interval)


COMPARE_ROWS = 65_536


def _differs(column: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where a new candle's value differs from the stored one (an unknown quote volume or trade count matches)."""
    if column == "quote_volume":
        return ~np.isnan(a) & ~np.isnan(b) & (a != b)
    if column == "trades":
        return (a >= 0) & (b >= 0) & (a != b)
    return a != b


def _without_stored(new: Candles, existing: Candles, parsed: ParsedFile, label: str) -> np.ndarray:
    """Mask of the new candles not stored yet; raises CandleConflict when a stored one has other values. One
    column at a time, keeping only the rows that differ (a re-import of 1,000,000 candles held both sides of every
    column at once, issue 26)."""
    fresh = np.ones(len(new), dtype=bool)
    if not len(existing):
        return fresh
    position = np.searchsorted(existing.open_time, new.open_time).clip(0, len(existing) - 1)
    overlap = existing.open_time[position] == new.open_time
    fresh[overlap] = False
    new_idx, old_idx = np.flatnonzero(overlap), position[overlap]
    del position, overlap
    bad_rows = np.zeros(len(new_idx), dtype=bool)
    for start in range(0, len(new_idx), COMPARE_ROWS):  # the compared values of COMPARE_ROWS rows at a time
        rows = slice(start, start + COMPARE_ROWS)
        for column in Candles.FIELDS[1:]:
            a, b = getattr(new, column)[new_idx[rows]], getattr(existing, column)[old_idx[rows]]
            bad_rows[rows] |= _differs(column, a, b)
    if not bad_rows.any():
        return fresh
    new_idx, old_idx = new_idx[bad_rows], old_idx[bad_rows]
    per_column = []
    for column in Candles.FIELDS[1:]:
        a, b = getattr(new, column)[new_idx], getattr(existing, column)[old_idx]
        per_column.append((column, _differs(column, a, b), a, b))
    conflicts = []
    for k in range(len(new_idx)):
        column, _, a, b = next(item for item in per_column if item[1][k])
        i = new_idx[k]
        problem = MSG_CONFLICT.format(time=format_time(new.open_time[i]), dataset=label, stored=b[k], new=a[k])
        conflicts.append(located(parsed.name, int(parsed.line_numbers[i]), column, problem))
    raise CandleConflict(conflicts)


def update_dataset_summary(dataset: MarketDataset, merged: Candles, step: int) -> None:
    gaps = find_gaps(merged.open_time, step, dataset.calendar)
    dataset.row_count = len(merged)
    dataset.first_open_time = ms_to_datetime(merged.open_time[0]) if len(merged) else None
    dataset.last_open_time = ms_to_datetime(merged.open_time[-1]) if len(merged) else None
    dataset.gaps = gaps[:MAX_STORED_GAPS]
    dataset.gap_count = len(gaps)
    dataset.largest_gap = max((g["missing"] for g in gaps), default=0)
    dataset.fingerprint = fingerprint(merged)


# --- Binance REST fetcher ------------------------------------------------------------------------------------


def _missing_ranges(dataset: MarketDataset | None, start_ms: int, end_ms: int, step: int) -> list[tuple[int, int]]:
    grid = np.arange(start_ms, end_ms + 1, step, dtype="int64")
    if dataset is not None and not dataset.is_sample:
        stored = dataset_candle_arrays(dataset.pk, start=ms_to_datetime(start_ms), end=ms_to_datetime(end_ms))
        grid = grid[~np.isin(grid, stored.open_time)]
    if not len(grid):
        return []
    breaks = np.flatnonzero(np.diff(grid) != step)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(grid) - 1]])
    return [(int(grid[a]), int(grid[b])) for a, b in zip(starts, ends)]


def dataset_fetch_klines(
    *,
    symbol: str,
    interval: str,
    start: datetime,
    end: datetime | None = None,
    exchange: str = "BINANCE",
    base_url: str | None = None,
    max_attempts: int = 5,
    backoff_seconds: float = 1.0,
    max_wait_seconds: float = 30.0,
    timeout: tuple[float, float] = (5.0, 30.0),
    sleep: Callable[[float], None] = time.sleep,
    now: datetime | None = None,
) -> FetchReport:
    """Fetch the closed candles missing in [start, end] from Binance's /api/v3/klines, 1000 per request, then
    store them all or nothing."""
    symbol, exchange, interval = _normalise(symbol, exchange, interval)
    if exchange != "BINANCE":
        raise FetchError(MSG_FETCH_EXCHANGE.format(exchange=exchange))
    step = interval_ms(interval)
    now_ms = datetime_to_ms(now or datetime.now(UTC))
    start_ms = -(-datetime_to_ms(start) // step) * step
    last_closed = (now_ms // step) * step - step
    end_ms = min(datetime_to_ms(end) // step * step, last_closed) if end else last_closed
    if start_ms > end_ms:
        raise FetchError(MSG_FETCH_RANGE.format(start=format_time(start_ms), end=format_time(end_ms)))
    dataset = MarketDataset.objects.filter(symbol=symbol, exchange=exchange, interval=interval).first()
    ranges = _missing_ranges(dataset, start_ms, end_ms, step)
    client = BinanceClient(
        base_url or settings.BINANCE_API_URL,
        max_attempts=max_attempts,
        backoff_seconds=backoff_seconds,
        max_wait_seconds=max_wait_seconds,
        timeout=timeout,
        sleep=sleep,
    )
    wanted = np.concatenate([np.arange(a, b + 1, step, dtype="int64") for a, b in ranges]) if ranges else []
    rows: list[list] = []
    for range_start, range_end in ranges:
        rows.extend(
            client.klines(symbol=symbol, interval=interval, start_ms=range_start, end_ms=range_end, step_ms=step)
        )
    report = FetchReport(
        requested=(ms_to_datetime(start_ms), ms_to_datetime(end_ms)),
        missing_before=len(wanted),
        requests=client.requests,
        retries=client.retries,
        import_report=None,
    )
    keep = set(np.asarray(wanted).tolist())
    rows = [row for row in rows if int(row[0]) in keep]
    if not rows:
        return report
    name = f"{client.url}?symbol={symbol}&interval={interval}"
    limits = InputLimits(
        max_price=settings.MARKET_DATA_MAX_PRICE,
        min_price=settings.MARKET_DATA_MIN_PRICE,
        max_volume=settings.MARKET_DATA_MAX_VOLUME,
        max_price_jump=settings.MARKET_DATA_MAX_PRICE_JUMP,
        now_ms=now_ms,
    )
    parsed = parse_candle_text(api_rows_to_text(rows), interval=interval, name=name, limits=limits)
    report.import_report = dataset_import_candles(
        parsed=parsed,
        symbol=symbol,
        exchange=exchange,
        interval=interval,
        source=f"Binance REST API {client.origin} {KLINES_PATH}",
        min_candles=settings.MARKET_DATA_MIN_CANDLES,
    )
    return report


# --- Offline sample ------------------------------------------------------------------------------------------


def dataset_load_sample(
    *, path: Path = SAMPLE_FILE, interval: str = SAMPLE_INTERVAL
) -> tuple[str, ImportReport | None]:
    """Load the bundled sample as BINANCE:BTCUSDT 1h (or resampled to ``interval``, e.g. 4h) unless that dataset
    already holds it or real candles."""
    existing = MarketDataset.objects.filter(symbol=SAMPLE_SYMBOL, exchange=SAMPLE_EXCHANGE, interval=interval).first()
    if existing is not None and existing.row_count and not existing.is_sample:
        return MSG_SAMPLE_REAL_DATA.format(dataset=existing, source=existing.source.splitlines()[0][:120]), None
    parsed, source = sample_at(parse_candle_file(path, interval=SAMPLE_INTERVAL), interval)
    if existing is not None and existing.is_sample and existing.fingerprint == fingerprint(parsed.candles):
        return MSG_SAMPLE_PRESENT.format(dataset=existing), None
    with transaction.atomic():
        if existing is not None:
            # A sample that differs (an older version) or an emptied dataset: start from no candles.
            Candle.objects.filter(dataset=existing).delete()
            MarketDataset.objects.filter(pk=existing.pk).update(row_count=0, fingerprint="", is_sample=True)
        report = dataset_import_candles(
            parsed=parsed,
            symbol=SAMPLE_SYMBOL,
            exchange=SAMPLE_EXCHANGE,
            interval=interval,
            source=source,
            is_sample=True,
            chunk_rows=len(parsed.candles),  # inside this transaction already
        )
    return MSG_SAMPLE_LOADED.format(dataset=report.dataset), report
