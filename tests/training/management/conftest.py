from tests.training.market_data_server import binance_server, closed_port_url  # noqa: F401
from tests.training.runs_helpers import *  # noqa: F403
