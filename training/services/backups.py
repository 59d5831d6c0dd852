"""Backups: the database (SQLite's online backup API, or `pg_dump`) and every object of the artifact store
(``STORAGES["artifacts"]``: the local ARTIFACTS_DIR, or an S3-compatible store) in one archive whose manifest holds
the sha256 of every member. A restore extracts into a staging folder, checks every digest (and that nothing is
missing or unlisted) before it touches anything. Then, with the local store, it replaces the database and moves
the current artifacts folder aside (never deleted, never merged) for the archive's; with an object store, it
writes the archive's objects into the store and reads each back with its digest before it replaces the
database, and leaves the objects the archive does not hold where they are (a shared store is never emptied; run
keys carry a UUID, so no restored run adopts them).

Stop `make run` (and any worker) before a restore: a worker that keeps training writes into the database
that is being replaced."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files import File
from django.db import connection, connections
from django.utils import timezone

from training.artifact_store import artifact_storage, store_is_local, store_label, store_names, stored_digest
from training.models import TrainingRun

BACKUP_FORMAT = "ares.backup"
BACKUP_VERSION = 1
MANIFEST_NAME = "backup-manifest.json"
ARTIFACTS_MEMBER = "artifacts"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1 << 20

MSG_NOT_A_BACKUP = "{path} is not an Ares backup: it holds no {manifest}; nothing was restored."
MSG_BAD_FORMAT = "{path}: the manifest is not an {format} version {version} manifest; nothing was restored."
MSG_UNSAFE_MEMBER = "{path}: {member!r} is not a plain file inside the archive; nothing was restored."
MSG_DIGEST_MISMATCH = (
    "{path}: {member} does not match its digest (manifest sha256 {expected}, archive {found}); nothing was restored."
)
MSG_MISSING_MEMBER = "{path}: {member} is listed in the manifest but not in the archive; nothing was restored."
MSG_UNLISTED_MEMBER = "{path}: {member} is in the archive but not in its manifest; nothing was restored."
MSG_ENGINE_MISMATCH = "{path} holds a {backup} database; this installation uses {current}; nothing was restored."
MSG_UNSUPPORTED_ENGINE = "Backups support SQLite and PostgreSQL; this installation uses {engine}."
MSG_TOOL_FAILED = "{tool} failed with exit code {code}: {stderr}"
MSG_STORE_UNREADABLE = (
    "{path}: {count} object(s) did not read back from the artifact store {store} with their digest after they were "
    "written: {names}; the database was not replaced."
)
NAMES_SHOWN = 5


class BackupError(RuntimeError):
    pass


@dataclass
class BackupReport:
    path: Path
    runs: int
    files: int
    bytes: int

    def as_text(self) -> str:
        return f"Backup written to {self.path}: the database ({self.runs} run(s)) and {self.files} artifact file(s)."


@dataclass
class RestoreReport:
    path: Path
    runs: int
    files: int
    previous_artifacts: Path | None
    store: str = ""
    left_in_store: int = 0  # objects of an object store that the archive does not hold, left as they were

    def as_text(self) -> str:
        moved = (
            f"; the previous artifacts folder was moved to {self.previous_artifacts}" if self.previous_artifacts else ""
        )
        left = (
            f"; {self.left_in_store} object(s) already in the store that the archive does not hold were left there"
            if self.left_in_store
            else ""
        )
        return (
            f"Restored {self.path}: {self.runs} run(s) and {self.files} artifact file(s) into {self.store}, "
            f"every digest checked{moved}{left}."
        )


class _Hashing(io.RawIOBase):
    """A reader that hashes what it passes on (the digest is of the very bytes archived)."""

    def __init__(self, handle):
        self.handle, self.digest = handle, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.handle.read(len(buffer))
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)


def _vendor() -> str:
    if connection.vendor not in DATABASE_MEMBERS:
        raise BackupError(MSG_UNSUPPORTED_ENGINE.format(engine=connection.vendor))
    return connection.vendor


def _pg_env() -> dict:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for key, name in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if db.get(name):
            env[key] = str(db[name])
    return env


def _run_tool(command: list[str]) -> None:
    done = subprocess.run(command, env=_pg_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(MSG_TOOL_FAILED.format(tool=command[0], code=done.returncode, stderr=done.stderr.strip()))


def _dump_database(target: Path, vendor: str) -> None:
    if vendor == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            connection.connection.backup(destination)  # online: a consistent copy while others write
        finally:
            destination.close()
    else:
        name = settings.DATABASES["default"]["NAME"]
        _run_tool(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", name])


def _load_database(source: Path, vendor: str) -> None:
    connections.close_all()
    if vendor == "sqlite":
        connection.ensure_connection()
        origin = sqlite3.connect(source)
        try:
            origin.backup(connection.connection)
        finally:
            origin.close()
    else:
        name = settings.DATABASES["default"]["NAME"]
        _run_tool(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={name}",
                str(source),
            ]
        )
    connections.close_all()


def backup_create(*, output: Path) -> BackupReport:
    """Write the database and every object of the artifact store to `output` (a .tar.gz), manifest last."""
    vendor = _vendor()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    storage = artifact_storage()
    digests: dict[str, str] = {}
    partial = output.with_name(output.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="ares-backup-") as staging:
        dump = Path(staging) / DATABASE_MEMBERS[vendor]
        _dump_database(dump, vendor)
        with tarfile.open(partial, "w:gz") as tar:
            info = tar.gettarinfo(str(dump), arcname=dump.name)
            with open(dump, "rb") as handle:
                digests[dump.name] = _add_member(tar, info, handle)
            for name in store_names():
                info = tarfile.TarInfo(f"{ARTIFACTS_MEMBER}/{name}")
                info.size, info.mtime = storage.size(name), int(timezone.now().timestamp())
                with storage.open(name, "rb") as handle:
                    digests[info.name] = _add_member(tar, info, handle)
            manifest = {
                "format": BACKUP_FORMAT,
                "version": BACKUP_VERSION,
                "created_at": timezone.now().isoformat(),
                "database": {"engine": vendor, "member": dump.name},
                "artifacts_dir": str(settings.ARTIFACTS_DIR),
                "artifacts_store": store_label(),
                "runs": TrainingRun.objects.count(),
                "files": digests,
            }
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size, info.mtime = len(data), int(timezone.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
    os.replace(partial, output)
    files = sum(name.startswith(f"{ARTIFACTS_MEMBER}/") for name in digests)
    return BackupReport(path=output, runs=manifest["runs"], files=files, bytes=output.stat().st_size)


def _add_member(tar: tarfile.TarFile, info: tarfile.TarInfo, handle) -> str:
    """Archive ``handle``'s bytes as ``info``; returns their sha256 (of the very bytes archived)."""
    reader = _Hashing(handle)
    tar.addfile(info, io.BufferedReader(reader, CHUNK))
    return reader.digest.hexdigest()


def _extract_checked(archive: Path, staging: Path) -> dict:
    """Every member into `staging`, hashed on the way; returns the verified manifest or raises BackupError."""
    found: dict[str, str] = {}
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            parts = PurePosixPath(member.name).parts
            if not member.isfile() or member.name.startswith("/") or ".." in parts or not parts:
                raise BackupError(MSG_UNSAFE_MEMBER.format(path=archive, member=member.name))
            target = staging.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with tar.extractfile(member) as source, open(target, "wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            found[member.name] = digest.hexdigest()
    if MANIFEST_NAME not in found:
        raise BackupError(MSG_NOT_A_BACKUP.format(path=archive, manifest=MANIFEST_NAME))
    try:
        manifest = json.loads((staging / MANIFEST_NAME).read_text())
        ok = manifest["format"] == BACKUP_FORMAT and manifest["version"] == BACKUP_VERSION
        listed = dict(manifest["files"])
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise BackupError(MSG_BAD_FORMAT.format(path=archive, format=BACKUP_FORMAT, version=BACKUP_VERSION))
    del found[MANIFEST_NAME]
    for name, expected in sorted(listed.items()):
        if name not in found:
            raise BackupError(MSG_MISSING_MEMBER.format(path=archive, member=name))
        if found[name] != expected:
            raise BackupError(
                MSG_DIGEST_MISMATCH.format(path=archive, member=name, expected=expected, found=found[name])
            )
    for name in sorted(set(found) - set(listed)):
        raise BackupError(MSG_UNLISTED_MEMBER.format(path=archive, member=name))
    return manifest


def backup_restore(*, archive: Path) -> RestoreReport:
    """Check `archive` whole, then replace the database and the artifact store's objects with its contents (see the
    module docstring). Run paths that pointed into the backup's ARTIFACTS_DIR are moved to this installation's."""
    archive, vendor = Path(archive), _vendor()
    artifacts = Path(settings.ARTIFACTS_DIR)
    artifacts.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=artifacts.parent))  # same disk: a rename, no copy
    previous, left = None, 0
    try:
        manifest = _extract_checked(archive, staging)
        if manifest["database"]["engine"] != vendor:
            raise BackupError(
                MSG_ENGINE_MISMATCH.format(path=archive, backup=manifest["database"]["engine"], current=vendor)
            )
        prefix = f"{ARTIFACTS_MEMBER}/"
        objects = {name[len(prefix) :]: digest for name, digest in manifest["files"].items() if name.startswith(prefix)}
        if not store_is_local():
            left = _objects_into_store(archive=archive, source=staging / ARTIFACTS_MEMBER, objects=objects)
        _load_database(staging / manifest["database"]["member"], vendor)
        if store_is_local():
            if artifacts.exists():
                stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
                previous = artifacts.with_name(f"{artifacts.name}.before-restore-{stamp}")
                artifacts.rename(previous)
            restored = staging / ARTIFACTS_MEMBER
            restored.rename(artifacts) if restored.is_dir() else artifacts.mkdir()
        _rebase_artifact_paths(old=manifest.get("artifacts_dir", ""), new=str(artifacts))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreReport(
        path=archive,
        runs=TrainingRun.objects.count(),
        files=len(objects),
        previous_artifacts=previous,
        store=store_label(),
        left_in_store=left,
    )


def _objects_into_store(*, archive: Path, source: Path, objects: dict[str, str]) -> int:
    """Write every archived object into the (object) store by its name, then read each back with its digest
    (else BackupError naming them). Returns how many objects the store holds that the archive does not."""
    storage = artifact_storage()
    before = set(store_names())
    for name in sorted(objects):
        with open(source / name, "rb") as handle:
            storage.save(name, File(handle, name=PurePosixPath(name).name))
    wrong = [name for name, digest in sorted(objects.items()) if stored_digest(name) != digest]
    if wrong:
        more = f" and {len(wrong) - NAMES_SHOWN} more" if len(wrong) > NAMES_SHOWN else ""
        raise BackupError(
            MSG_STORE_UNREADABLE.format(
                path=archive, count=len(wrong), store=store_label(), names=", ".join(wrong[:NAMES_SHOWN]) + more
            )
        )
    return len(before - set(objects))


def _rebase_artifact_paths(*, old: str, new: str) -> None:
    if not old or old == new:
        return
    for pk, path in TrainingRun.objects.filter(artifacts_path__startswith=old).values_list("pk", "artifacts_path"):
        TrainingRun.objects.filter(pk=pk).update(artifacts_path=new + path[len(old) :])
