"""Past one machine (issue 27): two workers in process trees of their own, each with its own local folders, share one
real S3-compatible store (SeaweedFS) and one run; the first host's web side reads every plot, the zip and a
prediction through the store. A part file lost before the finish fails the run naming it; a missing model makes
predict answer JSON 409 naming the regime and its worker; a worker with unapplied migrations or a clock 10
minutes off refuses to start, and so does one whose app version is not the one the web serves. The second host
dying whole (SIGKILL of its process group) while it trains a part: the part is queued again and the first host
trains it, the parts already finished are kept."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import zipfile
from contextlib import contextmanager

import psutil
import pytest
from django.urls import reverse

from ares_site.app_version import app_code_version
from tests.conftest import REPO_ROOT, CeleryWorker, own_broker
from tests.training.api.conftest import api_user, client_for
from tests.training.integration.s3_server import artifacts_on_s3, seaweed_s3, stored_keys
from tests.training.runs_helpers import make_dataset, make_profile, make_user
from training.artifact_store import run_local_dir, store_missing
from training.ml.predict import clear_cache
from training.ml.regime_parts import regimes_of_run
from training.models import PredictionLog, RunPart, TrainingRun, WebVersion
from training.services import run_parts
from training.services.registry import model_promote
from training.services.run_parts import MSG_PART_REQUEUED
from training.services.runs import training_run_create, training_run_execute
from training.services.worker_checks import EXIT_REFUSED, MSG_NO_WEB_VERSION

pytestmark = [pytest.mark.integration, pytest.mark.slow]
Status = TrainingRun.Status
PRESET = "tiny"
RUN_TIMEOUT_SECONDS = 600
MARKET = ("BINANCE", "BTCUSDT", "1h")
FORCE = {"force": True, "reason": "a tiny run, promoted to read a prediction through the store"}


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with seaweed_s3(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture
def store(s3, settings, tmp_path):
    """This (web) process on the S3 store under a prefix of its own, with its own working folder and cache."""
    with artifacts_on_s3(s3, settings, tmp_path / "host-a") as server:
        yield server


def stored_bytes(store: dict, key: str) -> bytes:
    return store["client"].get_object(Bucket=store["bucket"], Key=f"{store['prefix']}/{key}")["Body"].read()


@contextmanager
def two_hosts(store: dict, celery_worker_settings: dict, tmp_path, folders: dict, env: dict | None = None):
    """A worker per host (``folders``: host -> its own ARTIFACTS_DIR), each in a process tree of its own, all on the
    store and on a broker of their own; every worker is stopped on exit."""
    env = {**store["env"], "TRAINING_REGIME_TASKS": "1", **(env or {})}
    with own_broker(tmp_path / "broker") as url:
        workers = []
        try:
            for host, folder in folders.items():
                worker = CeleryWorker(
                    **{**celery_worker_settings, "redis_url": url, "artifacts_dir": str(folder)},
                    log_path=tmp_path / f"worker-{host}.log",
                    queues="default,training",
                    extra_env=env,
                )
                workers.append(worker.start())
            yield workers
        finally:
            for worker in workers:
                worker.stop()


def wait_for(run_id: int, workers, timeout: float = RUN_TIMEOUT_SECONDS) -> TrainingRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = TrainingRun.objects.get(pk=run_id)
        if run.status in TrainingRun.TERMINAL:
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} still {run.status} ({run.stage})\n" + "\n".join(w.log_tail() for w in workers))


@pytest.mark.django_db(transaction=True)
def test_a_run_spread_over_two_hosts_is_read_whole_through_the_first_hosts_web(
    store, celery_worker_settings, tmp_path, settings
):
    folders = {"a": settings.ARTIFACTS_DIR, "b": tmp_path / "host-b"}
    with two_hosts(store, celery_worker_settings, tmp_path, folders) as workers:
        profile, _ = make_profile("baseline", is_default=True), make_dataset()
        run = wait_for(training_run_create(profile=profile, symbol="BTCUSDT", preset=PRESET).pk, workers)
    assert run.status == Status.SUCCEEDED, (run.error, run.log[-3000:])
    assert run.snapshot["regime_tasks"] is True
    writers = {regime: section["worker"] for regime, section in run.result["ensembles"].items()}
    assert set(writers.values()) == {w.node_name for w in workers}, run.log[-3000:]  # both hosts trained parts

    key = f"runs/{run.pk}-{run.artifacts_key}"
    assert run.artifacts_path == key == run.result["artifacts"]["path"]  # a key, never a host path
    manifest = json.loads(stored_bytes(store, f"{key}/manifest.json"))
    assert manifest["workers"] == writers
    assert stored_keys(store, f"{store['prefix']}/{key}") == sorted([*manifest["files"], "manifest.json"])  # no parts/
    for folder in folders.values():  # each host's working copy went into the store and was removed
        assert not [p for p in (folder / "runs").rglob("*") if p.is_file()], folder

    viewer = make_user("viewer", can_launch=False)
    from django.test import Client

    web = Client()
    web.force_login(viewer)
    page = web.get(reverse("training:run_detail", args=[run.pk]))
    assert page.status_code == 200 and b"Files that cannot be read" not in page.content
    plots = run.result["plots"]
    assert plots and all(name.encode() in page.content for name in plots)
    for name in plots:
        response = web.get(reverse("training:run_file", args=[run.pk, name]))
        assert response.status_code == 200, name
        assert b"".join(response.streaming_content) == stored_bytes(store, f"{key}/{name}"), name
    archive = web.get(reverse("training:run_artifacts_zip", args=[run.pk]))
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        assert sorted(zipped.namelist()) == sorted([*manifest["files"], "manifest.json"])
        assert zipped.read("manifest.json") == stored_bytes(store, f"{key}/manifest.json")

    model_promote(run=run, **FORCE)  # loads every regime's models through the store first
    api = client_for(api_user("api-viewer-27", "view"))
    predict_url = reverse("api:model-predict", args=list(MARKET))
    answer = api.post(predict_url, {}, format="json")
    assert answer.status_code == 200, answer.content
    regime = answer.json()["regime"]
    assert answer.json()["run_id"] == run.pk and regime in writers

    # a new host (empty cache, fresh process state) while that regime's ensemble is gone from the store
    store["client"].delete_object(Bucket=store["bucket"], Key=f"{store['prefix']}/{key}/{regime}/ensemble.json")
    shutil.rmtree(settings.ARTIFACTS_CACHE_DIR)
    clear_cache()
    PredictionLog.objects.all().delete()
    missing = api.post(predict_url, {}, format="json")
    assert missing.status_code == 409 and missing["Content-Type"] == "application/json", missing.content
    body = missing.json()
    assert (body["regime"], body["worker"]) == (regime, writers[regime])
    assert f"regime '{regime}'" in body["detail"] and writers[regime] in body["detail"]
    page = web.get(reverse("training:run_detail", args=[run.pk]))
    assert b"Files that cannot be read" in page.content and f"{regime}/ensemble.json".encode() in page.content


@pytest.mark.django_db(transaction=True)
def test_a_part_file_deleted_from_the_store_before_the_finish_fails_the_run_naming_it(store, fast_monitor, monkeypatch):
    fast_monitor.TRAINING_REGIME_TASKS = True
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset=PRESET, enqueue=False)
    real_work, lost = run_parts.run_parts_work, {}

    def work_then_lose_a_file(**kwargs):
        done = real_work(**kwargs)
        part = RunPart.objects.filter(run=kwargs["run"], status=RunPart.Status.SUCCEEDED).order_by("regime").first()
        name = next(n for n in sorted(part.files) if n.endswith("ensemble.json"))
        lost.update(regime=part.regime, name=name)
        key = f"{store['prefix']}/runs/{run.pk}-{run.artifacts_key}/parts/{part.regime}/{name}"
        store["client"].delete_object(Bucket=store["bucket"], Key=key)
        return done

    monkeypatch.setattr(run_parts, "run_parts_work", work_then_lose_a_file)
    run = training_run_execute(run_id=run.pk, worker="inline-host-b")
    assert run.status == Status.FAILED, run.error
    assert f"parts/{lost['regime']}/{lost['name']} (written by worker inline-host-b)" in run.error
    assert "Files missing from the artifact store" in run.error and store["env"]["ARTIFACTS_URL"] in run.error


CLOCK_OFF = textwrap.dedent(
    """
    import time as _time
    _real_time = _time.time
    _time.time = lambda: _real_time() + 600.0  # this host's clock runs 10 minutes ahead
    """
)


@pytest.mark.django_db(transaction=True)
def test_a_worker_with_unapplied_migrations_or_a_clock_10_minutes_off_refuses_to_start(
    celery_worker_settings, tmp_path
):
    empty = tmp_path / "never-migrated.sqlite3"
    clock = tmp_path / "clock"
    clock.mkdir()
    (clock / "sitecustomize.py").write_text(CLOCK_OFF)
    cases = {
        "migrations": ({"database_url": f"sqlite:///{empty}"}, {}, "the database lacks migrations this code needs"),
        "clock": ({}, {"PYTHONPATH": str(clock)}, "this host's clock differs from the database's by +600"),
    }
    with own_broker(tmp_path / "broker") as url:
        for name, (settings_override, env, reason) in cases.items():
            worker = CeleryWorker(
                **{**celery_worker_settings, "redis_url": url, **settings_override},
                log_path=tmp_path / f"worker-{name}.log",
                queues="default,training",
                extra_env=env,
            )
            with pytest.raises(RuntimeError) as refused:
                worker.start()
            assert f"exited with code {EXIT_REFUSED}" in str(refused.value), (name, str(refused.value)[-2000:])
            assert "refuses to start" in str(refused.value) and reason in str(refused.value), name


def part_rows(run_id: int) -> dict[str, dict]:
    fields = ("regime", "status", "worker", "attempts", "started_at", "finished_at", "files", "id", "token")
    return {row["regime"]: row for row in RunPart.objects.filter(run_id=run_id).values(*fields)}


def host_pids(worker: CeleryWorker) -> list[int]:
    """The worker's whole process tree on its host: main, pool and reconciler."""
    return [worker.pid, *worker.pool_pids(), *worker.reconciler_pids()]


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.fault
@pytest.mark.django_db(transaction=True)
def test_a_sigkilled_remote_workers_part_is_queued_again_and_finished_parts_are_kept(
    store, celery_worker_settings, tmp_path, settings
):
    """Host A's run task takes the first regime, made to train for a while (LightGBM with many trials instead of
    the tiny preset's logistic regression), so host B trains the next parts: one finishes on B, and B dies whole
    while it trains the one after."""
    folders = {"1": settings.ARTIFACTS_DIR, "2": tmp_path / "host-2"}  # which host owns the run is the queue's choice
    first, *others = regimes_of_run()
    overrides = {
        "ensembles": {first: ["lightgbm"], **{regime: ["logreg"] for regime in others}},
        "models": {"lightgbm": {"n_trials": 60, "early_stopping": False}},
    }
    with two_hosts(store, celery_worker_settings, tmp_path, folders) as workers:
        profile, _ = make_profile("baseline", is_default=True), make_dataset()
        run = training_run_create(profile=profile, symbol="BTCUSDT", preset=PRESET, preset_overrides=overrides)
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while True:
            owner = TrainingRun.objects.get(pk=run.pk).worker
            rows = part_rows(run.pk)
            on_b = {r["status"] for r in rows.values() if owner and r["worker"] and r["worker"] != owner}
            if {RunPart.Status.SUCCEEDED, RunPart.Status.RUNNING} <= on_b:
                break
            assert (
                time.monotonic() < deadline and TrainingRun.objects.get(pk=run.pk).status not in TrainingRun.TERMINAL
            ), (
                rows,
                *(w.log_tail() for w in workers),
            )
            time.sleep(0.1)
        host_a = next(w for w in workers if w.node_name == owner)
        host_b = next(w for w in workers if w is not host_a)
        pids = host_pids(host_b)
        os.killpg(host_b.pid, signal.SIGKILL)  # the host dies: its main process, its pool and its reconciler
        before = part_rows(run.pk)
        killed = next(
            r for r, row in before.items() if row["status"] == RunPart.Status.RUNNING and row["worker"] != owner
        )
        finished = {r: row for r, row in before.items() if row["status"] == RunPart.Status.SUCCEEDED}
        shutil.rmtree(host_b.artifacts_dir)  # and its local folders with it
        run = wait_for(run.pk, [host_a])
        host_b.stop()
        assert all(gone(pid) for pid in pids), [(pid, gone(pid)) for pid in pids]
    assert run.status == Status.SUCCEEDED, (run.error, run.log[-3000:])
    assert len(pids) == 3 and before[killed]["worker"] == host_b.node_name
    assert any(row["worker"] == host_b.node_name for row in finished.values()), before  # B had finished a part

    after = part_rows(run.pk)
    seen = (
        before,
        after,
        run.attempts,
        run.log[-6000:],
        *(p.read_text()[-6000:] for p in tmp_path.glob("worker-*.log")),
    )
    assert {row["status"] for row in after.values()} == {RunPart.Status.SUCCEEDED}, seen
    for regime, row in finished.items():  # not trained again: the same row, worker, attempt and finish time
        assert (after[regime]["worker"], after[regime]["attempts"]) == (row["worker"], 1), (regime, seen)
        assert after[regime]["finished_at"] == row["finished_at"] and after[regime]["files"] == row["files"]
    again = after[killed]
    assert (again["worker"], again["attempts"]) == (host_a.node_name, 2)
    assert again["started_at"] > before[killed]["started_at"] and again["finished_at"] > max(
        row["finished_at"] for row in finished.values()
    )
    assert all(after[r]["attempts"] == 1 for r in after if r != killed), after
    requeued = MSG_PART_REQUEUED.split(" for more than")[0].format(regime=killed, worker=host_b.node_name)
    assert requeued in run.log, run.log[-3000:]
    assert run.attempts == 1 and run.worker == host_a.node_name  # the run itself was never lost
    ensembles = run.result["ensembles"]
    assert ensembles[first]["status"] == "trained"
    assert {r: s["worker"] for r, s in ensembles.items()} == {r: row["worker"] for r, row in after.items()}

    key = f"runs/{run.pk}-{run.artifacts_key}"
    manifest = json.loads(stored_bytes(store, f"{key}/manifest.json"))
    assert manifest["workers"][killed] == host_a.node_name
    assert store_missing(key=key, files=manifest["files"]) == []  # every file reads back with its digest
    assert stored_keys(store, f"{store['prefix']}/{key}") == sorted([*manifest["files"], "manifest.json"])
    shutil.rmtree(settings.ARTIFACTS_CACHE_DIR, ignore_errors=True)
    files = run_local_dir(run)
    assert files.directory is not None and files.unreadable == [], files.unreadable
    for name in manifest["files"]:
        assert (files.directory / name).read_bytes() == stored_bytes(store, f"{key}/{name}"), name


def web_starts(database_url: str) -> None:
    """A web process starts on the test database (what gunicorn does: import ``ares_site.wsgi``) and exits."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ares_site.test_settings", "DATABASE_URL": database_url}
    env.pop("APP_VERSION", None)
    done = subprocess.run(
        [sys.executable, "-c", "import ares_site.wsgi"], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.django_db(transaction=True)
def test_a_worker_refuses_to_start_when_its_app_version_is_not_the_one_the_web_serves(celery_worker_settings, tmp_path):
    code = app_code_version()
    with own_broker(tmp_path / "broker") as url:

        def worker(name: str, env: dict | None = None) -> CeleryWorker:
            return CeleryWorker(
                **{**celery_worker_settings, "redis_url": url},
                log_path=tmp_path / f"worker-{name}.log",
                queues="default,training",
                extra_env=env,
            )

        early = worker("before-any-web", {"APP_VERSION": "9.9.9"}).start()  # no web yet: not a refusal
        early.stop()
        assert MSG_NO_WEB_VERSION.split(";")[0].format(worker=early.node_name) in early.log_tail(20000)
        assert not WebVersion.objects.exists()

        web_starts(celery_worker_settings["database_url"])
        web = WebVersion.objects.get()
        assert (web.host, web.version, web.commit or None) == (socket.gethostname(), code["version"], code["commit"])

        other = worker("other-version", {"APP_VERSION": "9.9.9"})
        with pytest.raises(RuntimeError) as refused:
            other.start()
        reason = str(refused.value)
        assert f"exited with code {EXIT_REFUSED}" in reason and "refuses to start" in reason, reason[-2000:]
        assert "this worker runs app version 9.9.9" in reason, reason[-2000:]
        assert f"the web on {web.host} serves {code['version']}" in reason, reason[-2000:]

        same = worker("same-version").start()  # the web's own version starts
        same.stop()
        assert "start checks passed (artifact store, migrations, app version, clock)" in same.log_tail(20000)
