import gzip
import io
import zipfile

import pytest

from tests.training.market_data_files import csv_text, zipped
from training.marketdata.archive import (
    MSG_CORRUPT,
    MSG_DECLARED_RATIO,
    MSG_DECLARED_TOO_LARGE,
    MSG_RATIO,
    MSG_TOO_LARGE,
    MSG_ZIP_MANY_CSV,
    MSG_ZIP_NO_CSV,
    open_candle_stream,
)
from training.marketdata.csvparse import parse_candle_file
from training.marketdata.errors import CandleFileError
from training.marketdata.limits import InputLimits, format_bytes

SMALL = InputLimits(max_bytes=64 * 1024, max_ratio=20.0, ratio_grace_bytes=4096)


def read_all(source, limits=SMALL, name="f") -> bytes:
    with open_candle_stream(source, name=name, limits=limits) as stream:
        out = b""
        while chunk := stream.read(1024):
            out += chunk
        return out


def refusal(source, limits=SMALL, name="f") -> str:
    with pytest.raises(CandleFileError) as caught:
        read_all(source, limits, name)
    assert len(caught.value.messages) == 1
    return caught.value.messages[0]


def archive_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return buffer.getvalue()


def test_plain_zip_and_gzip_give_the_same_bytes():
    text = csv_text().encode()
    assert read_all(text) == read_all(zipped(csv_text())) == read_all(gzip.compress(text)) == text


def test_a_zip_with_two_csv_members_is_refused_naming_them():
    data = archive_with({"a.csv": csv_text().encode(), "sub/b.csv": csv_text().encode(), "README.txt": b"hi"})
    assert refusal(data, name="two.zip") == "two.zip: " + MSG_ZIP_MANY_CSV.format(count=2, members="a.csv, sub/b.csv")


def test_macos_resource_entries_and_other_files_are_ignored():
    data = archive_with({"BTC.csv": csv_text().encode(), "__MACOSX/._BTC.csv": b"\x00\x05\x16\x07", "notes.txt": b"x"})
    assert read_all(data) == csv_text().encode()


def test_a_zip_without_csv_is_refused():
    assert refusal(archive_with({"notes.txt": b"x"}), name="n.zip") == f"n.zip: line 1, column -: {MSG_ZIP_NO_CSV}"


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda data: gzip.compress(data)[:-30], "gzip"),  # truncated
        (lambda data: gzip.compress(data)[:-8] + b"\x00" * 8, "gzip"),  # wrong CRC and size
        (lambda data: gzip.compress(data)[:40] + b"\xff" * 60 + gzip.compress(data)[100:], "gzip"),  # corrupt stream
        (lambda data: zipped(data.decode())[:-40], "zip"),  # central directory cut off
        (lambda data: b"PK\x03\x04 not really a zip", "zip"),
    ],
)
def test_truncated_or_corrupt_archives_give_a_clear_message(make, kind):
    message = refusal(make(csv_text().encode() * 20), limits=InputLimits(), name="up")
    prefix, detail = MSG_CORRUPT.format(kind=kind, detail="§").split("§")
    assert message.startswith(f"up: {prefix}") and message.endswith(detail)


def test_a_zip_member_with_a_bad_crc_is_refused():
    data = bytearray(archive_with({"a.csv": csv_text().encode()}))
    crc_at = data.index(b"PK\x03\x04") + 14  # CRC-32 in the local header
    data[crc_at : crc_at + 4] = b"\x00\x00\x00\x00"
    central = data.index(b"PK\x01\x02") + 16  # and in the central directory
    data[central : central + 4] = b"\x00\x00\x00\x00"
    assert refusal(bytes(data), name="crc.zip").startswith("crc.zip: the zip file is truncated or corrupt (Bad CRC-32")


def test_a_plain_file_over_the_size_limit_is_refused():
    data = b"1,2,3\n" * 20_000
    assert refusal(data, name="big.csv").startswith(
        "big.csv: " + MSG_TOO_LARGE.format(limit="64 KB", inflated="", read="§").split("§")[0]
    )


def test_a_gzip_bomb_is_refused_by_its_ratio_while_streaming():
    bomb = gzip.compress(b"0" * 10_000_000)
    message = refusal(bomb, limits=InputLimits(max_bytes=100 * 2**20, max_ratio=20.0, ratio_grace_bytes=4096))
    assert message.startswith("f: " + MSG_RATIO.format(ratio=20.0, read="§").split("§")[0])


def test_a_gzip_bomb_under_the_ratio_is_still_capped_by_the_size_limit():
    bomb = gzip.compress(b"0" * 10_000_000)
    message = refusal(bomb, limits=InputLimits(max_bytes=2**20, max_ratio=1e9, ratio_grace_bytes=4096))
    assert "(MARKET_DATA_MAX_INPUT_MB) once inflated" in message


def test_a_zip_bomb_is_refused_from_its_declared_sizes_before_inflating():
    bomb = archive_with({"bomb.csv": b"0" * 1_000_000})
    compressed = zipfile.ZipFile(io.BytesIO(bomb)).getinfo("bomb.csv").compress_size
    assert refusal(bomb, limits=InputLimits(max_bytes=100 * 2**20, max_ratio=20.0, ratio_grace_bytes=4096)) == (
        "f: "
        + MSG_DECLARED_RATIO.format(member="bomb.csv", size="977 KB", compressed=format_bytes(compressed), ratio=20)
    )
    assert refusal(bomb, limits=InputLimits(max_bytes=100_000, max_ratio=1e9)) == "f: " + MSG_DECLARED_TOO_LARGE.format(
        member="bomb.csv", size="977 KB", limit="98 KB"
    )


class Unseekable(io.RawIOBase):
    """A pipe-like upload: read() only."""

    def __init__(self, data: bytes):
        self.inner, self.name = io.BytesIO(data), "piped.csv.gz"

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def test_an_unseekable_source_is_spooled_and_parsed():
    parsed = parse_candle_file(Unseekable(gzip.compress(csv_text().encode())), interval="1h")
    assert parsed.name == "piped.csv.gz" and len(parsed.candles) == 6
