"""A sweep over a market list: one sweep per market with the same axes, created together or not at all."""

import pytest
from django.core.management import CommandError, call_command

from tests.training.runs_helpers import make_dataset
from training.models import Sweep, TrainingRun

pytestmark = pytest.mark.django_db


def test_every_point_on_every_market_and_one_bad_market_refuses_them_all(profile, capsys):
    make_dataset("BTCUSDT", rows=900, seed=1)
    make_dataset("ETHUSDT", rows=900, seed=2)
    with pytest.raises(CommandError) as exc:
        call_command("sweep", "BTCUSDT", "ETHUSDT", "XRPUSDT", "--param", "l1_alpha=0.001,0.1", "--preset", "tiny")
    assert "BINANCE:XRPUSDT 1h: No market data for BINANCE:XRPUSDT 1h" in str(exc.value)
    assert not Sweep.objects.exists() and not TrainingRun.objects.exists()

    call_command(
        "sweep", "BTCUSDT", "ETHUSDT", "--param", "l1_alpha=0.001,0.1", "--preset", "tiny", "--name", "l1", "--no-wait"
    )
    sweeps = list(Sweep.objects.order_by("id"))
    assert [(s.symbol, s.name, s.points.count()) for s in sweeps] == [
        ("BTCUSDT", "l1 · BINANCE:BTCUSDT 1h", 2),
        ("ETHUSDT", "l1 · BINANCE:ETHUSDT 1h", 2),
    ]
    values = {s.symbol: sorted(p.values["l1_alpha"] for p in s.points.all()) for s in sweeps}
    assert values == {"BTCUSDT": [0.001, 0.1], "ETHUSDT": [0.001, 0.1]}
    out = capsys.readouterr().out.splitlines()
    assert out == [f"sweep {sweeps[0].pk} BINANCE:BTCUSDT 1h", f"sweep {sweeps[1].pk} BINANCE:ETHUSDT 1h"]
