"""Candle gaps: holes in the time index, and the gap-free segments a run trains on.

A rolling window or a forward return computed across a hole silently spans more time than it claims (``ret_4``
across 72 missing bars is a 3-day return). The engine therefore finds every place where two consecutive candles
are further apart than one bar, cuts the series there into gap-free segments, and computes features, labels and
regimes inside each segment only (``per_segment``); a segment shorter than the minimum is skipped and named.
Rows keep their position in the full series, so the purge gap (positions) stays conservative across a hole.

The bar step is the series' most common spacing unless given. With a market calendar (``calendars``) a closure is
not a hole: two candles are adjacent when no open bar is expected between them (Friday's last forex bar and
Sunday's first), and a hole counts only the open bars that are missing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .calendars import Calendar, calendar_get, open_bar_ordinals

MAX_LISTED = 20
MSG_SKIPPED = "Gap-free segment {start} → {end} ({rows} bars) is shorter than {minimum} bars; not used."


def bar_step(open_time: pd.Series) -> pd.Timedelta:
    """The most common spacing between consecutive candles."""
    diffs = pd.Series(pd.to_datetime(open_time)).diff().dropna()
    if diffs.empty:
        return pd.Timedelta(0)
    return diffs.mode().iloc[0]


def _calendar(calendar: Calendar | str | None) -> Calendar:
    return calendar if isinstance(calendar, Calendar) else calendar_get(calendar)


def _steps_between(times: pd.Series, step: pd.Timedelta, calendar: Calendar) -> np.ndarray:
    """Per pair of consecutive candles, how many trading bars apart they are (1 = adjacent)."""
    if calendar.always_open:
        return np.where((times.diff() == step).to_numpy()[1:], 1, 2)
    return np.diff(open_bar_ordinals(times, step, calendar))


def segment_bounds(
    open_time: pd.Series, step: pd.Timedelta | None = None, calendar: Calendar | str | None = None
) -> list[tuple[int, int]]:
    """``[(start, stop), …]`` row ranges (stop exclusive) in which consecutive candles are adjacent trading bars
    (exactly one step apart for a 24/7 market)."""
    times = pd.Series(pd.to_datetime(open_time)).reset_index(drop=True)
    if times.empty:
        return []
    step = bar_step(times) if step is None else pd.Timedelta(step)
    breaks = np.flatnonzero(_steps_between(times, step, _calendar(calendar)) != 1) + 1
    edges = [0, *breaks.tolist(), len(times)]
    return list(zip(edges[:-1], edges[1:], strict=False))


def find_gaps(open_time: pd.Series, step: pd.Timedelta | None = None, calendar: Calendar | str | None = None) -> dict:
    """``{"count", "missing_bars", "largest", "where", "closures", "calendar"}``: each hole's last candle before,
    first after and how many open bars are missing (``where`` lists the first ``MAX_LISTED``; ``largest`` is the
    hole with most missing bars); ``closures`` counts the market closures the series steps over (not holes)."""
    times = pd.Series(pd.to_datetime(open_time)).reset_index(drop=True)
    step = bar_step(times) if step is None else pd.Timedelta(step)
    calendar = _calendar(calendar)
    holes = []
    apart = _steps_between(times, step, calendar) if len(times) > 1 else np.zeros(0, dtype=np.int64)
    closures = 0 if calendar.always_open else int(np.sum((apart == 1) & (times.diff().to_numpy()[1:] > step)))
    for start in (np.flatnonzero(apart != 1) + 1).tolist():
        before, after = times.iloc[start - 1], times.iloc[start]
        if calendar.always_open:
            missing = int(round((after - before) / step)) - 1 if step > pd.Timedelta(0) else 0
        else:
            missing = int(apart[start - 1]) - 1
        holes.append({"after": before.isoformat(), "before": after.isoformat(), "row": int(start), "missing": missing})
    return {
        "calendar": calendar.key,
        "closures": closures,
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
