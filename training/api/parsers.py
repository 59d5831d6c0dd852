"""The API's JSON parser with a nesting limit: a body nested deeper than MAX_JSON_DEPTH is a 400 with a message
(before, 100,000 levels raised RecursionError: a 500)."""

from __future__ import annotations

import re
from io import BytesIO

import numpy as np
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 32
MSG_JSON_TOO_DEEP = "JSON parse error - the body nests deeper than {limit} levels; no request of this API needs more."
STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
OPEN, CLOSE = b"[{", b"]}"


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in `data`, strings skipped; linear in its length."""
    codes = np.frombuffer(STRING.sub(b'""', data), dtype=np.uint8)
    steps = np.isin(codes, np.frombuffer(OPEN, np.uint8)).astype(np.int32)
    steps -= np.isin(codes, np.frombuffer(CLOSE, np.uint8))
    return int(np.cumsum(steps).max(initial=0))


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(MSG_JSON_TOO_DEEP.format(limit=MAX_JSON_DEPTH))
        try:
            return super().parse(BytesIO(data), media_type, parser_context)
        except RecursionError:
            raise ParseError(MSG_JSON_TOO_DEEP.format(limit=MAX_JSON_DEPTH)) from None
