"""/api/datasets/: list, detail and import of an uploaded candle file through the market-data service."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.training.market_data_files import ROWS, csv_text, with_field
from training.models import MarketDataset

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 200), ("full", 200)])
def test_read_needs_the_view_permission(clients, dataset, who, expected):
    response = clients[who].get(reverse("api:dataset-list"), {"symbol": "btcusdt"})
    assert response.status_code == expected
    if expected == 200:
        assert [d["id"] for d in response.json()["results"]] == [dataset.pk]
        detail = clients[who].get(reverse("api:dataset-detail", args=[dataset.pk])).json()
        assert detail["row_count"] == dataset.row_count and detail["fingerprint"] == dataset.fingerprint


def upload(text: str, name: str = "BTCUSDT-1h.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 403), ("full", 201)])
def test_import_needs_the_change_permission(clients, db, who, expected):
    response = clients[who].post(
        reverse("api:dataset-import-file"), {"file": upload(csv_text()), "symbol": "btcusdt"}, format="multipart"
    )
    assert response.status_code == expected, response.content
    if expected == 201:
        body = response.json()
        assert body["rows_stored"] == len(ROWS) and body["dataset"]["symbol"] == "BTCUSDT"
        assert body["report"][0].startswith("Imported BTCUSDT-1h.csv into BINANCE:BTCUSDT 1h")
        assert MarketDataset.objects.get(symbol="BTCUSDT").row_count == len(ROWS)


def test_a_bad_file_is_a_400_listing_its_problems_and_stores_nothing(full_api, db):
    bad = with_field(2, 4, "not-a-price")
    response = full_api.post(reverse("api:dataset-import-file"), {"file": upload(bad), "symbol": "BTCUSDT"})
    assert response.status_code == 400
    problems = response.json()["file"]
    assert problems and any("line 3" in p for p in problems), problems
    assert not MarketDataset.objects.exists()
    response = full_api.post(reverse("api:dataset-import-file"), {"symbol": "BTCUSDT"})
    assert response.status_code == 400 and "file" in response.json()
