"""Admin classes, one module per area; each action calls one service."""
from . import profiles  # noqa
from . import runs  # noqa
