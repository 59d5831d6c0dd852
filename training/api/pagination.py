from functools import partial

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from training.pagination import COUNT_CAP, BoundedCountPaginator


class Pagination(PageNumberPagination):
    """``?page=N`` and ``?page_size=M`` (at most 200); 25 a page by default. ``count`` is exact up to
    ``COUNT_CAP`` (10,000) rows; past that it is null and ``count_more_than`` says 10000 (counting a filtered
    1,000,000-run list cost more than the page itself, issue 26); ``next`` is known from one extra row."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200
    count_cap = COUNT_CAP

    @property
    def django_paginator_class(self):
        return partial(BoundedCountPaginator, cap=self.count_cap)

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": None if paginator.capped else paginator.count,
                "count_more_than": paginator.cap if paginator.capped else None,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"] = {
            "type": "integer",
            "nullable": True,
            "example": 123,
            "description": f"Rows in the list, exact up to {COUNT_CAP:,}; null beyond (see count_more_than).",
        }
        described["properties"]["count_more_than"] = {
            "type": "integer",
            "nullable": True,
            "example": None,
            "description": f"{COUNT_CAP} when the list holds more rows than that (count is then null).",
        }
        described["required"] = ["count", "results"]
        return described
