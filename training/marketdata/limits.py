"""Limits on what an import accepts: input size, compression ratio, plausible times and prices.

The service builds them from settings (MARKET_DATA_*); the defaults here are the same values.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

MIB = 2**20
EARLIEST_OPEN_TIME_MS = 946_684_800_000  # 2000-01-01 00:00 UTC


@dataclass(frozen=True)
class InputLimits:
    max_bytes: int = 512 * MIB  # after decompression; a plain file counts its own size
    max_ratio: float = 100.0  # decompressed / compressed bytes read so far
    ratio_grace_bytes: int = 1 * MIB  # the ratio is judged once this much has been inflated
    max_price: float = 1e12
    min_price: float = 1e-12  # below it a price is taken for garbage (1e-300 passed before)
    max_volume: float = 1e18  # base or quote volume of one bar
    max_price_jump: float = 10.0  # a bar whose high/low, or open against the previous close, is beyond this factor
    earliest_ms: int = EARLIEST_OPEN_TIME_MS
    now_ms: int | None = None  # None: the clock when the file is checked
    max_columns: int = 64  # fields on the first line (a candle CSV has 6 to 12)
    max_parse_seconds: float = 90.0  # wall-clock budget for reading and checking one file

    def latest_ms(self, step_ms: int) -> int:
        now = self.now_ms if self.now_ms is not None else int(time.time() * 1000)
        return now + step_ms


DEFAULT_LIMITS = InputLimits()


def format_bytes(count: int) -> str:
    if count >= MIB:
        return f"{count / MIB:,.0f} MB"
    return f"{count / 1024:,.0f} KB" if count >= 1024 else f"{count} bytes"
