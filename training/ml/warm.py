"""The training libraries imported ahead of a run (a warm worker), and whether a run had to import them itself."""

from __future__ import annotations

import importlib
import sys
import time

from .backends.registry import frameworks


def framework_loaded(framework) -> bool:
    """Every module it declares is imported (a framework that declares none has nothing to import)."""
    return all(module in sys.modules for module in framework.modules)


def frameworks_loaded(keys=None) -> list[str]:
    """Names of the frameworks (of the given backend keys; all registered by default) already imported here."""
    return [framework.name for framework in frameworks(keys) if framework_loaded(framework)]


def frameworks_import(keys=None) -> dict[str, float]:
    """Import the frameworks of the given backend keys (all registered by default) that are not imported yet;
    returns ``{framework name: seconds its import took}`` for those."""
    seconds: dict[str, float] = {}
    for framework in frameworks(keys):
        if framework_loaded(framework):
            continue
        started = time.perf_counter()
        if framework.load is not None:
            framework.load()
        else:
            for module in framework.modules:
                importlib.import_module(module)
        seconds[framework.name] = time.perf_counter() - started
    return seconds
