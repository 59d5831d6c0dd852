"""Binance's public REST API for klines (/api/v3/klines) as plain Python: one GET with retries on HTTP
429/418/5xx (honouring Retry-After, else exponential back-off capped at `max_wait`), and clear errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import requests

KLINES_PATH = "/api/v3/klines"
KLINES_LIMIT = 1000
RETRY_STATUSES = {418, 429} | set(range(500, 600))
MSG_FETCH_UNREACHABLE = (
    "Cannot reach Binance at {url}: {reason}. Check the network or BINANCE_API_URL; nothing was stored."
)
MSG_FETCH_TIMEOUT = "Binance at {url} did not answer within {timeout} s; nothing was stored."
MSG_FETCH_GAVE_UP = (
    "Binance answered HTTP {status} {attempts} times in a row for {url} (last answer: {body}); "
    "gave up, nothing was stored."
)
MSG_FETCH_HTTP = "Binance answered HTTP {status} for {url}: {body}; nothing was stored."
MSG_FETCH_BAD_JSON = "Binance's answer from {url} is not a JSON list of klines: {body}; nothing was stored."
CONNECTION_HINTS = (
    "Connection refused",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "No route to host",
    "timed out",
)


class FetchError(RuntimeError):
    pass


def _reason(exc: Exception) -> str:
    text = str(exc)
    for hint in CONNECTION_HINTS:
        if hint in text:
            return hint.lower() if hint != "timed out" else "the connection timed out"
    return text[:200]


class BinanceClient:
    """Counts `requests` and `retries`; `sleep` is injectable so tests need not wait."""

    def __init__(
        self,
        base_url: str,
        *,
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        max_wait_seconds: float = 30.0,
        timeout: tuple[float, float] = (5.0, 30.0),
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.url = base_url.rstrip("/") + KLINES_PATH
        self.session = requests.Session()
        self.max_attempts, self.backoff, self.max_wait = max_attempts, backoff_seconds, max_wait_seconds
        self.timeout, self.sleep = timeout, sleep
        self.requests = self.retries = 0

    @property
    def origin(self) -> str:
        return self.url.split("/api/")[0]

    def get(self, params: dict) -> list:
        for attempt in range(1, self.max_attempts + 1):
            self.requests += 1
            try:
                response = self.session.get(self.url, params=params, timeout=self.timeout)
            except requests.Timeout:
                raise FetchError(MSG_FETCH_TIMEOUT.format(url=self.url, timeout=self.timeout)) from None
            except requests.ConnectionError as exc:
                raise FetchError(MSG_FETCH_UNREACHABLE.format(url=self.url, reason=_reason(exc))) from None
            body = response.text[:300]
            if response.status_code == 200:
                try:
                    rows = response.json()
                except ValueError:
                    rows = None
                if not isinstance(rows, list):
                    raise FetchError(MSG_FETCH_BAD_JSON.format(url=self.url, body=body))
                return rows
            if response.status_code not in RETRY_STATUSES:
                raise FetchError(MSG_FETCH_HTTP.format(status=response.status_code, url=response.url, body=body))
            if attempt == self.max_attempts:
                raise FetchError(
                    MSG_FETCH_GAVE_UP.format(status=response.status_code, attempts=attempt, url=response.url, body=body)
                )
            self.retries += 1
            self.sleep(min(self._wait(response, attempt), self.max_wait))
        raise AssertionError("unreachable")

    def _wait(self, response, attempt: int) -> float:
        header = response.headers.get("Retry-After", "")
        try:
            return max(float(header), 0.0)
        except ValueError:
            return self.backoff * 2 ** (attempt - 1)

    def klines(self, *, symbol: str, interval: str, start_ms: int, end_ms: int, step_ms: int) -> Iterator[list]:
        """Every kline row from start to end (inclusive), page by page (KLINES_LIMIT per request)."""
        cursor = start_ms
        while cursor <= end_ms:
            page = self.get(
                {"symbol": symbol, "interval": interval, "startTime": cursor, "endTime": end_ms, "limit": KLINES_LIMIT}
            )
            if not page:
                return
            yield from page
            cursor = int(page[-1][0]) + step_ms
            if len(page) < KLINES_LIMIT:
                return
