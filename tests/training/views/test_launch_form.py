"""The launch form: one dataset picker, presets described with their measured duration, profile values shown."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.training.runs_helpers import make_dataset
from training.models import MarketDataset, TrainingRun

pytestmark = pytest.mark.django_db


def test_one_picker_names_market_rows_range_and_the_offline_sample(launcher_client, profile, dataset):
    MarketDataset.objects.filter(pk=dataset.pk).update(is_sample=True, source="Bitfinex BTC/USD hourly. Redistributed")
    make_dataset("ETHUSDT", interval="4h")
    form = launcher_client.get(reverse("training:run_new")).context["form"]
    labels = dict(form.fields["dataset"].choices)
    assert labels["BINANCE:BTCUSDT:1h"].startswith(f"BINANCE:BTCUSDT 1h — {dataset.row_count:,} rows, 2024-01-01 → ")
    assert labels["BINANCE:BTCUSDT:1h"].endswith("offline sample, Bitfinex BTC/USD hourly")
    assert "BINANCE:ETHUSDT:4h" in labels and form["dataset"].value() == "BINANCE:BTCUSDT:1h"


def test_launching_from_the_picker(launcher_client, profile, dataset, django_capture_on_commit_callbacks):
    make_dataset("ETHUSDT", interval="4h")
    data = {"dataset": "BINANCE:ETHUSDT:4h", "profile": profile.pk, "preset": "tiny"}
    with django_capture_on_commit_callbacks(execute=False):
        response = launcher_client.post(reverse("training:run_new"), data)
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and (run.symbol, run.interval, run.exchange) == ("ETHUSDT", "4h", "BINANCE")


def test_a_forged_dataset_value_is_refused(launcher_client, profile, dataset):
    response = launcher_client.post(
        reverse("training:run_new"), {"dataset": "X:Y", "profile": profile.pk, "preset": "tiny"}
    )
    assert response.status_code == 400 and not TrainingRun.objects.exists()


def test_presets_are_described_with_their_measured_duration(launcher_client, profile, dataset):
    now = timezone.now()
    for seconds in (10, 14, 30):
        TrainingRun.objects.create(
            symbol="BTCUSDT", profile=profile, snapshot={}, preset="smoke", status="succeeded",
            started_at=now - timedelta(seconds=seconds), finished_at=now,
        )  # fmt: skip
    labels = dict(launcher_client.get(reverse("training:run_new")).context["form"].fields["preset"].choices)
    assert labels["smoke"].startswith("smoke: the last 3,000 bars") and "median 14 s over 3 run(s)" in labels["smoke"]
    assert "measured here" not in labels["quick"]


def test_profiles_show_their_values_and_no_doubled_default(launcher_client, dataset):
    from tests.training.runs_helpers import make_profile

    make_profile("default", is_default=True)
    page = launcher_client.get(reverse("training:run_new")).content.decode()
    assert "default (default)" not in page and "default — L1 0.01 · L2 0.001 · dropout 0.2" in page
