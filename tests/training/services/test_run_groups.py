"""Run groups: every market validated first (refused whole), one queued run per market; form, API, admin, CLI."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from tests.training.runs_helpers import make_dataset
from training.marketdata.markets import Market, parse_markets
from training.models import ActiveModel, RunGroup, TrainingRun
from training.selectors.promotion_checks import promotion_checks_evaluate
from training.selectors.run_groups import run_group_status
from training.services.run_groups import run_group_create
from training.services.schedules import schedule_create, schedule_execute

pytestmark = pytest.mark.django_db
BTC, ETH = Market("BINANCE", "BTCUSDT", "1h"), Market("BINANCE", "ETHUSDT", "1h")


@pytest.fixture
def two_markets(db):
    return make_dataset("BTCUSDT", rows=900, seed=1), make_dataset("ETHUSDT", rows=900, seed=2)


def test_a_group_is_one_queued_run_per_market_with_the_group_in_each_snapshot(profile, two_markets, launcher):
    group = run_group_create(profile=profile, markets=[BTC, ETH], preset="tiny", user=launcher, enqueue=False)
    runs = list(group.runs.order_by("id"))
    assert [(r.symbol, r.status, r.group_id) for r in runs] == [
        ("BTCUSDT", "queued", group.pk),
        ("ETHUSDT", "queued", group.pk),
    ]
    assert all(r.snapshot["group"] == {"id": group.pk, "markets": 2} and r.launched_by == launcher for r in runs)
    assert run_group_status(runs=runs) == ("queued", {"queued": 2})
    runs[0].status = TrainingRun.Status.SUCCEEDED
    assert run_group_status(runs=runs)[0] == "running"
    runs[1].status = TrainingRun.Status.FAILED
    assert run_group_status(runs=runs) == ("partly failed", {"succeeded": 1, "failed": 1})


def test_a_group_with_a_market_that_cannot_train_is_refused_whole_with_every_reason(profile, two_markets):
    make_dataset("SOLUSDT", rows=897, seed=3)  # long enough for tiny, not for quick
    with pytest.raises(ValidationError) as exc:
        run_group_create(
            profile=profile,
            markets=[BTC, ETH, Market("BINANCE", "SOLUSDT", "1h"), Market("BINANCE", "XRPUSDT", "1h")],
            preset="quick",
            enqueue=False,
        )
    messages = exc.value.messages
    assert all(
        m.startswith(
            (
                "BINANCE:BTCUSDT 1h: Dataset",
                "BINANCE:ETHUSDT 1h: Dataset",
                "BINANCE:SOLUSDT 1h: Dataset",
                "BINANCE:XRPUSDT 1h: No market data",
            )
        )
        for m in messages
    ), messages
    assert len(messages) == 4 and "needs at least 1147" in messages[0]
    assert not RunGroup.objects.exists() and not TrainingRun.objects.exists()
    with pytest.raises(ValidationError) as exc:
        run_group_create(profile=profile, markets=[BTC, ETH], preset="huge", enqueue=False)
    assert [m for m in exc.value.messages if "Unknown preset 'huge'" in m] == [exc.value.messages[0]]  # listed once
    assert "BINANCE" not in exc.value.messages[0]


def test_market_lists_parse_defaults_and_refuse_duplicates():
    assert parse_markets(["btcusdt", "KRAKEN:ETHUSD 4h", "# note", "", {"symbol": "SOLUSDT"}], interval="1h") == [
        BTC,
        Market("KRAKEN", "ETHUSD", "4h"),
        Market("BINANCE", "SOLUSDT", "1h"),
    ]
    with pytest.raises(ValueError, match="listed more than once"):
        parse_markets(["BTCUSDT", "BINANCE:BTCUSDT 1h"])
    with pytest.raises(ValueError, match="'BTC/USDT' is not valid"):
        parse_markets(["BTC/USDT"])


def test_the_form_the_api_and_the_admin_launch_groups(profile, two_markets, launcher_client, launcher):
    url = reverse("training:run_group_new")
    response = launcher_client.post(
        url, {"markets": ["BINANCE:BTCUSDT:1h", "BINANCE:ETHUSDT:1h"], "profile": profile.pk, "preset": "tiny"}
    )
    group = RunGroup.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("training:run_group_detail", args=[group.pk])
    page = launcher_client.get(response["Location"]).content.decode()
    assert 'id="group-status">queued<' in page and "BINANCE:ETHUSDT 1h" in page and page.count("status-queued") == 2
    refused = launcher_client.post(url, {"markets": ["BINANCE:BTCUSDT:1h"], "profile": profile.pk, "preset": "quick"})
    assert (
        refused.status_code == 400
        and "BINANCE:BTCUSDT 1h: Dataset BINANCE:BTCUSDT 1h has 900 candles" in refused.content.decode()
    )

    api = APIClient()
    api.force_authenticate(launcher)
    created = api.post("/api/run-groups/", {"markets": ["BTCUSDT", "ETHUSDT"], "preset": "tiny"}, format="json")
    assert created.status_code == 201, created.json()
    body = api.get(f"/api/run-groups/{created.json()['id']}/").json()
    assert body["status"] == "queued" and [r["market"] for r in body["runs"]] == [
        "BINANCE:BTCUSDT 1h",
        "BINANCE:ETHUSDT 1h",
    ]
    bad = api.post("/api/run-groups/", {"markets": ["BTCUSDT", "BTCUSDT"]}, format="json")
    assert bad.status_code == 400 and "listed more than once" in str(bad.json())
    assert api.get("/api/run-groups/999/").status_code == 404

    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456789")
    launcher_client.force_login(admin)
    chosen = launcher_client.post(
        reverse("admin:training_marketdataset_changelist"),
        {"action": "launch_group", "_selected_action": [d.pk for d in two_markets]},
    )
    assert (
        chosen.status_code == 302
        and "market=BINANCE%3ABTCUSDT%3A1h" in chosen["Location"]
        and "trigger=admin" in chosen["Location"]
    )
    form = launcher_client.get(chosen["Location"]).content.decode()
    assert form.count(" checked>") == 2


def test_train_symbol_with_several_markets_queues_a_group(profile, two_markets, tmp_path, capsys):
    (tmp_path / "m.txt").write_text("ETHUSDT\n")
    call_command("train_symbol", "BTCUSDT", "--markets", str(tmp_path / "m.txt"), "--preset", "tiny", "--no-wait")
    group = RunGroup.objects.get()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"group {group.pk}: 2 runs" and group.trigger == TrainingRun.Trigger.CLI
    with pytest.raises(CommandError, match="listed more than once"):
        call_command("train_symbol", "BTCUSDT", "BTCUSDT", "--no-wait")


@pytest.mark.slow
def test_a_schedule_with_more_markets_fires_one_group_and_applies_its_policy_to_each_run(profile, two_markets):
    with pytest.raises(ValidationError) as exc:
        schedule_create(symbol="BTCUSDT", crontab="0 * * * *", preset="tiny", more_markets=["BTC/USDT"])
    assert set(exc.value.message_dict) == {"more_markets"}
    schedule = schedule_create(
        symbol="BTCUSDT", crontab="0 * * * *", preset="tiny", more_markets=["ethusdt"], promote="always"
    )
    assert schedule.more_markets == ["BINANCE:ETHUSDT 1h"]
    first = schedule_execute(schedule_id=schedule.pk, worker="inline@test")
    group = RunGroup.objects.get()
    runs = list(group.runs.order_by("id"))
    assert first == runs[0] and [(r.symbol, r.status, r.trigger) for r in runs] == [
        ("BTCUSDT", "succeeded", "schedule"),
        ("ETHUSDT", "succeeded", "schedule"),
    ]
    assert all(f"group #{group.pk}" in r.log and "promotion policy 'always'" in r.log for r in runs)
    # 'always' still goes through the promotion guard and a schedule never overrides it: each market's run is
    # active exactly when the guard lets it through.
    for run in runs:
        passes = not any(check.failed for check in promotion_checks_evaluate(run=run))
        assert ActiveModel.objects.filter(symbol=run.symbol, run=run).exists() == passes
