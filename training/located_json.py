"""JSON parsing that remembers the line of every object and every key, for line-numbered import errors.

``loads`` returns ordinary JSON values, except that objects are ``LocatedDict`` with ``line`` (where the
``{`` is) and ``key_lines`` (key → line). Duplicate keys, ``NaN`` and ``Infinity`` are refused with the line.
"""

from __future__ import annotations

import bisect
import json
from json.decoder import WHITESPACE, JSONDecodeError, scanstring
from json.scanner import py_make_scanner


class LocatedDict(dict):
    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


def _skip(s: str, end: int) -> int:
    return WHITESPACE.match(s, end).end()


class _Decoder(json.JSONDecoder):
    def __init__(self, text: str) -> None:
        super().__init__(parse_constant=self._refuse_constant)
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]
        self._text = text
        self.parse_object = self._parse_object
        self.scan_once = py_make_scanner(self)

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self._newlines, pos) + 1

    def _refuse_constant(self, name: str):
        pos = self._text.find(name)
        raise JSONDecodeError(f"{name} is not a number JSON allows", self._text, max(pos, 0))

    def _parse_object(self, s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo=None):
        s, end = s_and_end
        obj = LocatedDict()
        obj.line = self.line(end - 1)
        obj.key_lines = {}
        end = _skip(s, end)
        if s[end : end + 1] == "}":
            return obj, end + 1
        while True:
            if s[end : end + 1] != '"':
                raise JSONDecodeError("Expecting property name enclosed in double quotes", s, end)
            key_pos = end
            key, end = scanstring(s, end + 1, strict)
            if key in obj:
                raise JSONDecodeError(f"Duplicate key {key!r}", s, key_pos)
            end = _skip(s, end)
            if s[end : end + 1] != ":":
                raise JSONDecodeError("Expecting ':' delimiter", s, end)
            end = _skip(s, end + 1)
            try:
                value, end = scan_once(s, end)
            except StopIteration as err:
                raise JSONDecodeError("Expecting value", s, err.value) from None
            obj[key] = value
            obj.key_lines[key] = self.line(key_pos)
            end = _skip(s, end)
            char = s[end : end + 1]
            end += 1
            if char == "}":
                return obj, end
            if char != ",":
                raise JSONDecodeError("Expecting ',' delimiter", s, end - 1)
            end = _skip(s, end)


def loads(text: str):
    """Parse ``text``; raises ``json.JSONDecodeError`` (with ``lineno``) on bad syntax."""
    return _Decoder(text).decode(text)
