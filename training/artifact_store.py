"""The artifact store: every run's files through Django's storage API (``STORAGES["artifacts"]``).

A run keeps a key relative to the store's root (``runs/<id>-<uuid>``), never a host path. The engine
(``training.ml``) writes into a local working folder (``ARTIFACTS_DIR/<key>``); ``store_upload`` puts those files
into the store by key with their sha256, ``store_missing`` reads them back and names what does not match.

Readers (pages, the zip, predict) take ``run_local_dir``: with the local store (``ARTIFACTS_URL`` unset) that is
the store's own folder; with an object store the run's manifest is read, and its files are downloaded once into
``ARTIFACTS_CACHE_DIR/<sha256 of the manifest>/`` (a folder per artifact digest, so predict never loads a stale
copy), each checked against its digest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, storages

STORAGE_ALIAS = "artifacts"
MANIFEST = "manifest.json"
COMPLETE_MARK = ".complete"
MARKER_DIR = "workers"
MSG_FILES_MISSING = "Files missing from the artifact store ({store}): {files}"
MSG_WRITTEN_BY = "{name} (written by worker {worker})"
MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
READ_TRIES = 3
READ_RETRY_SECONDS = 0.25

logger = logging.getLogger(__name__)


class LocalArtifactStorage(FileSystemStorage):
    """The local store: ``ARTIFACTS_DIR`` as it is now (a test or a command that changes the setting moves it)."""

    @property
    def base_location(self):
        return str(settings.ARTIFACTS_DIR)

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def artifact_storage():
    return storages[STORAGE_ALIAS]


def run_dir(run) -> Path | None:
    """The local folder holding the run's files as this process reads them (None when it has none)."""
    return run_local_dir(run).directory


def store_is_local() -> bool:
    return isinstance(artifact_storage(), FileSystemStorage)


def store_label() -> str:
    return settings.ARTIFACTS_URL or str(settings.ARTIFACTS_DIR)


def run_key(run) -> str:
    return f"runs/{run.pk}-{run.artifacts_key}"


def working_dir(key: str) -> Path:
    """This host's local folder for ``key`` (with the local store it is the stored folder itself)."""
    return Path(settings.ARTIFACTS_DIR) / key


def _digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def local_files(directory: Path) -> dict[str, str]:
    """``{relative name: sha256}`` of every file under ``directory``."""
    directory = Path(directory)
    return {p.relative_to(directory).as_posix(): file_digest(p) for p in sorted(directory.rglob("*")) if p.is_file()}


def _is_missing(exc: Exception) -> bool:
    """A read that failed because the object is not there: a local file, or S3's 404 / NoSuchKey."""
    if isinstance(exc, FileNotFoundError):
        return True
    error = getattr(exc, "response", None)
    code = str((error or {}).get("Error", {}).get("Code", "")) if isinstance(error, dict) else ""
    return code in MISSING_CODES


def stored_digest(name: str) -> str | None:
    """The sha256 of the stored object ``name`` (a key from the store's root); None when it is missing or cannot
    be read. Any other failure (a dropped connection, a busy store's 5xx) is tried again, READ_TRIES times in all:
    a finished part whose read failed once is kept, not trained again."""
    storage = artifact_storage()
    for attempt in range(1, READ_TRIES + 1):
        try:
            with storage.open(name, "rb") as fh:
                digest = hashlib.sha256()
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
                return digest.hexdigest()
        except Exception as exc:  # S3 answers a missing key with its own ClientError
            if _is_missing(exc):
                return None
            if attempt == READ_TRIES:
                logger.warning("could not read %s from the artifact store: %s: %s", name, type(exc).__name__, exc)
                return None
            time.sleep(READ_RETRY_SECONDS * attempt)


def store_upload(*, local_dir: Path, key: str) -> dict[str, str]:
    """Every file under ``local_dir`` into the store under ``key``; returns their digests. With the local store
    a file already at its stored place is not copied onto itself."""
    storage = artifact_storage()
    files = local_files(local_dir)
    for name in files:
        source = Path(local_dir) / name
        target = f"{key}/{name}"
        if store_is_local() and Path(storage.path(target)).resolve() == source.resolve():
            continue
        with open(source, "rb") as fh:
            storage.save(target, File(fh, name=source.name))
    return files


def store_missing(*, key: str, files: dict[str, str]) -> list[str]:
    """The names (relative to ``key``) that do not read back from the store with their digest."""
    return [name for name, digest in files.items() if stored_digest(f"{key}/{name}") != digest]


def store_delete(*, key: str, names) -> None:
    storage = artifact_storage()
    for name in names:
        try:
            storage.delete(f"{key}/{name}")
        except Exception:  # already gone
            pass


def store_download(*, key: str, files: dict[str, str], target: Path) -> list[str]:
    """Download ``files`` (names under ``key``) into ``target`` unless already there with their digest; returns
    the names that could not be read with their digest."""
    storage = artifact_storage()
    missing = []
    for name, digest in files.items():
        path = Path(target) / name
        if path.is_file() and file_digest(path) == digest:
            continue
        try:
            with storage.open(f"{key}/{name}", "rb") as fh:
                data = fh.read()
        except Exception:
            missing.append(name)
            continue
        if _digest_bytes(data) != digest:
            missing.append(name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
        partial.write_bytes(data)
        os.replace(partial, path)
    return missing


def store_names(directory: str = "") -> list[str]:
    """Every stored object's name under ``directory`` (the whole store by default), sorted."""
    storage = artifact_storage()
    try:
        directories, files = storage.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return []
    names = [f"{directory}/{name}" if directory else name for name in files]
    for sub in directories:
        names += store_names(f"{directory}/{sub}" if directory else sub)
    return sorted(names)


def store_has_files(key: str) -> bool:
    storage = artifact_storage()
    try:
        directories, files = storage.listdir(key)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return bool(directories or files)


def missing_message(missing: list[tuple[str, str]]) -> str:
    """``MSG_FILES_MISSING`` naming each file and the worker that wrote it (``missing``: (name, worker) pairs)."""
    named = [MSG_WRITTEN_BY.format(name=name, worker=worker or "unknown") for name, worker in missing]
    return MSG_FILES_MISSING.format(store=store_label(), files="; ".join(named))


def writer_of(name: str, writers: dict[str, str], default: str = "") -> str:
    """The worker that wrote ``name`` of a run: its regime's (the first path part) in ``writers``, else ``default``."""
    return writers.get(name.split("/")[0], "") or default


# --- reading a run ------------------------------------------------------------------------------------------
@dataclass
class RunFiles:
    """A run's files as this process can read them: ``directory`` (None when the run has none) and the names of
    its manifest that cannot be read (``unreadable``) with the worker that wrote each (``writers``)."""

    directory: Path | None
    unreadable: list[str] = field(default_factory=list)
    writers: dict[str, str] = field(default_factory=dict)

    def writer_of(self, name: str) -> str:
        return writer_of(name, self.writers, "unknown")


def _manifest_files(manifest: dict) -> dict[str, str]:
    return dict(manifest.get("files") or {})


def run_local_dir(run) -> RunFiles:
    """The run's files in a local folder, read through the store (see the module docstring)."""
    key = run.artifacts_path
    if not key:
        return RunFiles(None)
    if os.path.isabs(key):  # a path stored before keys existed and outside the store: read as it is
        return _checked(Path(key))
    if store_is_local():
        return _checked(Path(artifact_storage().path(key)))
    storage = artifact_storage()
    try:
        with storage.open(f"{key}/{MANIFEST}", "rb") as fh:
            raw = fh.read()
    except Exception:
        return RunFiles(None, [MANIFEST])
    manifest = json.loads(raw)
    target = Path(settings.ARTIFACTS_CACHE_DIR) / _digest_bytes(raw)
    writers = dict(manifest.get("workers") or {})
    if (target / COMPLETE_MARK).is_file():
        return RunFiles(target, [], writers)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    if target.is_dir():  # an earlier, incomplete download: keep what it has
        shutil.copytree(target, staging, dirs_exist_ok=True)
    missing = store_download(key=key, files=_manifest_files(manifest), target=staging)
    (staging / MANIFEST).write_bytes(raw)
    if not missing:
        (staging / COMPLETE_MARK).write_text("")
    shutil.rmtree(target, ignore_errors=True)
    try:
        os.replace(staging, target)
    except OSError:  # another process put it there first
        shutil.rmtree(staging, ignore_errors=True)
    return RunFiles(target, missing, writers)


def _checked(directory: Path) -> RunFiles:
    manifest_path = directory / MANIFEST
    if not directory.is_dir():
        return RunFiles(None, [MANIFEST])
    if not manifest_path.is_file():
        return RunFiles(directory)
    manifest = json.loads(manifest_path.read_text())
    unreadable = [name for name in _manifest_files(manifest) if not (directory / name).is_file()]
    return RunFiles(directory, unreadable, dict(manifest.get("workers") or {}))


# --- the worker's start check -------------------------------------------------------------------------------
def store_check_marker(worker: str) -> str | None:
    """Write, read back and delete a marker file; None when the store works, else the reason."""
    name = f"{MARKER_DIR}/{worker.replace('@', '_').replace('/', '_')}-{uuid.uuid4().hex[:8]}.marker"
    payload = f"{worker} {uuid.uuid4().hex}".encode()
    storage = artifact_storage()
    try:
        saved = storage.save(name, ContentFile(payload))
        with storage.open(saved, "rb") as fh:
            back = fh.read()
        storage.delete(saved)
    except Exception as exc:
        return f"the artifact store {store_label()} is not writable and readable: {type(exc).__name__}: {exc}"
    if back != payload:
        return f"the artifact store {store_label()} gave back other bytes than were written"
    return None


def run_predictor(run):
    """The run's cached ``Predictor`` over its files read through the store (``ModelUnavailable`` when none)."""
    from training.ml.predict import MSG_NO_ARTIFACTS, ModelUnavailable, predictor_for

    directory = run_dir(run)
    if directory is None:
        raise ModelUnavailable(MSG_NO_ARTIFACTS.format(run=run.pk, path=f"{run.artifacts_path} in {store_label()}"))
    return predictor_for(run.pk, directory)
