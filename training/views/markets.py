"""The market overview page (a desk's landing page): one call into the selector."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from training.selectors.markets import SORTS, market_overview
from training.views.runs import run_reader

COLUMNS = [
    ("market", "Market"),
    ("calendar", "Calendar"),
    ("last_candle", "Data range (UTC)"),
    ("rows", "Candles"),
    ("holes", "Holes"),
    ("active", "Active model"),
    ("latest_run", "Latest run"),
    ("status", "Status"),
]


@run_reader
@require_GET
def market_list(request):
    sort = request.GET.get("sort", "market")
    sort = sort if sort.lstrip("-") in SORTS else "market"
    descending = sort.startswith("-")
    rows = market_overview(sort=sort.lstrip("-"), descending=descending)
    columns = [
        {
            "key": key,
            "label": label,
            "sorted": sort.lstrip("-") == key,
            "descending": descending,
            "next": f"-{key}" if sort == key else key,
        }
        for key, label in COLUMNS
    ]
    return render(request, "training/market_list.html", {"rows": rows, "columns": columns, "sort": sort})
