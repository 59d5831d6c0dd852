"""The run result as typed records: what the manager builds, validates and returns as the dict that is stored.

``RunResult`` → per regime a ``RegimeResult`` → per base model a ``ModelResult`` and the stacked
``EnsembleResult`` (with the combiner choice: ``CombinerCandidate``, ``CalibrationResult``, ``VsBestMember``),
``Verdict`` (``vs_baseline``: the decision against the best baseline) and the backend's ``Evidence`` per model,
``TradingResult`` for the system's trading evidence (``trading``); each with ``MetricsBySplit`` (``SplitMetrics`` for train / validation / test) and a ``TrainValGap``; ``Baselines``
per regime; ``Timings`` for the run. ``to_dict()`` gives the JSON the run page, ``run.json`` and compare read (the
keys are the field names); ``from_dict()`` reads it back and ``validate()`` raises ``ResultInvalid`` listing every
problem. A field added with a default (``collapsed: bool | None = None``) is optional: older stored results without
it still load.

Modules: ``base`` (Record, ResultInvalid, constants), ``metrics`` (split metrics, gaps), ``combination`` (the
combiner choice and calibration records), ``trading`` (the system's trading evidence), ``run`` (model, ensemble,
regime and run records).
"""

from .base import (
    GAP_TOLERANCE,
    MSG_GAP_MISMATCH,
    MSG_MISSING_KEYS,
    MSG_RESULT_INVALID,
    MSG_UNKNOWN_KEYS,
    MSG_VERDICT_MISMATCH,
    SKIPPED,
    SPLIT_NAMES,
    TRAINED,
    Record,
    ResultInvalid,
)
from .combination import CalibrationPart, CalibrationResult, CombinerCandidate, ReliabilityBin, VsBestMember
from .evidence import GENERIC_FIELDS, Evidence
from .metrics import MetricsBySplit, SplitMetrics, TrainValGap
from .report import BackendReport, BaseRow, ParamRow, RegularizationReport
from .run import (
    BaselineResult,
    Baselines,
    DataSummary,
    EnsembleResult,
    FoldSizes,
    ModelResult,
    RegimeResult,
    RunResult,
    SplitInfo,
    Timings,
)
from .trading import (
    AdjustedVerdict,
    Deflation,
    EquityCurve,
    SystemEvaluation,
    ThetaChoice,
    TradingResult,
    TradingStats,
)
from .verdict import Verdict

__all__ = [
    "Evidence",
    "GENERIC_FIELDS",
    "Verdict",
    "BackendReport",
    "BaseRow",
    "ParamRow",
    "RegularizationReport",
    "GAP_TOLERANCE",
    "MSG_GAP_MISMATCH",
    "MSG_MISSING_KEYS",
    "MSG_RESULT_INVALID",
    "MSG_UNKNOWN_KEYS",
    "MSG_VERDICT_MISMATCH",
    "SKIPPED",
    "SPLIT_NAMES",
    "TRAINED",
    "BaselineResult",
    "Baselines",
    "CalibrationPart",
    "CalibrationResult",
    "CombinerCandidate",
    "DataSummary",
    "EnsembleResult",
    "FoldSizes",
    "MetricsBySplit",
    "ModelResult",
    "Record",
    "RegimeResult",
    "ReliabilityBin",
    "ResultInvalid",
    "RunResult",
    "SplitInfo",
    "SplitMetrics",
    "Timings",
    "TrainValGap",
    "VsBestMember",
    "AdjustedVerdict",
    "Deflation",
    "EquityCurve",
    "SystemEvaluation",
    "ThetaChoice",
    "TradingResult",
    "TradingStats",
]
