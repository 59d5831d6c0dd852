"""Pagination that never counts more than it shows: a deep or filtered run list stays fast at any size."""

from __future__ import annotations

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class BoundedCountPaginator(Paginator):
    """Counts at most `cap` + 1 rows (`SELECT COUNT(*) FROM (… LIMIT cap+1)`), so the count costs the same with
    100,000 rows as with 10,000; beyond the cap any page number is served (an empty one past the end)."""

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
        if not self.capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        number = self.validate_number(number)
        if not self.capped:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        page = self._get_page(rows[: self.per_page], number, self)
        more = len(rows) > self.per_page
        page.has_next = lambda: more  # past the cap "older" is known from one extra row, not from a count
        return page
