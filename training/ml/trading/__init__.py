"""Trading evidence of a run, computed after training from the stored predictions (records after training).

- ``rule``: the declared trading rule (θ on P(up) − P(down), long/short or long/flat, hold for the label horizon
  or re-decide every bar) and its per-bar returns after costs (bps per side, charged on every position change);
- ``stats``: return statistics (total/annualized return, Sharpe, Sortino, drawdown, turnover, exposure, hit
  rate, trades) and the Sharpe ratio's moving-block bootstrap interval (``bootstrap.resampled_means``);
- ``sharpe_tests``: the Probabilistic Sharpe Ratio (Bailey & López de Prado 2012) and the Deflated Sharpe Ratio
  (Bailey & López de Prado 2014);
- ``shift_null``: the circular-shift null of a position series (p-value of its Sharpe ratio);
- ``pbo``: the probability of backtest overfitting by CSCV (Bailey, Borwein, López de Prado & Zhu 2015);
- ``holm``: bootstrap p-values and Holm's step-down adjustment of a run's verdicts;
- ``window``: the system's common test window and its validation series, from the regimes' stored predictions;
- ``system``: ``trading_record`` — the one function both run paths call.

Plain Python (no Django).
"""
