"""A market's calendar after import: change it and count the holes again (closures are not holes)."""

from __future__ import annotations

from django.db import transaction

from training.marketdata.times import interval_ms
from training.ml.calendars import calendar_key
from training.models import MarketDataset
from training.selectors.market_data import dataset_candle_arrays
from training.services.market_data import update_dataset_summary


def dataset_set_calendar(*, dataset: MarketDataset, calendar: str) -> MarketDataset:
    """Give a market another calendar (raises ValueError for an unknown one); its holes are counted again."""
    dataset.calendar = calendar_key(calendar)
    with transaction.atomic():
        update_dataset_summary(dataset, dataset_candle_arrays(dataset.pk), interval_ms(dataset.interval))
        dataset.full_clean()
        dataset.save()
    return dataset
