from tests.training.market_data_server import binance_server, closed_port_url  # noqa: F401
