from datetime import UTC, datetime

import pytest

from tests.training.market_data_files import csv_text, with_field
from training.marketdata.checks import MSG_IMPLAUSIBLE_TIME, MSG_PRICE_CEILING
from training.marketdata.csvparse import parse_candle_text
from training.marketdata.errors import CandleFileError
from training.marketdata.limits import InputLimits

NAME = "BTCUSDT-1h.csv"
NOW = datetime(2024, 1, 1, 5, 30, tzinfo=UTC)
LIMITS = InputLimits(now_ms=int(NOW.timestamp() * 1000))


def ms(*args) -> str:
    return str(int(datetime(*args, tzinfo=UTC).timestamp() * 1000))


def refusal(text: str, limits: InputLimits = LIMITS) -> list[str]:
    with pytest.raises(CandleFileError) as caught:
        parse_candle_text(text, interval="1h", name=NAME, limits=limits)
    return caught.value.messages


def implausible(line: int, time: str, latest: str = "2024-01-01 06:30:00") -> str:
    problem = MSG_IMPLAUSIBLE_TIME.format(time=time, earliest="2000-01-01", latest=latest)
    return f"{NAME}: line {line}, column open_time: {problem}"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (ms(2317, 1, 1), "2317-01-01 00:00:00"),
        (ms(1922, 1, 1), "1922-01-01 00:00:00"),
        (ms(1999, 12, 31, 23), "1999-12-31 23:00:00"),
        ("1" + "0" * 25, "1000000000000000 ms since 1970"),
    ],
)
def test_open_times_outside_2000_to_now_are_refused_with_their_line(value, shown):
    assert refusal(with_field(2, 0, value)) == [implausible(3, shown)]


def test_the_latest_plausible_open_time_is_one_interval_after_now():
    clock = InputLimits(now_ms=int(datetime(2024, 1, 1, 4, tzinfo=UTC).timestamp() * 1000))
    assert len(parse_candle_text(csv_text(), interval="1h", name=NAME, limits=clock).candles) == 6
    clock = InputLimits(now_ms=int(datetime(2024, 1, 1, 3, 59, tzinfo=UTC).timestamp() * 1000))
    assert refusal(csv_text(), clock) == [implausible(6, "2024-01-01 05:00:00", latest="2024-01-01 04:59:00")]


def test_a_1e308_price_is_refused_below_the_default_ceiling():
    text = with_field(1, 2, "1e308")
    problem = MSG_PRICE_CEILING.format(value=1e308, ceiling=1e12)
    assert refusal(text, InputLimits()) == [f"{NAME}: line 2, column high: {problem}"]


def test_the_price_ceiling_is_configurable():
    limits = InputLimits(max_price=42_700.0, now_ms=LIMITS.now_ms)
    problem = MSG_PRICE_CEILING.format(value=42775.0, ceiling=42700.0)
    assert refusal(csv_text(), limits) == [f"{NAME}: line 2, column high: {problem}"]


def test_an_infinite_price_is_not_finite():
    assert refusal(with_field(0, 4, "inf")) == [f"{NAME}: line 1, column close: value 'inf' is not finite"]
