"""Outlier bars are refused with their line and column: an absurd volume, a price near zero, a bar spanning or
jumping by more than the settable factor."""

from __future__ import annotations

import pytest

from tests.training.market_data_files import ROWS, lines, with_field
from training.marketdata.checks import MSG_BAR_RANGE, MSG_PRICE_FLOOR, MSG_PRICE_JUMP, MSG_VOLUME_CEILING
from training.marketdata.csvparse import parse_candle_text
from training.marketdata.errors import CandleFileError
from training.marketdata.limits import InputLimits

LIMITS = InputLimits()


def problems(text: str, limits: InputLimits = LIMITS) -> list[str]:
    with pytest.raises(CandleFileError) as refused:
        parse_candle_text(text, interval="1h", name="bars.csv", limits=limits)
    return refused.value.messages


def scaled(line_index: int, factor: float) -> str:
    """The file with every price of one row multiplied by `factor`."""
    rows = [list(row) for row in ROWS]
    for column in (1, 2, 3, 4):
        rows[line_index][column] = repr(float(rows[line_index][column]) * factor)
    return "\n".join(lines(rows)) + "\n"


def test_an_absurd_volume_is_refused_on_its_line():
    found = problems(with_field(1, 5, "1e308"))
    assert found == ["bars.csv: line 2, column volume: " + MSG_VOLUME_CEILING.format(value=1e308, ceiling=1e18)]


def test_prices_near_zero_are_refused():
    found = problems(scaled(2, 1e-304))
    assert found[0].startswith("bars.csv: line 3, column open: ") and "(MARKET_DATA_MIN_PRICE)" in found[0]
    assert found[0].endswith(MSG_PRICE_FLOOR.format(value=float(ROWS[2][1]) * 1e-304, floor=1e-12))


def test_a_one_bar_spike_of_2_4_million_times_is_refused():
    high = float(ROWS[2][2]) * 2.4e6
    found = problems(with_field(2, 2, repr(high)))
    factor = high / float(ROWS[2][3])
    assert found == [
        "bars.csv: line 3, column high: "
        + MSG_BAR_RANGE.format(high=high, low=float(ROWS[2][3]), factor=factor, limit=10)
    ]


def test_a_jump_from_the_previous_close_beyond_the_factor_is_refused_and_the_factor_is_settable():
    text = scaled(3, 100.0)
    found = problems(text)
    opened, previous_close = float(ROWS[3][1]) * 100, float(ROWS[2][4])
    expected = MSG_PRICE_JUMP.format(
        open=opened, close=previous_close, factor=opened / previous_close, line=3, limit=10
    )
    assert found[0] == f"bars.csv: line 4, column open: {expected}"
    settable = InputLimits(max_price_jump=1000)
    assert len(parse_candle_text(text, interval="1h", name="bars.csv", limits=settable).candles) == len(ROWS)
