"""The market overview: every market with data, its calendar, range and holes, active model, latest run and
verdict; sortable by any column."""

from __future__ import annotations

from training.models import ActiveModel, MarketDataset, TrainingRun
from training.selectors.run_groups import run_system_verdict

SORTS = {
    "market": lambda r: (r["dataset"].exchange, r["dataset"].symbol, r["dataset"].interval),
    "calendar": lambda r: r["dataset"].calendar,
    "rows": lambda r: r["dataset"].row_count,
    "holes": lambda r: (r["dataset"].gap_count, r["dataset"].largest_gap),
    "last_candle": lambda r: r["dataset"].last_open_time.timestamp() if r["dataset"].last_open_time else 0,
    "active": lambda r: r["active"].promoted_at.timestamp() if r["active"] else 0,
    "latest_run": lambda r: r["latest"].created_at.timestamp() if r["latest"] else 0,
    "status": lambda r: r["latest"].status if r["latest"] else "",
}
MSG_UNKNOWN_SORT = "Unknown sort {sort!r}; columns: {known}."


def market_overview(*, sort: str = "market", descending: bool = False) -> list[dict]:
    """One row per market with candles; unknown ``sort`` keys fall back to the market name."""
    active = {(a.exchange, a.symbol, a.interval): a for a in ActiveModel.objects.select_related("run")}
    rows = []
    for dataset in MarketDataset.objects.filter(row_count__gt=0):
        latest = (
            TrainingRun.objects.filter(dataset=dataset).select_related("profile").order_by("-created_at", "-id").first()
        )
        rows.append(
            {
                "dataset": dataset,
                "active": active.get((dataset.exchange, dataset.symbol, dataset.interval)),
                "latest": latest,
                "verdict": run_system_verdict(latest)
                if latest and latest.status == TrainingRun.Status.SUCCEEDED
                else "",
            }
        )
    key = SORTS.get(sort, SORTS["market"])
    return sorted(rows, key=key, reverse=descending)
