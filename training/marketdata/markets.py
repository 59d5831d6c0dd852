"""Market lists: ``[EXCHANGE:]SYMBOL[ INTERVAL]`` (or ``EXCHANGE:SYMBOL:INTERVAL``), one per item or line."""

from __future__ import annotations

import re
from dataclasses import dataclass

MSG_BAD_MARKET = (
    "Market {text!r} is not valid: write SYMBOL, EXCHANGE:SYMBOL or EXCHANGE:SYMBOL INTERVAL (e.g. BINANCE:ETHUSDT 4h)."
)
# A symbol or exchange with letters outside A-Z: upper-casing would change it (straße → STRASSE), so it is refused.
MSG_NOT_ASCII = (
    "{label} {given!r} has letters outside A-Z (upper-cased it would become {upper!r}); exchange symbols are ASCII "
    "letters and digits, like BTCUSDT. Nothing was saved."
)
MSG_DUPLICATE_MARKET = "Market {market} is listed more than once."
MSG_NO_MARKETS = "No market given."
PATTERN = re.compile(r"^(?:(?P<exchange>[A-Za-z0-9_.-]+):)?(?P<symbol>[A-Za-z0-9]+)(?:[ :]+(?P<interval>\w+))?$")


@dataclass(frozen=True)
class Market:
    exchange: str
    symbol: str
    interval: str

    def __str__(self) -> str:
        return f"{self.exchange}:{self.symbol} {self.interval}"

    def as_dict(self) -> dict:
        return {"exchange": self.exchange, "symbol": self.symbol, "interval": self.interval}


def parse_market(text: str, *, exchange: str = "BINANCE", interval: str = "1h") -> Market:
    match = PATTERN.match(" ".join(str(text).split()))
    if not match:
        raise ValueError(MSG_BAD_MARKET.format(text=text))
    return Market(
        exchange=(match["exchange"] or exchange).strip().upper(),
        symbol=match["symbol"].upper(),
        interval=match["interval"] or interval,
    )


def parse_markets(items, *, exchange: str = "BINANCE", interval: str = "1h") -> list[Market]:
    """Markets from strings or dicts ({exchange, symbol, interval}); blank lines and ``#`` comments skipped.
    Raises ValueError listing every bad item and every duplicate."""
    markets, errors = [], []
    for item in items:
        if isinstance(item, dict):
            text = f"{item.get('exchange') or exchange}:{item.get('symbol', '')} {item.get('interval') or interval}"
        else:
            text = str(item).split("#", 1)[0].strip()
            if not text:
                continue
        try:
            market = parse_market(text, exchange=exchange, interval=interval)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        if market in markets:
            errors.append(MSG_DUPLICATE_MARKET.format(market=market))
        else:
            markets.append(market)
    if not markets and not errors:
        errors.append(MSG_NO_MARKETS)
    if errors:
        raise ValueError(" ".join(errors))
    return markets
