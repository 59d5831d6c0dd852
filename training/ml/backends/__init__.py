"""Model backends: one module per library (``*_backend.py``), each declaring and registering its classes."""

from .base import Backend, BackendNotFitted, Framework
from .registry import backend_classes, frameworks, get_backend, register, registered_backends, sections, unregister

__all__ = [
    "Backend",
    "BackendNotFitted",
    "Framework",
    "backend_classes",
    "frameworks",
    "get_backend",
    "register",
    "registered_backends",
    "sections",
    "unregister",
]
