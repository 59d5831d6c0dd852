"""The cross-market robustness page on real stored runs: the session's trained run on two markets, its
reference run worse on one market (a planted effect) and identical on the other."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.training.runs_helpers import make_profile
from tests.training.trained_run import trained_artifacts, worse_copy  # noqa: F401
from training.marketdata.csvparse import parse_candle_file
from training.marketdata.sample import SAMPLE_FILE
from training.models import TrainingRun
from training.selectors.robustness import profile_robustness
from training.services.market_data import dataset_import_candles, dataset_load_sample
from training.services.runs import training_run_create

pytestmark = pytest.mark.django_db


def succeeded(profile, dataset, saved) -> TrainingRun:
    run = training_run_create(
        profile=profile, symbol=dataset.symbol, exchange=dataset.exchange, preset="tiny", enqueue=False
    )
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        result=saved["result"],
        artifacts_path=saved["artifacts_path"],
    )
    run.refresh_from_db()
    return run


def test_the_table_says_helps_on_the_planted_market_and_no_evidence_on_the_other(
    trained_artifacts,  # noqa: F811
    tmp_path,
    admin_client,
):
    dataset_load_sample()
    sample = parse_candle_file(SAMPLE_FILE, interval="1h")
    copy = dataset_import_candles(parsed=sample, symbol="BTCUSD", exchange="BITFINEX", interval="1h", source="copy")
    strong, weak = make_profile("strong"), make_profile("weak")
    btc = copy.dataset.__class__.objects.get(symbol="BTCUSDT")
    succeeded(strong, btc, trained_artifacts)
    worse_copy(succeeded(weak, btc, trained_artifacts), tmp_path)  # planted: the reference is worse here
    succeeded(strong, copy.dataset, trained_artifacts)
    succeeded(weak, copy.dataset, trained_artifacts)  # identical predictions: nothing to find

    table = profile_robustness(profile=strong, reference=weak, preset="tiny")
    assert [(r.market, r.effect) for r in table.rows] == [
        ("BINANCE:BTCUSDT 1h", "helps"),
        ("BITFINEX:BTCUSD 1h", "no evidence"),
    ]
    assert (table.helps, table.hurts, table.unchanged, table.sign_test_p) == (1, 0, 1, 1.0)
    assert table.rows[1].difference == 0.0 and table.rows[0].ci95_high < 0 and table.rows[0].bars > 0
    assert table.rows[0].system_verdict.startswith("better in ") and table.rows[0].after_cost_sharpe is None

    page = admin_client.get(
        reverse("training:robustness"), {"profile": strong.pk, "reference": weak.pk, "preset": "tiny"}
    ).content.decode()
    assert "helps on 1, hurts on 0, unchanged on 1 of 2 markets" in page and "sign test p = 1.000" in page
    same = admin_client.get(reverse("training:robustness"), {"profile": strong.pk, "reference": strong.pk})
    assert "Pick a profile and a different reference profile" in same.content.decode()
