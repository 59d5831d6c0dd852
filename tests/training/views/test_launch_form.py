"""The launch form: one dataset picker, presets described with their measured duration, profile values shown."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

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


def test_the_panel_beside_the_picker_shows_the_chosen_profiles_resolved_values(launcher_client, dataset):
    from tests.training.runs_helpers import make_profile
    from training.selectors.profiles import profile_report

    default = make_profile("default", is_default=True, description="the seed's base values")
    strong = make_profile("strong", l1_alpha=0.05, lightgbm_reg_lambda=2.5, dropout_rate=0.8)
    page = launcher_client.get(reverse("training:run_new")).content.decode()
    panels = page.split('class="profile-panel"')[1:]
    shown = [p for p in panels if f'data-profile="{default.pk}">' in p]
    hidden = [p for p in panels if f'data-profile="{strong.pk}" hidden>' in p]
    assert len(panels) == 2 and shown and hidden
    assert "the seed&#x27;s base values" in shown[0]
    assert f"badge status-{profile_report(profile=default)['status']}" in shown[0]
    report = profile_report(profile=strong)
    lgbm = {row["name"]: row for row in report["backends"]["lightgbm"]["params"]}
    assert lgbm["reg_lambda"]["source"] == "override"
    assert 'reg_lambda <strong>2.5</strong> <span class="muted">(override)</span>' in hidden[0]
    assert f"reg_alpha <strong>{lgbm['reg_alpha']['value']}</strong>" in hidden[0]  # derived from L1 0.05
    assert report["status"] == "warning" and "badge status-warning" in hidden[0]
    assert report["warnings"] and all(escape(message) in hidden[0] for message in report["warnings"])
    assert f'href="{reverse("training:run_list")}?profile={strong.pk}"' in hidden[0]
    assert "training/js/launch_form.js" in page


def test_the_form_sets_the_trading_rule_and_refuses_a_bad_cost(
    launcher_client, profile, dataset, django_capture_on_commit_callbacks
):
    data = {"dataset": "BINANCE:BTCUSDT:1h", "profile": profile.pk, "preset": "tiny", "hold": "bar"}
    refused = launcher_client.post(reverse("training:run_new"), {**data, "cost_bps": "-1", "long_only": "on"})
    assert refused.status_code == 400 and not TrainingRun.objects.exists()
    assert refused.context["form"].errors["cost_bps"] and refused.context["form"]["long_only"].value()
    with django_capture_on_commit_callbacks(execute=False):
        response = launcher_client.post(reverse("training:run_new"), {**data, "cost_bps": "5", "long_only": "on"})
    trading = TrainingRun.objects.get().snapshot["trading"]
    assert response.status_code == 302
    assert (trading["cost_bps"], trading["allow_short"], trading["hold"]) == (5.0, False, "bar")
