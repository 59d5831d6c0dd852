from .market_data import Candle, MarketDataset
from .profiles import RegularizationProfile
from .runs import ModelResult, TrainingRun

__all__ = ["Candle", "MarketDataset", "ModelResult", "RegularizationProfile", "TrainingRun"]
