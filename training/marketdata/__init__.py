"""Market data as plain Python (no Django, except `bulk` which writes to the database):

- `times`: intervals and time formatting        - `candles`: the `Candles` columns, fingerprint, gaps
- `errors`: `CandleFileError` and its messages  - `limits`: input limits (sizes, ratios, plausibility)
- `archive`: plain/zip/gz sources as bounded byte streams
- `csvparse`: streamed CSV parsing into candles  - `binance`: Binance's kline layout (CSV and REST rows)
- `checks`: candle checks and plausibility       - `client`: Binance's REST client (retries, back-off)
- `bulk`: bulk insert, one function per database - `sample`: the shipped offline sample
"""
