"""A 150,000-column header (about 1 MB, under the line limit) is refused on every import path with its message,
and every path has a parse-time budget. The pytest timeout is the issue's 5 s bound per path."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.training.api.conftest import api_user, client_for
from tests.training.market_data_files import csv_text, small_datasets_allowed  # noqa: F401 (fixture)
from training.marketdata.csvparse import MSG_PARSE_BUDGET, MSG_TOO_MANY_COLUMNS, parse_candle_text
from training.marketdata.errors import CandleFileError
from training.models import Candle, MarketDataset

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("small_datasets_allowed"),
    pytest.mark.timeout(5, func_only=True),
]
COLUMNS = 150_000
WIDE = ",".join(["timestamp", "open", "high", "low", "close", "volume", *(f"c{i:x}" for i in range(COLUMNS - 6))])
WIDE_FILE = (WIDE + "\n" + "1704067200000,1,2,0.5,1.5,10" + ",0" * (COLUMNS - 6) + "\n").encode()
REFUSED = "wide.csv: line 1, column -: " + MSG_TOO_MANY_COLUMNS.format(count=COLUMNS, limit=64)


def test_the_header_is_at_most_the_line_limit_and_the_parser_refuses_it():
    assert 900_000 < len(WIDE) < 2**20  # 1 MiB: the line limit
    with pytest.raises(CandleFileError) as raised:
        parse_candle_text(WIDE_FILE.decode(), interval="1h", name="wide.csv")
    assert raised.value.messages == [REFUSED]


def test_admin_import_refuses_it(client):
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456789"))
    upload = SimpleUploadedFile("wide.csv", WIDE_FILE)
    response = client.post(
        reverse("admin:training_marketdataset_import"),
        {"file": upload, "symbol": "BTCUSDT", "exchange": "BINANCE", "interval": "1h"},
    )
    assert response.status_code == 200
    assert "Import refused: nothing was stored" in response.content.decode()
    assert REFUSED in response.content.decode()
    assert not Candle.objects.exists()


def test_api_import_refuses_it():
    api = client_for(api_user("importer", "view", "add", "change"))
    upload = SimpleUploadedFile("wide.csv", WIDE_FILE, content_type="text/csv")
    response = api.post(reverse("api:dataset-import-file"), {"file": upload, "symbol": "BTCUSDT"}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"file": [REFUSED]}
    assert not MarketDataset.objects.exists()


def test_cli_import_refuses_it(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(WIDE_FILE)
    with pytest.raises(CommandError) as raised:
        call_command("import_klines", str(path), "--symbol", "BTCUSDT")
    assert str(raised.value) == f"Import refused, nothing was stored:\n{REFUSED}"
    assert not Candle.objects.exists()


def test_a_file_that_outlasts_the_parse_budget_is_refused_with_its_message(settings, tmp_path):
    settings.MARKET_DATA_MAX_PARSE_SECONDS = 0
    path = tmp_path / "ok.csv"
    path.write_text(csv_text())
    with pytest.raises(CommandError) as raised:
        call_command("import_klines", str(path), "--symbol", "BTCUSDT")
    budget = MSG_PARSE_BUDGET.format(seconds=0, line=6)
    assert str(raised.value) == f"Import refused, nothing was stored:\nok.csv: line 1, column -: {budget}"
    assert not Candle.objects.exists()
