"""Launch refuses a market whose gap-free stretches of open-market bars cannot train the preset, on its calendar."""

import numpy as np
import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.training.ml.test_calendars import forex_like
from tests.training.runs_helpers import make_dataset
from training.marketdata.candles import Candles, ParsedFile
from training.models import MarketDataset, TrainingRun
from training.services.market_calendars import dataset_set_calendar
from training.services.market_data import dataset_import_candles
from training.services.runs import MSG_DATASET_TOO_SHORT, training_run_create


def store(frame: pd.DataFrame, symbol: str, *, exchange: str, calendar: str | None = None):
    n = len(frame)
    candles = Candles(
        open_time=(frame["open_time"].astype("int64") // 10**6).to_numpy(),
        open=frame["open"].to_numpy(),
        high=frame["high"].to_numpy(),
        low=frame["low"].to_numpy(),
        close=frame["close"].to_numpy(),
        volume=frame["volume"].to_numpy(),
        quote_volume=np.full(n, np.nan),
        trades=np.full(n, -1, dtype="int64"),
    )
    parsed = ParsedFile(name="synthetic", candles=candles, rows_read=n, line_numbers=np.arange(1, n + 1))
    return dataset_import_candles(
        parsed=parsed, symbol=symbol, exchange=exchange, interval="1h", source="synthetic", calendar=calendar
    ).dataset


def launch(profile, dataset, preset="smoke"):
    return training_run_create(
        profile=profile,
        symbol=dataset.symbol,
        exchange=dataset.exchange,
        interval=dataset.interval,
        preset=preset,
        enqueue=False,
    )


def test_a_series_without_a_usable_stretch_is_refused_with_the_computed_lengths(profile):
    weekdays = store(forex_like(), "EURUSD", exchange="BINANCE")  # stored as 24/7: every weekend is a hole
    assert weekdays.calendar == "24/7" and weekdays.gap_count == 17
    with pytest.raises(ValidationError) as exc:
        launch(profile, weekdays)
    assert exc.value.messages == [
        "BINANCE:EURUSD 1h (24/7 calendar): the longest gap-free stretch of open-market bars is 120 bars "
        "(0 labeled rows over 18 stretch(es)); preset 'smoke' needs 897 (warm-up 743 + 150 rows for a regime + "
        "4 label horizon) in the last 3,000 bars the preset uses."
    ]
    assert not TrainingRun.objects.exists()

    forex = dataset_set_calendar(dataset=weekdays, calendar="forex")  # the same bars on their own calendar
    assert (forex.gap_count, forex.largest_gap) == (1, 3)
    run = launch(profile, forex)
    assert run.status == TrainingRun.Status.QUEUED and run.snapshot["data"]["calendar"] == "forex"


def test_an_fx_venue_defaults_to_the_forex_calendar_and_a_quick_run_needs_more(profile):
    dataset = store(forex_like(weeks=10, hole_week=8), "GBPUSD", exchange="OANDA")  # 1,197 bars, one hole
    assert (dataset.calendar, dataset.gap_count) == ("forex", 1)
    with pytest.raises(ValidationError) as exc:
        launch(profile, dataset, preset="quick")
    assert exc.value.messages == [
        "OANDA:GBPUSD 1h (forex calendar): the longest gap-free stretch of open-market bars is 1,022 bars "
        "(275 labeled rows over 2 stretch(es)); preset 'quick' needs 1,147 (warm-up 743 + 400 rows for a regime + "
        "4 label horizon)."
    ]
    assert launch(profile, dataset, preset="tiny").status == TrainingRun.Status.QUEUED


def test_a_dataset_of_500_candles_is_refused_at_launch_not_in_the_worker(profile):
    short = make_dataset(rows=500)
    with pytest.raises(ValidationError) as exc:
        launch(profile, short, preset="tiny")
    assert exc.value.messages == [
        MSG_DATASET_TOO_SHORT.format(
            exchange="BINANCE",
            symbol="BTCUSDT",
            interval="1h",
            rows=500,
            preset="tiny",
            minimum=897,
            warmup=743,
            min_rows=150,
            horizon=4,
        )
    ]


def test_the_calendar_is_chosen_at_import_and_changed_in_the_admin(db, tmp_path, client):
    frame = forex_like(weeks=3, hole_week=1)
    path = tmp_path / "eurusd.csv"
    lines = ["timestamp,open,high,low,close,volume"] + [
        f"{int(t.timestamp() * 1000)},{o},{h},{lo},{c},{v}"
        for t, o, h, lo, c, v in frame[["open_time", "open", "high", "low", "close", "volume"]].itertuples(index=False)
    ]
    path.write_text("\n".join(lines) + "\n")
    call_command("import_klines", str(path), "--symbol", "EURUSD", "--exchange", "HOUSE", "--calendar", "forex")
    dataset = MarketDataset.objects.get(symbol="EURUSD")
    assert (dataset.calendar, dataset.gap_count, dataset.largest_gap) == ("forex", 1, 3)
    with pytest.raises(CommandError, match="Unknown market calendar 'moon'"):
        call_command("import_klines", str(path), "--symbol", "EURUSD", "--exchange", "HOUSE", "--calendar", "moon")

    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456789"))
    url = reverse("admin:training_marketdataset_change", args=[dataset.pk])
    refused = client.post(url, {"calendar": "moon"})
    assert refused.status_code == 200 and "Unknown market calendar" in refused.content.decode()
    assert client.post(url, {"calendar": "24/7"}).status_code == 302
    dataset.refresh_from_db()
    assert (dataset.calendar, dataset.gap_count) == ("24/7", 3)  # two weekends and the hole
