"""Trading settings at launch: defaults in the snapshot, a bad value refused with a clear message, kept on re-run."""

import pytest
from django.core.exceptions import ValidationError

from training.ml.trading.rule import THETA_GRID
from training.services.runs import training_run_create, training_run_rerun
from training.services.runs.launch import MSG_TRADING_INVALID

pytestmark = pytest.mark.django_db


def test_the_snapshot_holds_the_trading_settings(profile, dataset):
    run = training_run_create(profile=profile, symbol=dataset.symbol, preset="tiny", enqueue=False)
    assert run.snapshot["trading"] == {
        "cost_bps": 10.0,
        "allow_short": True,
        "hold": "horizon",
        "theta_grid": list(THETA_GRID),
    }
    chosen = {"cost_bps": 5.0, "allow_short": False, "hold": "bar"}
    custom = training_run_create(profile=profile, symbol=dataset.symbol, preset="tiny", enqueue=False, trading=chosen)
    assert {k: custom.snapshot["trading"][k] for k in chosen} == chosen
    again = training_run_rerun(run=custom)
    assert again.snapshot["trading"] == custom.snapshot["trading"]


@pytest.mark.parametrize("trading", [{"cost_bps": -1}, {"hold": "week"}, {"theta_grid": []}, {"shorting": True}])
def test_bad_trading_settings_are_refused(profile, dataset, trading):
    with pytest.raises(ValidationError) as caught:
        training_run_create(profile=profile, symbol=dataset.symbol, preset="tiny", enqueue=False, trading=trading)
    assert caught.value.messages[0].startswith(MSG_TRADING_INVALID.split("{")[0])
