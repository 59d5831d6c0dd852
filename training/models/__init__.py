from .market_data import Candle, MarketDataset
from .profiles import RegularizationProfile
from .runs import ModelResult, TrainingRun
from .sweeps import Sweep, SweepPoint

__all__ = ["Candle", "MarketDataset", "ModelResult", "RegularizationProfile", "Sweep", "SweepPoint", "TrainingRun"]
