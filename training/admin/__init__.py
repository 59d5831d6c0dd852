"""Admin classes, one module per area; each action calls one service."""

from . import market_data  # noqa
from . import profiles  # noqa
from . import runs  # noqa
from . import sweeps  # noqa
from . import api_tokens  # noqa
from . import registry  # noqa
from . import beat  # noqa
