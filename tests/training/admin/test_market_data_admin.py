import gzip
import html
import io
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.training.market_data_files import SAMPLE_ROWS, csv_text, small_datasets_allowed, with_field, zipped  # noqa: F401 (fixture)
from training.forms.symbols import MSG_WILL_BECOME
from training.marketdata.markets import MSG_NOT_ASCII
from training.models import Candle, MarketDataset
from training.services.market_data import dataset_load_sample

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_datasets_allowed")]


@pytest.fixture
def superuser_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456789")
    client.force_login(user)
    return client


def test_upload_form_imports_and_shows_the_report(superuser_client):
    url = reverse("admin:training_marketdataset_import")
    upload = SimpleUploadedFile("BTCUSDT-1h-2024-01-01.zip", zipped(csv_text(header=True)))
    response = superuser_client.post(
        url, {"file": upload, "symbol": "BTCUSDT", "exchange": "BINANCE", "interval": "1h"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Imported BTCUSDT-1h-2024-01-01.zip into BINANCE:BTCUSDT 1h" in page and "rows read: 6" in page
    assert MarketDataset.objects.get().source == "admin upload BTCUSDT-1h-2024-01-01.zip"


def test_upload_form_shows_a_changed_symbol_before_storing_anything(superuser_client):
    url = reverse("admin:training_marketdataset_import")
    form = {"symbol": " btcusdt", "exchange": "binance", "interval": "1h"}
    shown = superuser_client.post(url, {**form, "file": SimpleUploadedFile("a.csv", csv_text().encode())})
    page = shown.content.decode()
    assert html.escape(MSG_WILL_BECOME.format(label="Symbol", given=" btcusdt", saved="BTCUSDT")) in page
    assert html.escape(MSG_WILL_BECOME.format(label="Exchange", given="binance", saved="BINANCE")) in page
    assert "Choose the file again." in page and 'name="symbol" value="BTCUSDT"' in page
    assert not MarketDataset.objects.exists() and not Candle.objects.exists()
    refused = superuser_client.post(
        url, {**form, "symbol": "straße", "file": SimpleUploadedFile("a.csv", csv_text().encode())}
    )
    assert (
        html.escape(MSG_NOT_ASCII.format(label="Symbol", given="straße", upper="STRASSE")) in refused.content.decode()
    )
    assert not MarketDataset.objects.exists()
    saved = superuser_client.post(
        url,
        {
            "symbol": "BTCUSDT",
            "exchange": "BINANCE",
            "interval": "1h",
            "file": SimpleUploadedFile("a.csv", csv_text().encode()),
        },
    )
    assert "Imported a.csv into BINANCE:BTCUSDT 1h" in saved.content.decode()
    assert MarketDataset.objects.get().symbol == "BTCUSDT"


def test_upload_form_shows_errors_and_stores_nothing(superuser_client):
    upload = SimpleUploadedFile("bad.csv", csv_text().replace("42283.58000000", "NaN").encode())
    response = superuser_client.post(
        reverse("admin:training_marketdataset_import"),
        {"file": upload, "symbol": "BTCUSDT", "exchange": "BINANCE", "interval": "1h"},
    )
    page = response.content.decode()
    assert "Import refused: nothing was stored" in page
    assert "bad.csv: line 1, column open: value is NaN" in page
    assert not Candle.objects.exists()


def test_dataset_list_and_page_show_coverage_and_chart(superuser_client):
    dataset_load_sample()
    dataset = MarketDataset.objects.get()
    listing = superuser_client.get(reverse("admin:training_marketdataset_changelist")).content.decode()
    assert "2017-07-01 11:00 → 2019-07-04 01:00" in listing and str(SAMPLE_ROWS) in listing
    assert reverse("admin:training_marketdataset_import") in listing
    page = superuser_client.get(reverse("admin:training_marketdataset_change", args=[dataset.pk])).content.decode()
    assert '<svg class="price-chart"' in page and "<polyline" in page and "Bitfinex BTC/USD" in page
    assert page.count(",") > 400 and "cdn" not in page.lower()


def test_candles_are_read_only(superuser_client):
    dataset_load_sample()
    candle = Candle.objects.first()
    assert superuser_client.get(reverse("admin:training_candle_changelist")).status_code == 200
    assert superuser_client.get(reverse("admin:training_candle_add")).status_code == 403
    assert superuser_client.get(reverse("admin:training_candle_change", args=[candle.pk])).status_code == 200
    response = superuser_client.post(reverse("admin:training_candle_change", args=[candle.pk]), {"close": "1"})
    assert response.status_code == 403
    candle.refresh_from_db()
    assert candle.close != 1


def two_member_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", csv_text())
        archive.writestr("b.csv", csv_text())
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("cut.csv.gz", lambda: gzip.compress(csv_text().encode())[:-20], "cut.csv.gz: the gzip file is truncated"),
        ("bad.csv.gz", lambda: b"\x1f\x8b" + b"\x00" * 50, "bad.csv.gz: the gzip file is truncated or corrupt"),
        ("cut.zip", lambda: zipped(csv_text())[:-30], "cut.zip: the zip file is truncated or corrupt"),
        ("two.zip", two_member_zip, "two.zip: the zip archive holds 2 CSV files (a.csv, b.csv)"),
        ("y2317.csv", lambda: with_field(2, 0, "10950249600000").encode(), "y2317.csv: line 3, column open_time"),
        ("huge.csv", lambda: with_field(1, 2, "1e308").encode(), "huge.csv: line 2, column high: price 1e+308"),
    ],
)
def test_bad_uploads_show_their_message_and_store_nothing(superuser_client, name, data, expected):
    response = superuser_client.post(
        reverse("admin:training_marketdataset_import"),
        {"file": SimpleUploadedFile(name, data()), "symbol": "BTCUSDT", "exchange": "BINANCE", "interval": "1h"},
    )
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Import refused: nothing was stored" in page and expected in page
    assert not MarketDataset.objects.exists() and not Candle.objects.exists()
