"""A sweep over a market list: the same axes on every market, one sweep per market (every point on every
market), created together or not at all (every market's reasons listed)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from training.marketdata.markets import Market
from training.models import Sweep
from training.services.sweeps import sweep_create

MSG_MARKET_REFUSED = "{market}: {message}"


def sweep_create_over_markets(*, markets: list[Market], name: str = "", **options) -> list[Sweep]:
    """``sweep_create`` for each market with the same options; if one is refused, none is stored (and none of
    their runs is queued: the publish-on-commit callbacks go with the rollback)."""
    sweeps: list[Sweep] = []
    errors: list[str] = []
    with transaction.atomic():
        for market in markets:
            try:
                with transaction.atomic():
                    sweeps.append(
                        sweep_create(
                            symbol=market.symbol,
                            exchange=market.exchange,
                            interval=market.interval,
                            name=f"{name} · {market}" if name else "",
                            **options,
                        )
                    )
            except ValidationError as exc:
                errors += [MSG_MARKET_REFUSED.format(market=market, message=m) for m in exc.messages]
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise ValidationError(errors)
    return sweeps
