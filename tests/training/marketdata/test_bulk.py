import numpy as np
import pytest

from training.marketdata.bulk import delete_candles, insert_candles
from training.marketdata.candles import Candles
from training.models import Candle, MarketDataset
from training.selectors.market_data import dataset_candle_arrays

pytestmark = pytest.mark.django_db


def candles(n: int = 5) -> Candles:
    times = 1_704_067_200_000 + 3_600_000 * np.arange(n, dtype="int64")
    times[-1] += 1_500  # a time with milliseconds
    price = np.linspace(100.0, 104.0, n)
    quote = np.where(np.arange(n) % 2 == 0, np.nan, 5.0)  # unknown on even rows
    trades = np.where(np.arange(n) % 2 == 0, -1, 7).astype("int64")
    return Candles(times, price, price + 1, price - 1, price, np.full(n, 3.0), quote, trades)


def test_insert_round_trips_with_unknown_values_as_null():
    dataset = MarketDataset.objects.create(symbol="BTCUSDT")
    insert_candles(dataset.pk, candles())
    stored = dataset_candle_arrays(dataset.pk)
    for column in Candles.FIELDS:
        np.testing.assert_array_equal(getattr(stored, column), getattr(candles(), column), err_msg=column)
    assert Candle.objects.filter(quote_volume__isnull=True, trades__isnull=True).count() == 3


def test_delete_removes_exactly_the_given_times():
    dataset, other = MarketDataset.objects.create(symbol="BTCUSDT"), MarketDataset.objects.create(symbol="ETHUSDT")
    insert_candles(dataset.pk, candles())
    insert_candles(other.pk, candles())
    assert delete_candles(dataset.pk, candles().open_time[[1, 4]]) == 2
    assert dataset_candle_arrays(dataset.pk).open_time.tolist() == candles().open_time[[0, 2, 3]].tolist()
    assert Candle.objects.filter(dataset=other).count() == 5
