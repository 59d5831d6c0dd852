"""Candle checks: values (positive prices, high >= low, open/close inside [low, high], volumes, trades),
plausibility (open times from 2000-01-01 to one interval after now, prices below a ceiling), then the series
as a whole (order, duplicates, the declared interval and its grid). Problems name the file line and column."""

from __future__ import annotations

import numpy as np

from training.marketdata.candles import PRICE_COLUMNS, Candles, ParsedFile
from training.marketdata.errors import Problems, located
from training.marketdata.limits import InputLimits
from training.marketdata.times import DAY_MS, format_duration, format_time

MSG_NOT_POSITIVE = "price {value} is not positive"
MSG_NEGATIVE = "{value} is negative"
MSG_NOT_INTEGER = "trade count {value} is not a whole number"
MSG_HIGH_BELOW_LOW = "high {high} is below low {low}"
MSG_OUTSIDE_RANGE = "{value} is outside [low {low}, high {high}]"
MSG_PRICE_CEILING = "price {value:g} is above the ceiling {ceiling:g} (MARKET_DATA_MAX_PRICE)"
MSG_PRICE_FLOOR = "price {value:g} is below the floor {floor:g} (MARKET_DATA_MIN_PRICE)"
MSG_VOLUME_CEILING = "{value:g} is above the ceiling {ceiling:g} (MARKET_DATA_MAX_VOLUME)"
MSG_BAR_RANGE = (
    "high {high:g} is {factor:,.1f} times low {low:g}, beyond the factor {limit:g} (MARKET_DATA_MAX_PRICE_JUMP)"
)
MSG_PRICE_JUMP = (
    "open {open:g} is {factor:,.1f} times away from the previous bar's close {close:g} (line {line}), beyond the "
    "factor {limit:g} (MARKET_DATA_MAX_PRICE_JUMP)"
)
MSG_IMPLAUSIBLE_TIME = (
    "open time {time} is not plausible: candles must open from {earliest} to one interval after now ({latest})"
)
MSG_CONFLICTING_DUPLICATE = (
    "open time {time} appears twice with different values (line {first} has {column} {first_value}, "
    "this line has {value})"
)
MSG_UNSORTED = "rows are not in time order (first one out of order: {time}); they were sorted"
MSG_INTERVAL_MISMATCH = (
    "candles are {step} apart (the most common step, seen {count} times) but the declared interval is {interval}"
)
MSG_OFF_GRID = "open time {time} is not on the {interval} grid"


def safe_time(ms: int) -> str:
    """A time for messages, also for values outside what datetime can hold."""
    try:
        return format_time(ms)
    except (OverflowError, OSError, ValueError):
        return f"{int(ms)} ms since 1970"


def check_values(values: dict, ok: np.ndarray, line_numbers: np.ndarray, display: dict, problems: Problems) -> None:
    """Marks rows with impossible values as not ok and lists each (the first problem of a row only)."""
    v = values

    def report(mask, column, make_problem):
        for i in np.flatnonzero(mask & ok):
            problems.add(int(line_numbers[i]), display[column], make_problem(i))
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


def check_plausible(
    times: np.ndarray,
    values: dict,
    ok: np.ndarray,
    line_numbers: np.ndarray,
    display: dict,
    problems: Problems,
    *,
    limits: InputLimits,
    step_ms: int,
) -> None:
    """Open times between 2000-01-01 and now + one interval; prices between the floor and the ceiling; volumes
    below their ceiling; no bar spanning, or jumping from the previous close by, more than the jump factor."""
    latest = limits.latest_ms(step_ms)
    for i in np.flatnonzero(((times < limits.earliest_ms) | (times > latest)) & ok):
        problem = MSG_IMPLAUSIBLE_TIME.format(
            time=safe_time(times[i]), earliest=format_time(limits.earliest_ms)[:10], latest=format_time(latest)
        )
        problems.add(int(line_numbers[i]), display["open_time"], problem)
        ok[i] = False
    for column in PRICE_COLUMNS:
        for i in np.flatnonzero((values[column] > limits.max_price) & ok):
            problem = MSG_PRICE_CEILING.format(value=values[column][i], ceiling=limits.max_price)
            problems.add(int(line_numbers[i]), display[column], problem)
            ok[i] = False
        for i in np.flatnonzero((values[column] > 0) & (values[column] < limits.min_price) & ok):
            problem = MSG_PRICE_FLOOR.format(value=values[column][i], floor=limits.min_price)
            problems.add(int(line_numbers[i]), display[column], problem)
            ok[i] = False
    for column in ("volume", "quote_volume"):
        if column not in display:
            continue
        for i in np.flatnonzero((values[column] > limits.max_volume) & ok):
            problem = MSG_VOLUME_CEILING.format(value=values[column][i], ceiling=limits.max_volume)
            problems.add(int(line_numbers[i]), display[column], problem)
            ok[i] = False
    _check_jumps(times, values, ok, line_numbers, display, problems, limit=limits.max_price_jump, step_ms=step_ms)


def _check_jumps(times, values, ok, line_numbers, display, problems: Problems, *, limit: float, step_ms: int) -> None:
    """A bar's high against its low, and its open against the close of the bar one interval before it."""
    high, low, open_, close = values["high"], values["low"], values["open"], values["close"]
    with np.errstate(divide="ignore", invalid="ignore"):
        spans = high / low
        for i in np.flatnonzero((spans > limit) & (low > 0) & ok):
            problem = MSG_BAR_RANGE.format(high=high[i], low=low[i], factor=spans[i], limit=limit)
            problems.add(int(line_numbers[i]), display["high"], problem)
            ok[i] = False
        if len(times) < 2:
            return
        after = np.flatnonzero((np.diff(times) == step_ms) & ok[:-1] & ok[1:]) + 1
        jumps = np.maximum(open_[after] / close[after - 1], close[after - 1] / open_[after])
    for k in np.flatnonzero(jumps > limit):
        i = after[k]
        problem = MSG_PRICE_JUMP.format(
            open=open_[i], close=close[i - 1], factor=jumps[k], line=int(line_numbers[i - 1]), limit=limit
        )
        problems.add(int(line_numbers[i]), display["open"], problem)
        ok[i] = False


def _same(a, b) -> bool:
    return bool(a == b or (a != a and b != b))


def order_and_check_spacing(
    name: str, candles: Candles, line_numbers: np.ndarray, rows_read: int, interval: str, step_ms: int, display: dict
) -> ParsedFile:
    """Sort (with a warning), drop identical repeats, refuse conflicting repeats and a series whose spacing is not
    the declared interval or whose times are off its grid."""
    display = {**{c: c for c in Candles.FIELDS}, **display}
    warnings: list[str] = []
    problems = Problems(name)
    diffs = np.diff(candles.open_time)
    if (diffs < 0).any():
        first_bad = int(np.flatnonzero(diffs < 0)[0]) + 1
        problem = MSG_UNSORTED.format(time=format_time(candles.open_time[first_bad]))
        warnings.append(located(name, int(line_numbers[first_bad]), display["open_time"], problem))
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
            if not _same(a, b):
                problem = MSG_CONFLICTING_DUPLICATE.format(
                    time=format_time(candles.open_time[i]),
                    first=int(line_numbers[j]),
                    column=column,
                    first_value=a,
                    value=b,
                )
                problems.add(int(line_numbers[i]), display[column], problem)
                break
        keep[i] = False
    duplicates = int((~keep).sum())
    if duplicates:
        candles, line_numbers = candles.take(keep), line_numbers[keep]
    diffs = np.diff(candles.open_time)
    if len(diffs):
        steps, counts = np.unique(diffs, return_counts=True)
        common = step_ms if counts[steps == step_ms].sum() == counts.max() else int(steps[np.argmax(counts)])
        if common != step_ms:
            at = int(np.flatnonzero(diffs == common)[0]) + 1
            problem = MSG_INTERVAL_MISMATCH.format(
                step=format_duration(common), count=int(counts.max()), interval=interval
            )
            problems.add(int(line_numbers[at]), display["open_time"], problem)
        else:
            anchor = 0 if step_ms <= DAY_MS else int(candles.open_time[0])
            for i in np.flatnonzero((candles.open_time - anchor) % step_ms != 0):
                problem = MSG_OFF_GRID.format(time=format_time(candles.open_time[i]), interval=interval)
                problems.add(int(line_numbers[i]), display["open_time"], problem)
    problems.raise_if_any()
    return ParsedFile(
        name=name,
        candles=candles,
        rows_read=rows_read,
        line_numbers=line_numbers,
        duplicates_skipped=duplicates,
        warnings=warnings,
    )
