"""The market overview: every market with data, its calendar, range, holes and latest run; sortable."""

import re

import pytest
from django.urls import reverse

from tests.training.ml.test_calendars import forex_like
from tests.training.runs_helpers import make_dataset
from tests.training.services.test_runs_stretches import store
from training.services.runs import training_run_create

pytestmark = pytest.mark.django_db


def markets_in_order(page: str) -> list[str]:
    return re.findall(r'<td><a href="/admin/training/marketdataset/\d+/change/">([^<]+)</a>', page)


def test_the_overview_lists_every_market_and_sorts_by_any_column(launcher_client, profile):
    make_dataset("BTCUSDT", rows=900)
    store(forex_like(weeks=10, hole_week=8), "EURUSD", exchange="OANDA")
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset="tiny", enqueue=False)
    page = launcher_client.get(reverse("training:market_list")).content.decode()
    assert markets_in_order(page) == ["BINANCE:BTCUSDT 1h", "OANDA:EURUSD 1h"]
    assert "<td>forex</td>" in page and "<td>24/7</td>" in page and "(largest 3 bars)" in page
    assert f'href="/runs/{run.pk}/"' in page and "status-queued" in page
    by_holes = launcher_client.get(reverse("training:market_list"), {"sort": "-holes"}).content.decode()
    assert markets_in_order(by_holes) == ["OANDA:EURUSD 1h", "BINANCE:BTCUSDT 1h"]
    assert 'aria-sort="descending"' in by_holes and 'href="?sort=holes"' in by_holes
    unknown = launcher_client.get(reverse("training:market_list"), {"sort": "nonsense"}).content.decode()
    assert markets_in_order(unknown) == markets_in_order(page)
