"""prediction_serve: every served prediction is logged once per market, run and bar; asking again for the same
bar returns the stored answer (not a recomputation), a new bar gets its own row."""

from __future__ import annotations

import pytest

from tests.training.trained_run import make_trained_run
from training.ml.predict import ModelUnavailable, clear_cache
from training.models import PredictionLog, TrainingRun
from training.selectors.predictions import stored_candles_tail
from training.services.predictions import SOURCE_API, SOURCE_CLI, prediction_serve

pytestmark = pytest.mark.django_db


def test_a_repeated_request_for_a_bar_returns_the_stored_prediction(trained_artifacts, tmp_path):
    run = make_trained_run(trained_artifacts)
    first = prediction_serve(run=run, source=SOURCE_API)
    again = prediction_serve(run=run, source=SOURCE_CLI)
    assert again == first and first["source"] == SOURCE_API
    theta = run.result["trading"]["theta"]["theta"]  # the rule the run chose on validation, applied by hand
    score = first["probabilities"]["up"] - first["probabilities"]["down"]
    short = run.result["trading"]["settings"]["allow_short"]
    assert first["position"] == (1.0 if score > theta else -1.0 if short and score < -theta else 0.0)
    log = PredictionLog.objects.get()
    assert (log.run_id, log.probabilities, log.regime) == (run.pk, first["probabilities"], first["regime"])
    assert log.features and all(isinstance(v, float) for v in log.features.values())
    # The model's files gone: the logged bar is still answered from the log, a new bar cannot be.
    clear_cache()
    TrainingRun.objects.filter(pk=run.pk).update(artifacts_path=str(tmp_path / "gone"))
    run.refresh_from_db()
    assert prediction_serve(run=run) == first
    tail = stored_candles_tail(exchange=run.exchange, symbol=run.symbol, interval=run.interval, bars=600)
    rows = [[t.isoformat(), o, h, lo, c, v] for t, o, h, lo, c, v in tail.iloc[:-1].itertuples(index=False)]
    with pytest.raises(ModelUnavailable):
        prediction_serve(run=run, candles=rows)
    assert PredictionLog.objects.count() == 1
