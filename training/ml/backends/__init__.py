"""Backend registry. Each backend is a small class keyed by ``key``; heavy libraries are imported only
inside the class's methods so that admin pages and tests start fast."""

from .base import Backend, BackendNotFitted, get_backend, register, registered_backends

__all__ = ["Backend", "BackendNotFitted", "get_backend", "register", "registered_backends"]
