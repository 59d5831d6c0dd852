"""The app version the web serves, published where every host reads it: a row per web host in the shared database
(issue 27). The database, not Redis: it is the record the migrations already live in, it survives a Redis
restart (``make run``'s Redis is its own), and a worker reads it in the same start check as the migrations."""

from __future__ import annotations

import logging
import socket

from ares_site.app_version import app_code_version

logger = logging.getLogger(__name__)

MSG_NOT_PUBLISHED = "the web's app version was not published: {error}"


def web_version_publish(*, host: str | None = None) -> None:
    """Record this process's app version as its host's web version (the database's clock stamps it). Never raises:
    a web that cannot write it (no migrations yet) still serves, and says why in its log."""
    from training.models import WebVersion
    from training.services.runs.database import db_now

    code = app_code_version()
    try:
        WebVersion.objects.update_or_create(
            host=(host or socket.gethostname())[:255],
            defaults={
                "version": code["version"][:64],
                "commit": (code["commit"] or "")[:40],
                "dirty": code["dirty"],
                "published_at": db_now(),
            },
        )
    except Exception as exc:
        logger.warning(MSG_NOT_PUBLISHED.format(error=f"{type(exc).__name__}: {exc}"))


def web_version_started() -> None:
    """A web process starts (``ares_site.wsgi``/``asgi``): publish, then close the connection it opened, so no
    process forked from this one shares it."""
    from django.db import connections

    web_version_publish()
    connections.close_all()
