import ast
import json
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from tests.training.runs_helpers import make_dataset, make_profile
from training.marketdata.markets import MSG_NOT_ASCII
from training.ml.regularization import validate_and_report_regularization
from training.models import Candle, ModelResult, TrainingRun
from training.services.runs import (
    MSG_BROKER_UNREACHABLE,
    MSG_DATASET_TOO_SHORT,
    MSG_NO_PROFILE,
    MSG_NOT_CANCELLABLE,
    MSG_SEED_OUT_OF_RANGE,
    TrainingRunEnqueueFailed,
    optuna_storage_url,
    preset_minimum_rows,
    training_run_cancel,
    training_run_claim,
    training_run_create,
    training_run_execute,
    training_run_rerun,
)

Status = TrainingRun.Status


def launch(profile, dataset, **kwargs):
    params = dict(
        profile=profile,
        symbol=dataset.symbol,
        exchange=dataset.exchange,
        interval=dataset.interval,
        preset="smoke",
        enqueue=False,
    )
    params.update(kwargs)
    return training_run_create(**params)


# --- create ---------------------------------------------------------------------------------------
def test_create_stores_queued_run_with_full_snapshot(profile, dataset, launcher):
    run = launch(profile, dataset, user=launcher)
    assert run.status == Status.QUEUED and run.launched_by == launcher
    assert run.attempts == 1 and run.queued_at and run.worker == ""
    snap = run.snapshot
    assert snap["config"] == profile.resolved_config()
    assert snap["profile"]["name"] == "baseline"
    assert snap["preset"]["name"] == "smoke" and isinstance(snap["preset"]["params"], dict)
    assert snap["data"]["fingerprint"] == dataset.fingerprint and snap["data"]["rows"] == dataset.row_count
    assert snap["data"]["last_open_time"] == dataset.last_open_time.isoformat()
    assert snap["seed"] == 42
    assert snap["library_versions"]["lightgbm"] and snap["library_versions"]["django"]
    assert run.report == validate_and_report_regularization(profile.resolved_config())


def test_create_without_profile_uses_the_default(profile, dataset):
    make_profile("other")
    assert launch(None, dataset).profile == profile


def test_create_without_any_profile_is_refused(dataset, db):
    with pytest.raises(ValidationError) as exc:
        launch(None, dataset)
    assert MSG_NO_PROFILE in exc.value.messages
    assert not TrainingRun.objects.exists()


def test_create_refuses_profile_whose_report_has_errors(dataset, db):
    bad = make_profile("no-l1", l1_alpha=0.0)
    report = validate_and_report_regularization(bad.resolved_config())
    assert report["errors"]
    with pytest.raises(ValidationError) as exc:
        launch(bad, dataset)
    text = " ".join(exc.value.messages)
    assert "Profile 'no-l1' cannot be used" in text and report["errors"][0] in text
    assert not TrainingRun.objects.exists()


def test_create_refuses_unknown_symbol_listing_the_datasets(profile, dataset):
    make_dataset("ETHUSDT", rows=10)
    with pytest.raises(ValidationError) as exc:
        launch(profile, dataset, symbol="DOGEUSDT")
    text = " ".join(exc.value.messages)
    assert "DOGEUSDT" in text and "BTCUSDT" in text and "ETHUSDT" in text
    assert not TrainingRun.objects.exists()


def test_create_refuses_a_symbol_that_upper_casing_would_change(profile, dataset):
    make_dataset("STRASSE", rows=10)  # a dataset the upper-cased 'straße' would silently have picked
    with pytest.raises(ValidationError) as exc:
        launch(profile, dataset, symbol="straße")
    assert exc.value.messages == [MSG_NOT_ASCII.format(label="Symbol", given="straße", upper="STRASSE")]
    assert not TrainingRun.objects.exists()


@pytest.mark.parametrize("seed", [-1, 2**32, 99999999999999])
def test_create_refuses_a_seed_outside_the_32_bit_range(profile, dataset, seed):
    with pytest.raises(ValidationError) as exc:
        launch(profile, dataset, seed=seed)
    assert exc.value.messages == [MSG_SEED_OUT_OF_RANGE.format(seed=seed)]
    assert not TrainingRun.objects.exists()


def test_create_accepts_the_largest_seed(profile, dataset):
    run = launch(profile, dataset, seed=2**32 - 1)
    run.refresh_from_db()
    assert run.seed == 2**32 - 1 == run.snapshot["seed"]


def test_create_refuses_a_dataset_too_short_for_the_preset(profile, db):
    need = preset_minimum_rows("smoke")
    assert need["minimum"] == need["warmup"] + need["min_rows"] + need["horizon"]
    short = make_dataset(rows=need["minimum"] - 1)
    with pytest.raises(ValidationError) as exc:
        launch(profile, short)
    expected = MSG_DATASET_TOO_SHORT.format(
        exchange="BINANCE", symbol="BTCUSDT", interval="1h", rows=need["minimum"] - 1, preset="smoke", **need
    )
    assert exc.value.messages == [expected]
    assert not TrainingRun.objects.exists()
    long_enough = make_dataset("ETHUSDT", rows=need["minimum"])
    assert launch(profile, long_enough, symbol="ETHUSDT").status == Status.QUEUED


def test_create_refuses_unknown_preset(profile, dataset):
    with pytest.raises(ValidationError) as exc:
        launch(profile, dataset, preset="huge")
    assert "Unknown preset 'huge'" in " ".join(exc.value.messages)


def test_create_enqueues_on_commit_to_the_training_queue(
    profile, dataset, test_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = launch(profile, dataset, enqueue=True)
        assert test_broker.llen("training") == 0  # nothing before the commit
    assert test_broker.llen("training") == 1
    message = json.loads(test_broker.lindex("training", 0))
    assert message["headers"]["task"] == "training.tasks.training_run_execute_task"
    assert message["headers"]["id"] == run.celery_task_id
    assert list(ast.literal_eval(message["headers"]["argsrepr"])) == [run.pk]
    run.refresh_from_db()
    assert run.status == Status.QUEUED


@pytest.mark.django_db(transaction=True)
def test_create_with_redis_down_stores_failed_run_with_reason(profile, dataset, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    with pytest.raises(TrainingRunEnqueueFailed) as exc:
        launch(profile, dataset, enqueue=True)
    run = exc.value.run
    assert run.status == Status.FAILED
    assert run.error.startswith(MSG_BROKER_UNREACHABLE.split("(")[0])
    assert "unreachable" in str(exc.value)
    assert TrainingRun.objects.get().status == Status.FAILED


def test_snapshot_cannot_be_changed_once_stored(profile, dataset):
    run = launch(profile, dataset)
    run.snapshot = {**run.snapshot, "seed": 1}
    with pytest.raises(ValidationError):
        run.save()
    with pytest.raises(ValidationError):
        TrainingRun.objects.filter(pk=run.pk).update(snapshot={})
    fresh = TrainingRun.objects.defer("snapshot").get(pk=run.pk)
    fresh.snapshot = {}
    with pytest.raises(ValidationError):
        fresh.save()
    run.refresh_from_db()
    assert run.snapshot["seed"] == 42
    run.stage = "still editable"
    run.save()


def test_snapshot_keeps_launch_config_after_profile_edit(profile, dataset):
    run = launch(profile, dataset)
    before = profile.resolved_config()
    profile.l2_alpha = 0.5
    profile.save()
    run.refresh_from_db()
    assert run.snapshot["config"] == before != profile.resolved_config()


# --- cancel, rerun, stale ---------------------------------------------------------------------------
def test_cancel_queued_run_ends_cancelled_at_once(profile, dataset):
    run = training_run_cancel(run=launch(profile, dataset))
    assert run.status == Status.CANCELLED and run.cancel_requested and run.finished_at


def test_cancel_running_run_only_flags_it(profile, dataset):
    run = launch(profile, dataset)
    TrainingRun.objects.filter(pk=run.pk).update(status=Status.RUNNING)
    run = training_run_cancel(run=run)
    assert run.status == Status.RUNNING and run.cancel_requested


def test_cancel_finished_run_is_refused(profile, dataset):
    run = launch(profile, dataset)
    TrainingRun.objects.filter(pk=run.pk).update(status=Status.SUCCEEDED)
    with pytest.raises(ValidationError) as exc:
        training_run_cancel(run=run)
    assert exc.value.messages == [MSG_NOT_CANCELLABLE.format(pk=run.pk, status="succeeded")]


def test_rerun_creates_new_run_with_current_profile_settings(profile, dataset, launcher):
    first = launch(profile, dataset)
    profile.l1_alpha = 0.2
    profile.save()
    second = training_run_rerun(run=first, user=launcher)  # enqueue runs on commit, outside this test's transaction
    assert second.pk != first.pk and second.rerun_of == first and second.status == Status.QUEUED
    assert second.snapshot["config"]["l1_alpha"] == 0.2 and first.snapshot["config"]["l1_alpha"] == 0.01
    assert (second.symbol, second.interval, second.preset, second.seed) == (first.symbol, first.interval, "smoke", 42)


def test_optuna_storage_url_from_database_settings():
    from django.db import connections

    db = connections["default"].settings_dict
    url = optuna_storage_url()
    if db["ENGINE"].endswith("sqlite3"):  # the test database is a file, so the worker and Optuna can open it
        assert url == f"sqlite:///{Path(db['NAME']).resolve()}?timeout=30"
    else:
        assert url.startswith("postgresql+psycopg://") and url.endswith(f"/{db['NAME']}")


def test_optuna_storage_url_for_postgres_and_sqlite_files(monkeypatch):
    from django.db import connections

    conn = connections["default"]
    monkeypatch.setattr(
        conn,
        "settings_dict",
        {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "ares",
            "USER": "bob",
            "PASSWORD": "p@ss",
            "HOST": "db",
            "PORT": 5433,
        },
    )
    assert optuna_storage_url() == "postgresql+psycopg://bob:p%40ss@db:5433/ares"
    monkeypatch.setattr(conn, "settings_dict", {"ENGINE": "django.db.backends.sqlite3", "NAME": "/tmp/x.sqlite3"})
    assert optuna_storage_url() == "sqlite:////tmp/x.sqlite3?timeout=30"
    monkeypatch.setattr(
        conn,
        "settings_dict",
        {"ENGINE": "django.db.backends.sqlite3", "NAME": "/tmp/x.sqlite3", "OPTIONS": {"timeout": 45}},
    )
    assert optuna_storage_url() == "sqlite:////tmp/x.sqlite3?timeout=45"
    monkeypatch.setattr(conn, "settings_dict", {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"})
    assert optuna_storage_url() is None


# --- execute (real TrainingManager; needs committed rows: the heartbeat thread has its own connection) -------
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_execute_claims_trains_and_stores_the_outcome(fast_monitor):
    profile, dataset = make_profile("baseline", is_default=True), make_dataset()
    run = launch(profile, dataset, preset="tiny")
    done = training_run_execute(run_id=run.pk, task_id="t-1")
    assert done.status == Status.SUCCEEDED, done.traceback
    assert done.progress == 1.0 and done.started_at and done.finished_at and done.celery_task_id == "t-1"
    assert done.result["symbol"] == "BTCUSDT" and done.result["regularization"]["config"] == run.snapshot["config"]
    assert done.log and "run #" in done.log
    results = list(ModelResult.objects.filter(run=done))
    trained = {(r, m) for r, e in done.result["ensembles"].items() for m in (e.get("models") or {})}
    assert {(r.regime, r.model) for r in results} == trained and trained
    assert all(r.validation_macro_f1 is not None for r in results)
    assert training_run_execute(run_id=run.pk, task_id="t-2") is None  # never executes twice
    assert TrainingRun.objects.get(pk=run.pk).celery_task_id == "t-1"


@pytest.mark.django_db(transaction=True)
def test_execute_claims_a_run_only_once_under_concurrency(fast_monitor):
    run = launch(make_profile("baseline", is_default=True), make_dataset())
    claims = []
    barrier = threading.Barrier(4)

    def claim():
        from django.db import connection

        barrier.wait()
        claims.append(training_run_claim(run_id=run.pk, task_id="t", worker="w@h"))
        connection.close()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(claims) == [False, False, False, True]
    run.refresh_from_db()
    assert (run.status, run.worker, run.celery_task_id, run.attempts) == (Status.RUNNING, "w@h", "t", 1)


@pytest.mark.django_db(transaction=True)
def test_execute_records_its_own_failure_with_traceback_and_no_retry(fast_monitor):
    dataset = make_dataset()
    run = launch(make_profile("baseline", is_default=True), dataset)
    keep = Candle.objects.filter(dataset=dataset).order_by("open_time").values_list("pk", flat=True)[:5]
    Candle.objects.filter(dataset=dataset).exclude(pk__in=list(keep)).delete()  # the data went bad after launch
    done = training_run_execute(run_id=run.pk, task_id="t")
    assert done.status == Status.FAILED and done.attempts == 1
    assert done.error and "Traceback" in done.traceback and done.finished_at
    assert "failed:" in done.log


@pytest.mark.django_db(transaction=True)
def test_execute_of_cancelled_run_does_nothing(fast_monitor):
    run = launch(make_profile("baseline", is_default=True), make_dataset())
    training_run_cancel(run=run)
    assert training_run_execute(run_id=run.pk, task_id="t") is None
    assert TrainingRun.objects.get(pk=run.pk).status == Status.CANCELLED


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_execute_stops_when_cancel_is_requested(fast_monitor):
    run = launch(make_profile("baseline", is_default=True), make_dataset())

    def cancel_when_running():
        from django.db import connection

        for _ in range(600):
            if TrainingRun.objects.filter(pk=run.pk, status=Status.RUNNING).exists():
                training_run_cancel(run=run)
                break
            threading.Event().wait(0.05)
        connection.close()

    thread = threading.Thread(target=cancel_when_running)
    thread.start()
    done = training_run_execute(run_id=run.pk, task_id="t")
    thread.join()
    assert done.status == Status.CANCELLED, (done.status, done.error)
    assert not ModelResult.objects.filter(run=done).exists()
