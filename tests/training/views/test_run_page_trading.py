"""The run page opens with the system verdict: after-cost Sharpe with its interval, PSR, DSR with N, shift-null p,
the 0 bps numbers, the equity chart's data (drawn by Chart.js, not a PNG) and the verdicts raw and Holm."""

import json

import pytest
from django.urls import reverse

from training.ml.results import RunResult
from training.templatetags.ares_ui import num

pytestmark = pytest.mark.django_db


def test_the_system_verdict_comes_first(launcher_client, real_run):
    page = launcher_client.get(reverse("training:run_detail", args=[real_run.pk])).content.decode()
    trading = RunResult.from_dict(real_run.result).trading
    assert page.index('id="system"') < page.index('id="summary"') < page.index('id="metrics"')
    system = page.split('id="system"', 1)[1].split("</section>", 1)[0]
    assert f"<code>{trading.summary_line()}</code>" in system
    a, b = trading.after_costs, trading.before_costs
    assert (
        f'{num(a.stats.sharpe, 2)} <span class="muted">[{num(a.sharpe_ci95_low, 2)} … {num(a.sharpe_ci95_high, 2)}]'
        in system
    )
    assert f'{num(b.stats.sharpe, 2)} <span class="muted">[{num(b.sharpe_ci95_low, 2)}' in system
    assert f"<strong>N = {trading.deflation.n_trials}</strong>" in system
    assert trading.settings["described"] in system and "training/js/trading_chart.js" in system
    data = json.loads(page.split('id="system-equity-data" type="application/json">', 1)[1].split("</script>", 1)[0])
    assert data == trading.equity.to_dict() and len(data["buy_and_hold"]) == len(data["time"])
    holm = system.split('id="holm-table"', 1)[1]
    assert holm.count("<tr data-regime=") == len(trading.verdicts) > 0
    for v in trading.verdicts:
        assert f'data-regime="{v.regime}" data-model="{v.model}"' in holm
