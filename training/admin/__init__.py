"""Admin classes, one module per area; each action calls one service."""
from . import runs  # noqa: E402,F401  (keep after the profiles admin import: it extends that admin's actions)
