"""Path converters and query parsers that refuse values the database cannot hold (a 404, never a 500)."""

from __future__ import annotations

import re

# 18 digits always fit a signed 64-bit integer (every database's id column); longer values match nothing.
ID_REGEX = r"[0-9]{1,18}"
_ID_RE = re.compile(ID_REGEX)


class IdConverter:
    regex = ID_REGEX

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


class MarketPartConverter:
    """An exchange, symbol or interval in a URL: letters, digits, '.', '_' and '-' only (no NUL or other control
    character ever reaches a query; PostgreSQL refuses NUL in text)."""

    regex = r"[A-Za-z0-9._-]{1,32}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


def parse_id(value: str | None) -> int | None:
    """An id from a query value, or None when it is not a plain, storable, positive integer."""
    value = (value or "").strip()
    if not _ID_RE.fullmatch(value) or int(value) == 0:
        return None
    return int(value)


def parse_text(value: str | None, *, limit: int) -> str:
    """A text from a query value, cut to ``limit``, without NUL characters (PostgreSQL refuses them in a query's
    text: the URL fuzz found ``/runs/?status=%00`` answering 500 there)."""
    return (value or "")[:limit].replace("\x00", "")


def parse_ids(values: list[str], *, limit: int) -> list[int]:
    """Ids from repeated (`?ids=1&ids=2`) and comma-separated (`?ids=1,2`) values, first `limit` distinct kept."""
    ids: list[int] = []
    for value in values:
        for piece in value.split(","):
            parsed = parse_id(piece)
            if parsed is not None and parsed not in ids:
                ids.append(parsed)
            if len(ids) >= limit:
                return ids
    return ids
