"""Backup and restore with a real SQLite database and real run artifacts (runs trained inline, `tiny`), in the local
store and in a real S3-compatible one (SeaweedFS)."""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import tarfile
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.training.integration.s3_server import artifacts_on_s3, seaweed_s3, stored_keys
from tests.training.runs_helpers import make_dataset, make_profile
from training.artifact_store import run_dir, run_local_dir
from training.ml.artifacts import sha256
from training.models import RegularizationProfile, TrainingRun
from training.services.backups import DATABASE_MEMBERS, MSG_DIGEST_MISMATCH, BackupError, backup_create, backup_restore
from training.services.runs import training_run_create, training_run_execute

Status = TrainingRun.Status


@pytest.fixture
def artifacts(settings, tmp_path) -> Path:
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    return settings.ARTIFACTS_DIR


def trained_run(profile) -> TrainingRun:
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset="tiny", enqueue=False)
    done = training_run_execute(run_id=run.pk, task_id=f"t-{run.pk}")
    assert done.status == Status.SUCCEEDED, done.traceback
    return done


def digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


def runs_state() -> list[tuple]:
    return list(TrainingRun.objects.order_by("pk").values_list("pk", "artifacts_key", "status", "artifacts_path"))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_backup_wipe_restore_gives_the_same_runs_and_artifact_digests(artifacts, tmp_path, fast_monitor):
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    run = trained_run(profile)
    before, files = runs_state(), digests(artifacts)
    assert any(name.startswith(f"runs/{run.pk}-{run.artifacts_key}/") and name.endswith(".png") for name in files)

    report = backup_create(output=tmp_path / "backup.tar.gz")
    assert (report.runs, report.files) == (1, len(files))
    TrainingRun.objects.all().delete()
    shutil.rmtree(artifacts)

    restored = backup_restore(archive=report.path)

    assert runs_state() == before and digests(artifacts) == files
    assert restored.runs == 1 and restored.previous_artifacts is None
    assert TrainingRun.objects.get().result == run.result


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_restore_whose_run_ids_are_reused_never_adopts_the_lost_runs_files(artifacts, tmp_path, fast_monitor):
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    backup = backup_create(output=tmp_path / "before.tar.gz")
    lost = trained_run(profile)  # trained after the backup: the restore loses it
    lost_dir = run_dir(lost)
    (lost_dir / "learning_curve_lstm_bull.png").write_bytes(b"a plot only the lost run drew")
    restored = backup_restore(archive=backup.path)
    shutil.copytree(restored.previous_artifacts / "runs", artifacts / "runs", dirs_exist_ok=True)  # left behind

    new = trained_run(RegularizationProfile.objects.get())

    assert new.pk == lost.pk and new.artifacts_key != lost.artifacts_key  # the id came back, the key did not
    new_dir = run_dir(new)
    assert new_dir != lost_dir and lost_dir.is_dir()
    written = sorted(new.result["artifacts"]["files"])
    assert written == sorted(digests(new_dir))  # the manifest lists exactly what this run wrote
    assert "learning_curve_lstm_bull.png" not in written and (lost_dir / "learning_curve_lstm_bull.png").is_file()


def tampered(archive: Path, out: Path, member: str) -> Path:
    """The same archive with one byte of `member` changed (the manifest left as it was)."""
    with tarfile.open(archive) as source, tarfile.open(out, "w:gz") as target:
        for info in source:
            data = source.extractfile(info).read()
            if info.name == member:
                data = bytes([data[0] ^ 1]) + data[1:]
            target.addfile(info, io.BytesIO(data))
    return out


@pytest.mark.django_db(transaction=True)
def test_a_digest_mismatch_is_refused_and_restores_nothing(artifacts, tmp_path):
    make_profile("baseline", is_default=True)
    (artifacts / "runs" / "1-x").mkdir(parents=True)
    (artifacts / "runs" / "1-x" / "model.txt").write_text("the model")
    archive = backup_create(output=tmp_path / "good.tar.gz").path
    assert gzip.open(archive).read(2)  # a real gzip file
    make_profile("made later")
    (artifacts / "runs" / "1-x" / "model.txt").write_text("changed later")

    from django.db import connection

    for member in ("artifacts/runs/1-x/model.txt", DATABASE_MEMBERS[connection.vendor]):  # SQLite file or pg_dump
        bad = tampered(archive, tmp_path / f"bad-{member.replace('/', '_')}.tar.gz", member)
        with pytest.raises(BackupError) as refused:
            backup_restore(archive=bad)
        assert str(refused.value).startswith(
            MSG_DIGEST_MISMATCH.format(path=bad, member=member, expected="§", found="§").split("§")[0]
        )
        assert set(RegularizationProfile.objects.values_list("name", flat=True)) == {"baseline", "made later"}
        assert (artifacts / "runs" / "1-x" / "model.txt").read_text() == "changed later"

    call_command("restore", str(archive))  # the untouched archive restores
    assert list(RegularizationProfile.objects.values_list("name", flat=True)) == ["baseline"]
    assert (artifacts / "runs" / "1-x" / "model.txt").read_text() == "the model"


def stored_digests(store: dict) -> dict[str, str]:
    """{key under the store's prefix: sha256} of every object, read with the S3 client itself."""
    client, bucket, prefix = store["client"], store["bucket"], store["prefix"]
    return {
        key: hashlib.sha256(client.get_object(Bucket=bucket, Key=f"{prefix}/{key}")["Body"].read()).hexdigest()
        for key in stored_keys(store, prefix)
    }


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_s3_stores_objects_are_backed_up_and_restored_into_the_store_with_their_digests(
    settings, tmp_path, fast_monitor
):
    with seaweed_s3(tmp_path / "seaweedfs") as server, artifacts_on_s3(server, settings, tmp_path / "host") as store:
        profile, _ = make_profile("baseline", is_default=True), make_dataset()
        run = trained_run(profile)
        before, objects = runs_state(), stored_digests(store)
        key = f"runs/{run.pk}-{run.artifacts_key}"
        assert f"{key}/manifest.json" in objects and any(k.endswith(".png") for k in objects)
        assert not list((tmp_path / "host" / "runs").rglob("*.png"))  # the objects are only in the store

        call_command("backup", output=str(tmp_path / "backup.tar.gz"))
        with tarfile.open(tmp_path / "backup.tar.gz") as tar:
            archived = {m.name for m in tar.getmembers() if m.name.startswith("artifacts/")}
        assert archived == {f"artifacts/{k}" for k in objects}
        TrainingRun.objects.all().delete()
        for name in objects:
            store["client"].delete_object(Bucket=store["bucket"], Key=f"{store['prefix']}/{name}")
        assert stored_digests(store) == {}
        stranger = "runs/999-not-in-the-archive/model.txt"  # written after the backup: left where it is
        store["client"].put_object(Bucket=store["bucket"], Key=f"{store['prefix']}/{stranger}", Body=b"later")

        restored = backup_restore(archive=tmp_path / "backup.tar.gz")

        assert runs_state() == before
        assert stored_digests(store) == {**objects, stranger: hashlib.sha256(b"later").hexdigest()}
        assert (restored.files, restored.left_in_store, restored.previous_artifacts) == (len(objects), 1, None)
        assert store["env"]["ARTIFACTS_URL"] in restored.as_text()
        shutil.rmtree(settings.ARTIFACTS_CACHE_DIR, ignore_errors=True)
        files = run_local_dir(TrainingRun.objects.get())  # read through the store, each file with its digest
        assert files.directory is not None and files.unreadable == []
