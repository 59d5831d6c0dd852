"""The run list's rows, the page's and the API's, each rendered once per content and kept per web process (issue
23 item 7).

Rendering the 25 rows was two thirds of the list page's CPU (``bench/profile_pages.py``: 15.9 ms a request, 1,700
variable lookups). A row's key is a digest of everything it can show: every field loaded for the run (the list
query's ``only()``: a field the row template needs and the query does not load would be a query per row, so it is
added there and becomes part of the key), its profile's and launcher's loaded fields, its tags, and the page's
flags (active model, may edit, the page's own address for the edit link). A row whose run changed gets a new key;
nothing is ever invalidated, and old keys fall out of the local-memory cache (``CACHES["run_rows"]``, a restart
with new templates starts empty).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from functools import partial

from django.core.cache import caches
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from training.models import TrainingRun

ROW_TEMPLATE = "training/includes/run_row.html"
CACHE_ALIAS = "run_rows"
CACHE_SECONDS = 3600


def _loaded(obj) -> list | None:
    """The instance's loaded field values by name (Django keeps its own state under names starting with _)."""
    if obj is None:
        return None
    return sorted(((name, value) for name, value in vars(obj).items() if not name.startswith("_")), key=lambda x: x[0])


def run_content(run: TrainingRun) -> tuple:
    """Everything a row of the list can show of ``run``: its loaded fields, its profile's and launcher's, its tags."""
    return (_loaded(run), _loaded(run.profile), _loaded(run.launched_by), [_loaded(tag) for tag in run.tags.all()])


def run_row_key(run: TrainingRun, *, active: bool, can_change: bool, next_path: str) -> str:
    parts = (run_content(run), active, can_change, next_path)
    return "run-row:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _kept(keys: list[str], make: list[Callable[[], object]]) -> list:
    """Per key the kept value, or ``make[i]()`` (then kept): one read and at most one write of the cache."""
    cache = caches[CACHE_ALIAS]
    kept = cache.get_many(keys)
    fresh = {key: build() for key, build in zip(keys, make, strict=True) if key not in kept}
    if fresh:
        cache.set_many(fresh, CACHE_SECONDS)
    return [kept[key] if key in kept else fresh[key] for key in keys]


def kept_representations(runs: Iterable[TrainingRun], represent: Callable[[TrainingRun], dict]) -> list[dict]:
    """The API list's rows (``represent``: the serializer's own ``to_representation``), kept like the page's rows
    under a key of their content: the API's run list spent most of its CPU serializing 25 rows field by field."""
    runs = list(runs)
    keys = ["api-run-row:" + hashlib.sha256(repr(run_content(run)).encode()).hexdigest() for run in runs]
    return _kept(keys, [partial(represent, run) for run in runs])


def run_rows(
    runs: Iterable[TrainingRun], *, active_ids: set[int], can_change: bool, next_path: str
) -> list[SafeString]:
    """The rows' HTML, in order: kept ones from the cache, the others rendered (and kept)."""
    keys, make = [], []
    for run in runs:
        context = {"run": run, "active": run.pk in active_ids, "can_change": can_change, "next_path": next_path}
        keys.append(run_row_key(run, active=context["active"], can_change=can_change, next_path=next_path))
        make.append(partial(render_to_string, ROW_TEMPLATE, context))
    return [mark_safe(html) for html in _kept(keys, make)]  # rendered by the template engine, which escaped values
