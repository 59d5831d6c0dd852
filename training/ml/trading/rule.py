"""The declared trading rule: a position from each bar's probabilities, and its per-bar returns after costs.

Score ``s = P(up) − P(down)``. Long (+1) when ``s > θ``, short (−1) when ``s < −θ`` (flat instead when shorting is
off: long/flat), otherwise flat (0); a bar without probabilities (its regime trained no ensemble) is flat.
``hold = "horizon"``: a position, once taken, is held for the label horizon H bars before the rule decides again
(the labels look H bars ahead); ``hold = "bar"``: the rule decides on every bar.

The position decided at the close of bar t earns the log return of bar t → t+1. Costs: ``cost_bps`` basis points
per side, charged on every change of position by its size (flat → long is one side, long → short two), so a bar's
net return is ``position[t] * r[t+1] − cost * |position[t] − position[t−1]|`` (the series starts flat).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOLD_HORIZON, HOLD_BAR = "horizon", "bar"
HOLD_MODES = (HOLD_HORIZON, HOLD_BAR)
DEFAULT_COST_BPS = 10.0
THETA_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
MSG_HOLD = "hold must be one of {known}; got {hold!r}."
MSG_COST = "cost_bps must be a number >= 0; got {cost!r}."
MSG_GRID = "The θ grid must be a non-empty list of numbers in [0, 1); got {grid!r}."


@dataclass(frozen=True)
class TradingSettings:
    """A run's trading settings (stored in its snapshot): costs per side, shorting, holding, the θ grid."""

    cost_bps: float = DEFAULT_COST_BPS
    allow_short: bool = True
    hold: str = HOLD_HORIZON
    theta_grid: tuple[float, ...] = THETA_GRID

    def __post_init__(self) -> None:
        if self.hold not in HOLD_MODES:
            raise ValueError(MSG_HOLD.format(known=", ".join(HOLD_MODES), hold=self.hold))
        if not isinstance(self.cost_bps, (int, float)) or not np.isfinite(self.cost_bps) or self.cost_bps < 0:
            raise ValueError(MSG_COST.format(cost=self.cost_bps))
        grid = tuple(self.theta_grid)
        if not grid or not all(isinstance(t, (int, float)) and 0 <= t < 1 for t in grid):
            raise ValueError(MSG_GRID.format(grid=self.theta_grid))

    @classmethod
    def from_dict(cls, data: dict | None) -> TradingSettings:
        data = dict(data or {})
        if "theta_grid" in data:
            data["theta_grid"] = tuple(float(t) for t in data["theta_grid"])
        return cls(**data)

    def to_dict(self) -> dict:
        return {
            "cost_bps": float(self.cost_bps),
            "allow_short": bool(self.allow_short),
            "hold": self.hold,
            "theta_grid": [float(t) for t in self.theta_grid],
        }

    def describe(self) -> str:
        side = "long/short" if self.allow_short else "long/flat"
        hold = "held for the label horizon" if self.hold == HOLD_HORIZON else "re-decided every bar"
        return f"{side}, {hold}, {self.cost_bps:g} bps per side"


def signal(score, theta: float, *, allow_short: bool) -> np.ndarray:
    """+1 / 0 / −1 per bar from the score (NaN → 0)."""
    score = np.asarray(score, dtype=float)
    out = np.zeros(score.shape, dtype=float)
    with np.errstate(invalid="ignore"):
        out[score > theta] = 1.0
        if allow_short:
            out[score < -theta] = -1.0
    return out


def positions(score, theta: float, *, allow_short: bool, hold: str, horizon: int) -> np.ndarray:
    """The position per bar under the rule (see the module docstring)."""
    wanted = signal(score, theta, allow_short=allow_short)
    if hold == HOLD_BAR or horizon <= 1:
        return wanted
    out = np.zeros_like(wanted)
    t, n = 0, len(wanted)
    while t < n:
        if wanted[t] != 0:
            out[t : t + horizon] = wanted[t]
            t += horizon
        else:
            t += 1
    return out


def turnover(position) -> np.ndarray:
    """|position[t] − position[t−1]| per bar, starting flat."""
    position = np.asarray(position, dtype=float)
    return np.abs(np.diff(np.concatenate([[0.0], position])))


def net_returns(position, next_return, cost_bps: float) -> np.ndarray:
    """Per-bar log returns of the strategy after costs."""
    position = np.asarray(position, dtype=float)
    return position * np.asarray(next_return, dtype=float) - cost_bps * 1e-4 * turnover(position)


def rule_returns(score, next_return, theta: float, settings: TradingSettings, horizon: int) -> np.ndarray:
    pos = positions(score, theta, allow_short=settings.allow_short, hold=settings.hold, horizon=horizon)
    return net_returns(pos, next_return, settings.cost_bps)
