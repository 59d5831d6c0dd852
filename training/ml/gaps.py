"""Candle gaps: holes in the time index, and the gap-free segments a run trains on.

A rolling window or a forward return computed across a hole silently spans more time than it claims (``ret_4``
across 72 missing bars is a 3-day return). The engine therefore finds every place where two consecutive candles
are further apart than one bar, cuts the series there into gap-free segments, and computes features, labels and
regimes inside each segment only (``per_segment``); a segment shorter than the minimum is skipped and named.
Rows keep their position in the full series, so the purge gap (positions) stays conservative across a hole.

The bar step is the series' most common spacing unless given.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

MAX_LISTED = 20
MSG_SKIPPED = "Gap-free segment {start} → {end} ({rows} bars) is shorter than {minimum} bars; not used."


def bar_step(open_time: pd.Series) -> pd.Timedelta:
    """The most common spacing between consecutive candles."""
    diffs = pd.Series(pd.to_datetime(open_time)).diff().dropna()
    if diffs.empty:
        return pd.Timedelta(0)
    return diffs.mode().iloc[0]


def segment_bounds(open_time: pd.Series, step: pd.Timedelta | None = None) -> list[tuple[int, int]]:
    """``[(start, stop), …]`` row ranges (stop exclusive) in which consecutive candles are exactly one step apart."""
    times = pd.Series(pd.to_datetime(open_time)).reset_index(drop=True)
    if times.empty:
        return []
    step = bar_step(times) if step is None else pd.Timedelta(step)
    breaks = np.flatnonzero((times.diff() != step).to_numpy()[1:]) + 1
    edges = [0, *breaks.tolist(), len(times)]
    return list(zip(edges[:-1], edges[1:], strict=False))


def find_gaps(open_time: pd.Series, step: pd.Timedelta | None = None) -> dict:
    """``{"count", "missing_bars", "largest", "where"}``: each hole's last candle before, first after and how many
    bars are missing (``where`` lists the first ``MAX_LISTED``; ``largest`` is the hole with most missing bars)."""
    times = pd.Series(pd.to_datetime(open_time)).reset_index(drop=True)
    step = bar_step(times) if step is None else pd.Timedelta(step)
    holes = []
    for start, _ in segment_bounds(times, step)[1:]:
        before, after = times.iloc[start - 1], times.iloc[start]
        holes.append(
            {
                "after": before.isoformat(),
                "before": after.isoformat(),
                "row": int(start),
                "missing": int(round((after - before) / step)) - 1 if step > pd.Timedelta(0) else 0,
            }
        )
    return {
        "count": len(holes),
        "missing_bars": int(sum(h["missing"] for h in holes)),
        "largest": max(holes, key=lambda h: h["missing"]) if holes else None,
        "where": holes[:MAX_LISTED],
        "step": str(step),
    }


def segment_ids(length: int, bounds: list[tuple[int, int]]) -> np.ndarray:
    """Per row, the index of its gap-free segment."""
    ids = np.empty(length, dtype=np.int64)
    for number, (start, stop) in enumerate(bounds):
        ids[start:stop] = number
    return ids


def bars_since_segment_start(length: int, bounds: list[tuple[int, int]]) -> np.ndarray:
    """Per row, how many bars of its own segment precede it (0 at a segment's first bar)."""
    out = np.empty(length, dtype=np.int64)
    for start, stop in bounds:
        out[start:stop] = np.arange(stop - start)
    return out


def per_segment(
    frame: pd.DataFrame,
    bounds: list[tuple[int, int]],
    compute: Callable[[pd.DataFrame], pd.DataFrame | pd.Series],
    *,
    min_rows: int,
) -> tuple[pd.DataFrame | pd.Series | None, list[str]]:
    """``compute`` applied to every segment of at least ``min_rows`` rows separately, the parts joined in the
    frame's index order (rows of skipped segments are NaN / None); and a note per skipped segment."""
    parts, notes = [], []
    for start, stop in bounds:
        part = frame.iloc[start:stop]
        if stop - start < min_rows:
            notes.append(
                MSG_SKIPPED.format(
                    start=part["open_time"].iloc[0].isoformat(),
                    end=part["open_time"].iloc[-1].isoformat(),
                    rows=stop - start,
                    minimum=min_rows,
                )
            )
            continue
        parts.append(compute(part))
    if not parts:
        return None, notes
    return pd.concat(parts).reindex(frame.index), notes
