"""What a run trains on and where it writes, read from its row: the candles in the range its snapshot recorded at
launch, its market calendar and its artifacts folder. The single-process run and every regime part read them here."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from training.artifact_store import run_key, working_dir
from training.models import TrainingRun
from training.selectors.market_data import dataset_candles_frame

MSG_NO_DATASET_ON_RUN = "Run #{pk} has no dataset."


def run_candles(run: TrainingRun) -> pd.DataFrame:
    """The dataset's candles within the range recorded in the snapshot at launch."""
    if run.dataset is None:
        raise ValueError(MSG_NO_DATASET_ON_RUN.format(pk=run.pk))
    data = run.snapshot.get("data") or {}
    bounds = {
        key: datetime.fromisoformat(data[f"{key}_open_time"])
        for key in ("first", "last")
        if data.get(f"{key}_open_time")
    }
    return dataset_candles_frame(run.dataset, start=bounds.get("first"), end=bounds.get("last"))


def run_calendar(run: TrainingRun) -> str:
    """The market calendar in the run's snapshot (24/7 for runs launched before calendars existed)."""
    return (run.snapshot or {}).get("data", {}).get("calendar") or "24/7"


def run_artifacts_dir(run: TrainingRun) -> Path:
    """The run's local working folder, named by its number and its key (a number reused after a restore names
    another); with the local store it is the stored folder itself."""
    return working_dir(run_key(run))
