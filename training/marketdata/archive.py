"""Open a candle source (path, bytes or file object; plain, .zip or .gz) as a stream of decompressed bytes that
refuses to grow past the input limits: more than `max_bytes` inflated, or an inflation ratio above `max_ratio`
(a zip/gzip bomb) stops the read within the block that crossed the line, so memory and time stay bounded.

A zip must hold exactly one CSV member (macOS `__MACOSX/` entries are ignored); several are refused naming them,
never imported in part. Truncated or corrupt archives raise a `CandleFileError` with the reason.
"""

from __future__ import annotations

import gzip
import io
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

from training.marketdata.errors import CandleFileError, file_error
from training.marketdata.limits import DEFAULT_LIMITS, InputLimits, format_bytes

READ_SIZE = 1 * 2**20
FILE_PROBLEM = "{file}: {problem}"
MSG_ZIP_NO_CSV = "the zip archive holds no .csv file"
MSG_ZIP_MANY_CSV = (
    "the zip archive holds {count} CSV files ({members}); nothing was imported. Import them one at a time: "
    "each file is checked and stored all or nothing"
)
MSG_TOO_LARGE = (
    "the input is larger than the limit of {limit} (MARKET_DATA_MAX_INPUT_MB){inflated}; refused after reading "
    "{read}, nothing was imported"
)
MSG_RATIO = (
    "the archive inflates more than {ratio:g} times its compressed size (MARKET_DATA_MAX_COMPRESSION_RATIO), "
    "which candle files never do: refused as a likely zip bomb after inflating {read}, nothing was imported"
)
MSG_DECLARED_TOO_LARGE = (
    "the zip member {member} declares {size} once inflated, above the limit of {limit} (MARKET_DATA_MAX_INPUT_MB); "
    "nothing was imported"
)
MSG_DECLARED_RATIO = (
    "the zip member {member} declares {size} inflated from {compressed}, more than {ratio:g} times "
    "(MARKET_DATA_MAX_COMPRESSION_RATIO), which candle files never do: refused as a likely zip bomb, nothing was "
    "imported"
)
MSG_CORRUPT = "the {kind} file is truncated or corrupt ({detail}); nothing was imported"
MSG_UNREADABLE_ZIP = "the zip archive cannot be read ({detail}); nothing was imported"
DECOMPRESS_ERRORS = (EOFError, zlib.error, zipfile.BadZipFile, gzip.BadGzipFile, OSError)


def _problem(name: str, problem: str) -> CandleFileError:
    return CandleFileError([FILE_PROBLEM.format(file=name, problem=problem)])


class _CountingFile(io.RawIOBase):
    """A seekable binary file that counts the bytes read through it (the compressed side of an archive)."""

    def __init__(self, inner: BinaryIO):
        self.inner, self.consumed = inner, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.consumed += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.inner.seek(offset, whence)

    def tell(self) -> int:
        return self.inner.tell()


class BoundedStream:
    """Decompressed bytes with the limits enforced on every read."""

    def __init__(self, inner, *, name: str, kind: str, limits: InputLimits, compressed: _CountingFile | None):
        self.inner, self.name, self.kind, self.limits, self.compressed = inner, name, kind, limits, compressed
        self.produced = 0

    def read(self, size: int = READ_SIZE) -> bytes:
        try:
            data = self.inner.read(size if size and size > 0 else READ_SIZE)
        except DECOMPRESS_ERRORS as exc:
            if self.kind == "plain":
                raise
            raise _problem(self.name, MSG_CORRUPT.format(kind=self.kind, detail=exc or type(exc).__name__)) from None
        self.produced += len(data)
        self._check()
        return data

    def _check(self) -> None:
        limits = self.limits
        if self.produced > limits.max_bytes:
            inflated = "" if self.kind == "plain" else " once inflated"
            raise _problem(
                self.name,
                MSG_TOO_LARGE.format(
                    limit=format_bytes(limits.max_bytes), inflated=inflated, read=format_bytes(self.produced)
                ),
            )
        if self.compressed is not None and self.produced > limits.ratio_grace_bytes:
            if self.produced > limits.max_ratio * max(self.compressed.consumed, 1):
                raise _problem(self.name, MSG_RATIO.format(ratio=limits.max_ratio, read=format_bytes(self.produced)))


def _seekable(source, stack: ExitStack) -> tuple[BinaryIO, str]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        return stack.enter_context(path.open("rb")), path.name
    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(bytes(source)), "upload"
    name = Path(str(getattr(source, "name", "") or "upload")).name
    seekable = getattr(source, "seekable", None)
    if callable(seekable) and seekable():
        source.seek(0)
        return source, name
    spool = stack.enter_context(tempfile.TemporaryFile())
    shutil.copyfileobj(source, spool)
    spool.seek(0)
    return spool, name


def _csv_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and info.filename.lower().endswith(".csv")
        and not info.filename.startswith("__MACOSX/")
        and not Path(info.filename).name.startswith("._")
    ]


def _open_zip(raw: BinaryIO, name: str, limits: InputLimits, stack: ExitStack) -> BoundedStream:
    counting = _CountingFile(raw)
    try:
        archive = stack.enter_context(zipfile.ZipFile(counting))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise _problem(name, MSG_CORRUPT.format(kind="zip", detail=exc)) from None
    members = _csv_members(archive)
    if not members:
        raise file_error(name, MSG_ZIP_NO_CSV)
    if len(members) > 1:
        listed = ", ".join(info.filename for info in members[:10]) + (", …" if len(members) > 10 else "")
        raise _problem(name, MSG_ZIP_MANY_CSV.format(count=len(members), members=listed))
    member = members[0]
    declared = dict(member=member.filename, size=format_bytes(member.file_size))
    if member.file_size > limits.max_bytes:
        raise _problem(name, MSG_DECLARED_TOO_LARGE.format(limit=format_bytes(limits.max_bytes), **declared))
    if member.file_size > max(limits.ratio_grace_bytes, limits.max_ratio * max(member.compress_size, 1)):
        problem = MSG_DECLARED_RATIO.format(
            compressed=format_bytes(member.compress_size), ratio=limits.max_ratio, **declared
        )
        raise _problem(name, problem)
    counting.consumed = 0
    try:
        inner = stack.enter_context(archive.open(member))
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, OSError, zlib.error) as exc:
        raise _problem(name, MSG_UNREADABLE_ZIP.format(detail=exc)) from None
    return BoundedStream(inner, name=name, kind="zip", limits=limits, compressed=counting)


@contextmanager
def open_candle_stream(
    source: str | Path | bytes | BinaryIO, *, name: str | None = None, limits: InputLimits = DEFAULT_LIMITS
) -> Iterator[BoundedStream]:
    """The decompressed bytes of a plain, zip or gzip source, read through the limits; `.name` names the source
    (an archive by its own name) in messages."""
    with ExitStack() as stack:
        raw, default_name = _seekable(source, stack)
        name = name or default_name
        magic = raw.read(2)
        raw.seek(0)
        if magic == b"PK":
            yield _open_zip(raw, name, limits, stack)
        elif magic == b"\x1f\x8b":
            counting = _CountingFile(raw)
            inner = stack.enter_context(gzip.GzipFile(fileobj=counting, mode="rb"))
            yield BoundedStream(inner, name=name, kind="gzip", limits=limits, compressed=counting)
        else:
            yield BoundedStream(raw, name=name, kind="plain", limits=limits, compressed=None)
