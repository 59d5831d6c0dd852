"""``ta``'s ADX and ATR with their recursive (Wilder) sums run over Python floats.

``ta`` 0.11.0 writes these recursions as loops that read a pandas Series one element at a time
(``series[window + i]``, ``series.iloc[i]``): 105,000 pandas lookups for the 17,583 bars of the offline sample,
1.1 s of the 1.6 s a run (and each of its regime parts) spends preparing its data. The subclasses below keep ``ta``'s
code and its output methods (``adx``, ``adx_pos``, ``adx_neg``, ``average_true_range``) and replace only ``_run``: the
same operations in the same order on the same float64 values, read from lists, so every number is bit-identical
(``tests/training/ml/test_indicators.py`` compares them with ``ta``'s own classes, NaN for NaN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from ta.trend import ADXIndicator
from ta.utils import _get_min_max
from ta.volatility import AverageTrueRange


def _wilder_sums(first: float, values: list[float], window: int, length: int) -> np.ndarray:
    """ta's ``out[i] = out[i-1] - out[i-1] / window + values[window + i]`` for ``i`` in ``1 .. length-2`` (ta leaves
    the last element 0), ``out[0] = first``."""
    out = [0.0] * length
    previous, w = float(first), float(window)
    out[0] = previous
    for i in range(1, length - 1):
        previous = previous - (previous / w) + values[window + i]
        out[i] = previous
    return np.asarray(out, dtype=np.float64)


class FastADXIndicator(ADXIndicator):
    """``ta.trend.ADXIndicator``, its ``_run`` over lists (module docstring)."""

    def _run(self):
        if self._window == 0:
            raise ValueError("window may not be 0")
        close_shift = self._close.shift(1)
        pdm = _get_min_max(self._high, close_shift, "max")
        pdn = _get_min_max(self._low, close_shift, "min")
        diff_directional_movement = pdm - pdn
        length = len(self._close) - (self._window - 1)
        self._trs_initial = np.zeros(self._window - 1)
        self._trs = _wilder_sums(
            diff_directional_movement.dropna().iloc[0 : self._window].sum(),
            diff_directional_movement.tolist(),
            self._window,
            length,
        )
        diff_up = self._high - self._high.shift(1)
        diff_down = self._low.shift(1) - self._low
        pos = abs(((diff_up > diff_down) & (diff_up > 0)) * diff_up)
        neg = abs(((diff_down > diff_up) & (diff_down > 0)) * diff_down)
        self._dip = _wilder_sums(pos.dropna().iloc[0 : self._window].sum(), pos.tolist(), self._window, length)
        self._din = _wilder_sums(neg.dropna().iloc[0 : self._window].sum(), neg.tolist(), self._window, length)


class FastAverageTrueRange(AverageTrueRange):
    """``ta.volatility.AverageTrueRange``, its ``_run`` over a list (module docstring)."""

    def _run(self):
        close_shift = self._close.shift(1)
        true_range = self._true_range(self._high, self._low, close_shift)
        values = true_range.tolist()
        atr = [0.0] * len(self._close)
        atr[self._window - 1] = true_range[0 : self._window].mean()
        w = float(self._window)
        for i in range(self._window, len(atr)):
            atr[i] = (atr[i - 1] * (self._window - 1) + values[i]) / w
        self._atr = pd.Series(data=np.asarray(atr, dtype=np.float64), index=true_range.index)
