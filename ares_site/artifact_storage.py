"""The ``STORAGES["artifacts"]`` entry for an ``ARTIFACTS_URL`` (issue 27); plain Python, read by the settings and
by tests that point a process at another store."""

from __future__ import annotations

from urllib.parse import urlsplit

MSG_BAD_URL = "ARTIFACTS_URL must be s3://<bucket>/<prefix> (or unset for the local ARTIFACTS_DIR), not {url!r}"
LOCAL_BACKEND = "training.artifact_store.LocalArtifactStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"


def artifact_storage_setting(
    url: str, *, endpoint_url: str = "", access_key: str = "", secret_key: str = "", region: str = ""
) -> dict:
    """Unset ``url``: the local store (``ARTIFACTS_DIR``, read when used); ``s3://<bucket>/<prefix>``:
    django-storages' S3 backend on that bucket and prefix. Raises ``ValueError`` for anything else."""
    if not url:
        return {"BACKEND": LOCAL_BACKEND, "OPTIONS": {"allow_overwrite": True}}
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(MSG_BAD_URL.format(url=url))
    return {
        "BACKEND": S3_BACKEND,
        "OPTIONS": {
            "bucket_name": parts.netloc,
            "location": parts.path.strip("/"),
            "endpoint_url": endpoint_url or None,
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "region_name": region or None,
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": False,
        },
    }
