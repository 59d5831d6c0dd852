from tests.training.market_data_server import binance_server, closed_port_url  # noqa: F401

# One real trained run for the prediction-log, live and monitor modules (a module importing it trains its own).
from tests.training.trained_run import trained_artifacts  # noqa: F401
