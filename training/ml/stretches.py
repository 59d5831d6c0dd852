"""What a preset needs from a candle series, and whether a series has it (checked at launch, before a worker runs).

A labeled row needs its features' warm-up (the longest moving average, then ``lookback`` bars of complete
features for a sequence window) and its regime's warm-up (the volatility window ranked over its trailing
percentile window), all inside one gap-free stretch of open-market bars (``gaps``); the last ``horizon`` bars of a
stretch have no label. A stretch of ``n`` bars therefore yields ``n - warmup - horizon`` rows, and a regime is
trained only with at least ``min_rows`` of them. Plain Python (no Django).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import features, regimes
from .gaps import segment_bounds

REGIME_FLOOR = 150  # ensembles' MIN_ROWS: a regime with fewer labeled rows is skipped
MSG_NO_STRETCH = (
    "{market}: the longest gap-free stretch of open-market bars is {longest:,} bars ({usable:,} labeled rows over "
    "{stretches:,} stretch(es)); preset '{preset}' needs {minimum:,} (warm-up {warmup:,} + {min_rows:,} rows for a "
    "regime + {horizon:,} label horizon){window}."
)


@dataclass(frozen=True)
class StretchNeed:
    """The bars one gap-free stretch needs for a run of a preset to train a regime."""

    preset: str
    feature_warmup: int
    regime_warmup: int
    lookback: int
    min_rows: int
    horizon: int
    max_rows: int | None

    @property
    def warmup(self) -> int:
        """Bars before a stretch's first labeled row (index of that row)."""
        return max(self.feature_warmup + self.lookback - 1, self.regime_warmup)

    @property
    def minimum(self) -> int:
        return self.warmup + self.min_rows + self.horizon

    def rows_from(self, length: int) -> int:
        return max(0, length - self.warmup - self.horizon)


@dataclass(frozen=True)
class StretchCheck:
    need: StretchNeed
    longest: int
    usable_rows: int
    stretches: int
    rows_checked: int

    @property
    def ok(self) -> bool:
        return self.usable_rows >= self.need.min_rows

    def message(self, market: str) -> str:
        window = f" in the last {self.need.max_rows:,} bars the preset uses" if self.need.max_rows else ""
        n = self.need
        return MSG_NO_STRETCH.format(
            market=market,
            longest=self.longest,
            usable=self.usable_rows,
            stretches=self.stretches,
            preset=n.preset,
            minimum=n.minimum,
            warmup=n.warmup,
            min_rows=n.min_rows,
            horizon=n.horizon,
            window=window,
        )


def stretch_need(name: str, preset: dict) -> StretchNeed:
    feature_warmup = max(28, *features.MA_WINDOWS)
    regime_warmup = max(
        regimes.VOL_WINDOW + regimes.PERCENTILE_WINDOW - 1,
        regimes.SMA_WINDOW + regimes.SLOPE_BARS - 1,
        2 * regimes.ADX_WINDOW,
    )
    return StretchNeed(
        preset=name,
        feature_warmup=feature_warmup,
        regime_warmup=regime_warmup,
        lookback=int(preset.get("lookback") or 1),
        min_rows=max(REGIME_FLOOR, int(preset.get("min_rows") or 0)),
        horizon=int(preset.get("horizon") or 0),
        max_rows=int(preset["max_rows"]) if preset.get("max_rows") else None,
    )


def stretch_check(open_time, need: StretchNeed, calendar: str | None = None) -> StretchCheck:
    """The stretches of the bars a run of ``need``'s preset would use (its last ``max_rows``)."""
    times = pd.Series(pd.to_datetime(open_time, utc=True)).reset_index(drop=True)
    if need.max_rows:
        times = times.iloc[-need.max_rows :].reset_index(drop=True)
    lengths = [stop - start for start, stop in segment_bounds(times, calendar=calendar)]
    return StretchCheck(
        need=need,
        longest=max(lengths, default=0),
        usable_rows=sum(need.rows_from(n) for n in lengths),
        stretches=len(lengths),
        rows_checked=len(times),
    )
