"""The app's version and the git commit it runs from, for run snapshots and the page footer.

The commit is APP_COMMIT when set (an image built without .git), else `git rev-parse HEAD` of the checkout, with
``dirty`` when tracked files differ from it; None when neither answers (a tarball). Read once per process."""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

APP_VERSION = "1.25.0"
GIT_TIMEOUT_SECONDS = 10.0  # read once per process; a loaded machine took over 2 s for `git status`
CHECKOUT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            # no index lock: processes starting at once (web, workers, tests) never make each other's git fail
            ["git", "--no-optional-locks", "-C", str(CHECKOUT), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def app_code_version() -> dict:
    """{"version", "commit" (40 hex digits or None), "dirty" (bool or None)}."""
    commit = os.environ.get("APP_COMMIT", "").strip() or None
    dirty = None
    if commit is None:
        commit = _git("rev-parse", "HEAD")
        if commit is not None:
            changes = _git("status", "--porcelain", "--untracked-files=no")
            dirty = None if changes is None else bool(changes)
    return {"version": os.environ.get("APP_VERSION", "").strip() or APP_VERSION, "commit": commit, "dirty": dirty}
