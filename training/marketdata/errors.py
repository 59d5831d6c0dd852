"""The error a refused candle file raises, and the collector that builds its message list.

Every problem reads "<file>: line <n>, column <name>: <problem>"; a file with any problem is refused whole.
"""

from __future__ import annotations

LOCATION = "{file}: line {line}, column {column}: {problem}"
MAX_LISTED_PROBLEMS = 100
MAX_KEPT_PROBLEMS = 1000
MSG_MORE_PROBLEMS = "… and {count} more problems"


class CandleFileError(ValueError):
    """A file (or API answer) that cannot be imported; `messages` lists the problems (the first ones when there
    are very many: `more` counts the rest)."""

    def __init__(self, messages: list[str], more: int = 0):
        self.messages = list(messages)
        self.more = more
        shown = self.messages[:MAX_LISTED_PROBLEMS]
        hidden = len(self.messages) - len(shown) + more
        if hidden:
            shown.append(MSG_MORE_PROBLEMS.format(count=hidden))
        super().__init__("\n".join(shown))


def located(file: str, line: int, column: str, problem: str) -> str:
    return LOCATION.format(file=file, line=line, column=column, problem=problem)


def file_error(file: str, problem: str, *, line: int = 1, column: str = "-") -> CandleFileError:
    return CandleFileError([located(file, line, column, problem)])


class Problems:
    """Problems of one file in line order, keeping at most MAX_KEPT_PROBLEMS messages (memory stays bounded for a
    file where every line is wrong) and counting the rest."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[tuple[int, str]] = []
        self.more = 0

    def __bool__(self) -> bool:
        return bool(self.items) or bool(self.more)

    def add(self, line: int, column: str, problem: str) -> None:
        if len(self.items) >= MAX_KEPT_PROBLEMS:
            self.more += 1
            return
        self.items.append((line, located(self.file, line, column, problem)))

    def extend(self, entries: list[tuple[int, str]]) -> None:
        for line, message in entries:
            if len(self.items) >= MAX_KEPT_PROBLEMS:
                self.more += 1
            else:
                self.items.append((line, message))

    def error(self) -> CandleFileError:
        ordered = sorted(self.items, key=lambda item: item[0])
        return CandleFileError([message for _, message in ordered], more=self.more)

    def raise_if_any(self) -> None:
        if self:
            raise self.error()
