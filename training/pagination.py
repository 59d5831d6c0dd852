"""Pagination that never counts more than it shows: a deep or filtered run list stays fast at any size."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class BoundedCountPaginator(Paginator):
    """Counts at most `cap` + 1 rows (`SELECT COUNT(*) FROM (… LIMIT cap+1)`), so the count costs the same with
    100,000 rows as with 10,000; pages beyond the cap are still reachable one "older" step at a time."""

    def __init__(self, *args, cap: int = COUNT_CAP, **kwargs):
        self.cap = cap
        super().__init__(*args, **kwargs)

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    def validate_number(self, number):
        number = super().validate_number(number) if not self.capped else max(1, int(number))
        return number
