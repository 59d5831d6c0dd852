"""Market calendars: which bars a market trades, so a closure (a weekend, a night, a holiday) is not a hole.

A calendar answers one question for a bar ``[t, t + step)``: does it overlap the market's open hours? The engine
then counts a series' bars in *trading-bar* order (``open_bar_ordinals``): two consecutive candles are adjacent when
no open bar is expected between them (Friday's last forex bar and Sunday's first), and a hole is an open bar that is
missing. Features, labels, purge gaps and sequence windows run over rows, so they run over trading bars.

Keys (``calendar_get``): ``24/7`` (crypto, the default), ``forex`` (closed from Friday 22:00 to Sunday 22:00 UTC;
no maintained package ships a spot-FX holiday list, so holidays are not modelled), or any exchange code of the
``exchange_calendars`` package (``XNYS``, ``XLON``, ``CMES``, …): its sessions, holidays and early closes. That
package is imported only when such a calendar is used. Plain Python (no Django).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

ALWAYS_OPEN = "24/7"
FOREX = "forex"
MSG_UNKNOWN_CALENDAR = (
    "Unknown market calendar {key!r}; use '24/7', 'forex' or an exchange code of exchange_calendars "
    "(e.g. XNYS, XNAS, XLON, XTKS, CMES)."
)
CRYPTO_EXCHANGES = {"BINANCE", "BITFINEX", "BITSTAMP", "BYBIT", "COINBASE", "KRAKEN", "KUCOIN", "OKX", "GEMINI"}
FOREX_VENUES = {"FOREX", "FX", "OANDA", "FXCM", "DUKASCOPY", "ICMARKETS", "PEPPERSTONE", "SAXO", "EBS", "HISTDATA"}
EXCHANGE_ALIASES = {"NYSE": "XNYS", "NASDAQ": "XNAS", "LSE": "XLON", "CME": "CMES", "TSE": "XTKS", "XETRA": "XETR"}
WEEK_MINUTES = 7 * 24 * 60
FOREX_CLOSE = (4 * 24 + 22) * 60  # Friday 22:00 UTC, minutes after Monday 00:00
FOREX_OPEN = (6 * 24 + 22) * 60  # Sunday 22:00 UTC


class Calendar:
    key: str = ""
    description: str = ""

    def is_open(self, starts: pd.DatetimeIndex, step: pd.Timedelta) -> np.ndarray:
        """Per bar ``[start, start + step)``, whether it overlaps the market's open hours."""
        raise NotImplementedError

    @property
    def always_open(self) -> bool:
        return False


class AlwaysOpen(Calendar):
    key = ALWAYS_OPEN
    description = "open every hour of every day (crypto)"

    def is_open(self, starts, step):
        return np.ones(len(starts), dtype=bool)

    @property
    def always_open(self) -> bool:
        return True


class Forex(Calendar):
    key = FOREX
    description = "closed from Friday 22:00 to Sunday 22:00 UTC (spot FX week)"

    def is_open(self, starts, step):
        minutes = (starts.dayofweek * 24 * 60 + starts.hour * 60 + starts.minute).to_numpy()
        length = step / pd.Timedelta(minutes=1)
        inside = (minutes >= FOREX_CLOSE) & (minutes + length <= FOREX_OPEN)
        return ~inside


class ExchangeSessions(Calendar):
    """The sessions of one ``exchange_calendars`` exchange (holidays and early closes included)."""

    def __init__(self, code: str) -> None:
        self.key = code
        self.description = f"exchange sessions of {code} (exchange_calendars)"

    def is_open(self, starts, step):
        if not len(starts):
            return np.zeros(0, dtype=bool)
        import exchange_calendars

        first, last = starts[0].tz_convert("UTC"), starts[-1].tz_convert("UTC")
        cal = exchange_calendars.get_calendar(
            self.key,
            start=max(first.normalize().tz_localize(None) - pd.Timedelta(days=7), _first_session(self.key)),
            end=last.normalize().tz_localize(None) + pd.Timedelta(days=7),
        )
        opens = cal.schedule["open"].dt.tz_convert("UTC").to_numpy()
        closes = cal.schedule["close"].dt.tz_convert("UTC").to_numpy()
        ends = (starts + step).tz_convert("UTC").to_numpy()
        session = np.searchsorted(opens, ends, side="left") - 1
        ok = session >= 0
        return ok & (closes[session.clip(0)] > starts.tz_convert("UTC").to_numpy())


@cache
def _first_session(code: str) -> pd.Timestamp:
    import exchange_calendars

    return exchange_calendars.get_calendar(code).first_session


@cache
def _exchange_codes() -> frozenset[str]:
    import exchange_calendars

    return frozenset(exchange_calendars.get_calendar_names(include_aliases=True))


def calendar_key(key: str | None) -> str:
    """The canonical key of ``key`` (``None``/empty is ``24/7``); raises ValueError for an unknown one."""
    key = (key or ALWAYS_OPEN).strip()
    if key.lower() in (ALWAYS_OPEN, FOREX):
        return key.lower()
    code = EXCHANGE_ALIASES.get(key.upper(), key.upper())
    if code in ("24/5",) or code not in _exchange_codes():
        raise ValueError(MSG_UNKNOWN_CALENDAR.format(key=key))
    return code


def calendar_get(key: str | None) -> Calendar:
    key = calendar_key(key)
    if key == ALWAYS_OPEN:
        return AlwaysOpen()
    if key == FOREX:
        return Forex()
    return ExchangeSessions(key)


def calendar_default(exchange: str) -> str:
    """The calendar a market of ``exchange`` gets unless the import names one."""
    exchange = (exchange or "").strip().upper()
    if exchange in CRYPTO_EXCHANGES:
        return ALWAYS_OPEN
    if exchange in FOREX_VENUES:
        return FOREX
    if exchange in EXCHANGE_ALIASES:
        return EXCHANGE_ALIASES[exchange]
    if len(exchange) == 4 and exchange.startswith("X") and exchange in _exchange_codes():
        return exchange
    return ALWAYS_OPEN


def open_bar_ordinals(open_time, step: pd.Timedelta, calendar: Calendar) -> np.ndarray:
    """Per candle, its index among the market's expected trading bars from the first candle on (bars on the
    ``step`` grid that are open, plus every candle present). Consecutive candles are adjacent when their
    ordinals differ by 1; a larger difference is a hole of that many bars minus one."""
    times = pd.DatetimeIndex(pd.to_datetime(open_time, utc=True))
    if not len(times):
        return np.zeros(0, dtype=np.int64)
    step = pd.Timedelta(step)
    if calendar.always_open or step <= pd.Timedelta(0):
        return np.asarray((times - times[0]) // step if step > pd.Timedelta(0) else np.arange(len(times)), "int64")
    grid = pd.date_range(times[0], times[-1], freq=step)
    expected = grid[calendar.is_open(grid, step)].union(times)
    return np.asarray(expected.get_indexer(times), dtype=np.int64)
