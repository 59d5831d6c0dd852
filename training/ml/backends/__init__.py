"""Model backends: one module per library (``*_backend.py``), each declaring and registering its classes."""

from .base import Backend, BackendNotFitted, Framework
from .registry import (
    backend_classes,
    frameworks,
    generic_evidence,
    get_backend,
    model_warnings,
    register,
    registered_backends,
    sections,
    unregister,
)

__all__ = [
    "Backend",
    "BackendNotFitted",
    "Framework",
    "backend_classes",
    "frameworks",
    "generic_evidence",
    "get_backend",
    "model_warnings",
    "register",
    "registered_backends",
    "sections",
    "unregister",
]
