from .market_data import Candle, MarketDataset
from .profiles import RegularizationProfile
from .registry import ActiveModel, Promotion
from .runs import ModelResult, TrainingRun
from .schedules import RetrainSchedule

__all__ = [
    "ActiveModel",
    "Candle",
    "MarketDataset",
    "ModelResult",
    "Promotion",
    "RegularizationProfile",
    "RetrainSchedule",
    "TrainingRun",
]
