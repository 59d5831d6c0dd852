"""Reading a stored file's digest: a missing file is None at once; a read that fails for another reason (a dropped
connection) is tried again, so one failed read does not make a finished part look lost."""

import hashlib

import pytest

from training import artifact_store
from training.artifact_store import LocalArtifactStorage, store_missing, stored_digest


class DropsTheFirstReads(LocalArtifactStorage):
    """The local store whose first ``failures`` opens fail the way a busy network store's do."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures, self.opens = failures, 0

    def open(self, name, mode="rb"):
        self.opens += 1
        if self.opens <= self.failures:
            raise ConnectionResetError("connection reset by peer")
        return super().open(name, mode)


@pytest.fixture
def stored(settings, tmp_path, monkeypatch):
    settings.ARTIFACTS_DIR = str(tmp_path)
    (tmp_path / "runs" / "1-x").mkdir(parents=True)
    (tmp_path / "runs" / "1-x" / "model.txt").write_bytes(b"trees")
    monkeypatch.setattr(artifact_store, "READ_RETRY_SECONDS", 0.0)

    def use(storage):
        monkeypatch.setattr(artifact_store, "artifact_storage", lambda: storage)
        return storage

    return use


def test_a_read_that_fails_once_is_tried_again_and_the_file_is_not_missing(stored):
    storage = stored(DropsTheFirstReads(failures=artifact_store.READ_TRIES - 1))
    assert stored_digest("runs/1-x/model.txt") == hashlib.sha256(b"trees").hexdigest()
    assert storage.opens == artifact_store.READ_TRIES
    storage.opens = 0
    assert store_missing(key="runs/1-x", files={"model.txt": hashlib.sha256(b"trees").hexdigest()}) == []


def test_a_store_that_keeps_failing_reads_as_missing_and_a_missing_file_is_not_retried(stored):
    storage = stored(DropsTheFirstReads(failures=artifact_store.READ_TRIES))
    assert stored_digest("runs/1-x/model.txt") is None
    assert storage.opens == artifact_store.READ_TRIES
    storage = stored(DropsTheFirstReads(failures=0))
    assert stored_digest("runs/1-x/gone.txt") is None
    assert storage.opens == 1
