from .market_data import Candle, MarketDataset
from .monitoring import MonitorAlert, PredictionLog
from .profiles import RegularizationProfile
from .registry import ActiveModel, Promotion
from .run_groups import RunGroup
from .run_parts import RunPart
from .runs import ModelResult, RunTag, TrainingRun
from .schedules import RetrainSchedule
from .sweeps import Sweep, SweepPoint
from .web_versions import WebVersion

__all__ = [
    "ActiveModel",
    "Candle",
    "MarketDataset",
    "ModelResult",
    "MonitorAlert",
    "PredictionLog",
    "Promotion",
    "RegularizationProfile",
    "RetrainSchedule",
    "RunGroup",
    "RunPart",
    "RunTag",
    "Sweep",
    "SweepPoint",
    "TrainingRun",
    "WebVersion",
]
