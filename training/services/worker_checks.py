"""A worker checks before it works (issue 27): at start, the artifact store is writable and readable (a marker),
the database has exactly the migrations this code knows, its app version (``ares_site.app_version``: version and
commit) is the one the web serves (the latest ``WebVersion`` a web process published; none yet is not a refusal,
the log says so), and this host's clock is within ``WORKER_MAX_CLOCK_DRIFT_SECONDS`` of the database's. A worker
that fails any check refuses to start and says why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection

MSG_REFUSED = "worker {worker} refuses to start: {reasons}"
MSG_DATABASE = "the database cannot be reached: {error}"
MSG_MIGRATIONS_PENDING = (
    "the database lacks migrations this code needs: {names} (run `manage.py migrate` on one host, then start workers)"
)
MSG_MIGRATIONS_UNKNOWN = (
    "the database has migrations this code does not know: {names} (this worker runs another version of the app "
    "than the one that migrated the database; deploy the same version on every host)"
)
MSG_CLOCK_DRIFT = (
    "this host's clock differs from the database's by {seconds:+.1f} s (allowed: {allowed:g} s, "
    "WORKER_MAX_CLOCK_DRIFT_SECONDS); synchronise it (NTP) and start again"
)
MSG_VERSION_MISMATCH = (
    "this worker runs app version {mine}, the web on {host} serves {theirs} (published {when}); deploy the same "
    "version on every host, then start the worker again"
)
MSG_NO_WEB_VERSION = (
    "worker {worker}: no web process has published the app version it serves yet; this worker's ({mine}) is not "
    "compared (a web process publishes it when it starts)"
)
EXIT_REFUSED = 78  # EX_CONFIG: systemd's Restart=on-failure backs off; the log says why


NAMES_SHOWN = 6
logger = logging.getLogger(__name__)


def _names(pairs) -> str:
    names = [f"{app}.{name}" for app, name in sorted(pairs)]
    more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    return ", ".join(names[:NAMES_SHOWN]) + more


def migration_problems() -> list[str]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    problems = []
    if plan:
        problems.append(MSG_MIGRATIONS_PENDING.format(names=_names((m.app_label, m.name) for m, _ in plan)))
    applied = executor.recorder.applied_migrations()
    unknown = [
        key for key in applied if key[0] in executor.loader.migrated_apps and key not in executor.loader.disk_migrations
    ]
    if unknown:
        problems.append(MSG_MIGRATIONS_UNKNOWN.format(names=_names(unknown)))
    return problems


def _version_label(version: str, commit: str | None) -> str:
    return f"{version} (commit {commit[:12]})" if commit else f"{version} (no commit known)"


def version_problem(*, worker: str) -> str | None:
    """The reason this worker's app version is not the web's: the version differs, or both commits are known and
    differ. None when they match, and when no web has published one (logged)."""
    from ares_site.app_version import app_code_version
    from training.models import WebVersion

    mine = app_code_version()
    web = WebVersion.objects.order_by("-published_at").first()
    if web is None:
        logger.warning(MSG_NO_WEB_VERSION.format(worker=worker, mine=_version_label(mine["version"], mine["commit"])))
        return None
    commits_differ = bool(mine["commit"] and web.commit and mine["commit"] != web.commit)
    if mine["version"] == web.version and not commits_differ:
        return None
    return MSG_VERSION_MISMATCH.format(
        mine=_version_label(mine["version"], mine["commit"]),
        theirs=_version_label(web.version, web.commit),
        host=web.host,
        when=web.published_at.isoformat(timespec="seconds"),
    )


def clock_offset_seconds(clock: Callable[[], float] = time.time) -> float:
    """This host's clock minus the database's (half the round trip taken off)."""
    from training.services.runs.database import db_now

    before = clock()
    database = db_now().timestamp()
    after = clock()
    return (before + after) / 2 - database


def worker_start_problems(*, worker: str, clock: Callable[[], float] = time.time) -> list[str]:
    """Every reason this worker must not start (empty: it may)."""
    from training.artifact_store import store_check_marker

    problems = []
    store = store_check_marker(worker)
    if store:
        problems.append(store)
    try:
        schema = migration_problems()
        problems += schema
        version = None if schema else version_problem(worker=worker)  # the table may not exist yet
        if version:
            problems.append(version)
        offset = clock_offset_seconds(clock)
    except Exception as exc:
        return [*problems, MSG_DATABASE.format(error=f"{type(exc).__name__}: {exc}")]
    finally:
        connection.close()
    allowed = float(settings.WORKER_MAX_CLOCK_DRIFT_SECONDS)
    if abs(offset) > allowed:
        problems.append(MSG_CLOCK_DRIFT.format(seconds=offset, allowed=allowed))
    return problems
