"""A local stand-in for Binance's /api/v3/klines: http.server on 127.0.0.1 in a thread, serving pages of real
hourly candles (the bundled Bitfinex sample, in Binance's REST row format) and scripted error answers."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from ares_site.embedded_redis import free_port
from training.marketdata.sample import read_sample


def sample_rows(count: int) -> list[list]:
    candles = read_sample()
    rows = []
    for i in range(count):
        t = int(candles.open_time[i])
        rows.append(
            [
                t,
                *(repr(float(getattr(candles, c)[i])) for c in ("open", "high", "low", "close", "volume")),
                t + 3_599_999,
                repr(float(candles.quote_volume[i])),
                None,
                None,
                None,
                "0",
            ]
        )
    return rows


class FakeBinance:
    def __init__(self, rows):
        self.rows = rows
        self.errors: list[tuple[int, dict]] = []  # answered (status, headers) before serving data
        self.requests: list[dict] = []

    def answer(self, query: dict) -> tuple[int, dict, bytes]:
        self.requests.append(query)
        if self.errors:
            status, headers = self.errors.pop(0)
            return status, headers, json.dumps({"code": -1003, "msg": "Too many requests."}).encode()
        if query.get("symbol") != "BTCUSDT":
            return 400, {}, json.dumps({"code": -1121, "msg": "Invalid symbol."}).encode()
        start, end, limit = int(query["startTime"]), int(query["endTime"]), int(query["limit"])
        page = [r for r in self.rows if start <= r[0] <= end][:limit]
        return 200, {"Content-Type": "application/json"}, json.dumps(page).encode()


@pytest.fixture
def binance_server():
    fake = FakeBinance(sample_rows(2500))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlparse(self.path)
            if url.path != "/api/v3/klines":
                self.send_error(404)
                return
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            status, headers, body = fake.answer(query)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def closed_port_url():
    return f"http://127.0.0.1:{free_port()}"
