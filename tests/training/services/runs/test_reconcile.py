"""Re-queueing interrupted runs and the reconciler, against a real Redis of the test's own (with no worker, so
published messages stay in the queue, or with one idle worker on the default queue) and the real database."""

import json
import os
import subprocess
from datetime import timedelta

import pytest
import redis
from billiard.exceptions import WorkerLostError
from django.utils import timezone

from ares_site.embedded_redis import free_port
from tests.conftest import CeleryWorker, celery_app_using, own_broker
from training.models import RunPart, TrainingRun
from training.services.runs import (
    MSG_GAVE_UP,
    MSG_REQUEUED,
    REASON_POOL_DIED,
    REASON_SHUTDOWN,
    training_run_claim,
    training_run_create,
    training_run_mark_failed,
    training_run_requeue_or_fail,
    training_runs_reconcile,
)
from training.services.runs.reconcile import inline_worker_name

Status = TrainingRun.Status
# The passes here are the test's own: the session worker's reconciler (same database) is paused meanwhile.
pytestmark = pytest.mark.usefixtures("sole_reconciler")


def queued_ids(client) -> list[str]:
    return [json.loads(raw)["headers"]["id"] for raw in client.lrange("training", 0, -1)]


def running_run(profile, dataset, *, worker="ares-gone@nowhere", attempts=1, heartbeat_age=0.0) -> TrainingRun:
    run = training_run_create(
        profile=profile, symbol=dataset.symbol, interval=dataset.interval, preset="smoke", enqueue=False
    )
    assert training_run_claim(run_id=run.pk, task_id=f"task-{run.pk}", worker=worker)
    TrainingRun.objects.filter(pk=run.pk).update(
        attempts=attempts, heartbeat_at=timezone.now() - timedelta(seconds=heartbeat_age)
    )
    return TrainingRun.objects.get(pk=run.pk)


def test_requeue_puts_a_running_run_back_in_the_queue_with_a_new_message(profile, dataset, test_broker):
    run = running_run(profile, dataset)
    assert training_run_requeue_or_fail(run_id=run.pk, task_id=run.celery_task_id, reason=REASON_SHUTDOWN) == "queued"
    run.refresh_from_db()
    message = MSG_REQUEUED.format(reason=REASON_SHUTDOWN, attempt=2, total=3)
    assert message == "the worker was shut down while training; re-queued, attempt 2 of 3"
    assert (run.status, run.attempts, run.stage, run.worker, run.heartbeat_at) == ("queued", 2, message, "", None)
    assert message in run.log and run.error == ""
    assert queued_ids(test_broker) == [run.celery_task_id] and run.celery_task_id != f"task-{run.pk}"
    # the same interruption reported twice (the pool process, then Celery's failure handler) counts once
    assert training_run_requeue_or_fail(run_id=run.pk, task_id=f"task-{run.pk}", reason=REASON_SHUTDOWN) is None
    assert TrainingRun.objects.get(pk=run.pk).attempts == 2


def test_requeue_after_the_last_attempt_fails_the_run(profile, dataset, test_broker):
    run = running_run(profile, dataset, attempts=3)
    assert training_run_requeue_or_fail(run_id=run.pk, task_id=run.celery_task_id, reason=REASON_POOL_DIED) == "failed"
    run.refresh_from_db()
    assert run.status == Status.FAILED and run.finished_at
    assert run.error == MSG_GAVE_UP.format(reason=REASON_POOL_DIED, total=3)
    assert queued_ids(test_broker) == []


def test_a_lost_pool_process_requeues_and_an_escaped_error_fails(profile, dataset, test_broker):
    lost, broken = running_run(profile, dataset), running_run(profile, dataset)
    assert training_run_mark_failed(run_id=lost.pk, task_id=lost.celery_task_id, exception=WorkerLostError("gone"))
    assert training_run_mark_failed(run_id=broken.pk, task_id=broken.celery_task_id, exception=ValueError("bad"))
    lost.refresh_from_db(), broken.refresh_from_db()
    assert (lost.status, lost.attempts) == (Status.QUEUED, 2)
    assert (broken.status, broken.attempts, broken.error) == (Status.FAILED, 1, "ValueError: bad")


def test_reconcile_republishes_a_queued_run_that_no_worker_holds_while_one_is_idle(
    profile, dataset, transactional_db, celery_worker_settings, tmp_path, settings
):
    """Decided from the database and the workers' replies: an idle worker (this one takes only the default queue, so
    it stays idle and the training message stays where the test can read it) holds neither run's message."""
    settings.TRAINING_REQUEUE_GRACE_SECONDS = 60
    lost = training_run_create(profile=profile, symbol="BTCUSDT", preset="smoke", enqueue=False)
    recent = training_run_create(profile=profile, symbol="BTCUSDT", preset="smoke", enqueue=False)
    TrainingRun.objects.filter(pk=lost.pk).update(queued_at=timezone.now() - timedelta(seconds=61))
    with own_broker(tmp_path) as url:
        worker = CeleryWorker(
            **{**celery_worker_settings, "redis_url": url},
            log_path=tmp_path / "idle.log",
            queues="default",
            extra_env={"TRAINING_REQUEUE_GRACE_SECONDS": "3600"},  # its own reconciler leaves the run to this test
        ).start()
        try:
            report = training_runs_reconcile()
            assert report.republished == [lost.pk], worker.log_tail()
            client = redis.Redis.from_url(url)
            assert queued_ids(client) == [lost.celery_task_id]
            assert training_runs_reconcile().republished == []  # published again just now: within its grace
            assert queued_ids(client) == [lost.celery_task_id]
        finally:
            worker.stop()
    assert TrainingRun.objects.get(pk=recent.pk).status == Status.QUEUED


def test_reconcile_republishes_nothing_while_no_worker_is_idle(profile, dataset, test_broker, settings):
    """No worker answers (none idle): a run queued long ago may just be waiting in the queue; it is left alone."""
    settings.TRAINING_REQUEUE_GRACE_SECONDS = 60
    waiting = training_run_create(profile=profile, symbol="BTCUSDT", preset="smoke", enqueue=False)
    TrainingRun.objects.filter(pk=waiting.pk).update(queued_at=timezone.now() - timedelta(seconds=61))
    assert training_runs_reconcile().republished == []
    assert queued_ids(test_broker) == []


def test_reconcile_requeues_a_silent_run_only_when_its_worker_is_gone(profile, dataset, test_broker, settings):
    settings.TRAINING_STALE_AFTER_SECONDS = 30
    gone = running_run(profile, dataset, heartbeat_age=31)
    fresh = running_run(profile, dataset, heartbeat_age=5)
    report = training_runs_reconcile()
    assert report.requeued == [gone.pk]
    gone.refresh_from_db(), fresh.refresh_from_db()
    assert gone.status == Status.QUEUED and "ares-gone@nowhere stopped answering" in gone.stage
    assert fresh.status == Status.RUNNING


def test_reconcile_touches_nothing_when_the_workers_cannot_be_asked(profile, dataset, test_broker, settings):
    settings.TRAINING_STALE_AFTER_SECONDS = 30
    settings.TRAINING_REQUEUE_GRACE_SECONDS = 0
    silent = running_run(profile, dataset, heartbeat_age=300)
    with celery_app_using(f"redis://127.0.0.1:{free_port()}/0"):
        report = training_runs_reconcile()
    assert not report and TrainingRun.objects.get(pk=silent.pk).status == Status.RUNNING


def test_reconcile_at_worker_start_requeues_the_runs_its_node_held(profile, dataset, test_broker):
    mine = running_run(profile, dataset, worker="ares-local-1@host")
    other = running_run(profile, dataset, worker="ares-local-2@host")
    report = training_runs_reconcile(own_node="ares-local-1@host", own_started_at=timezone.now())
    assert report.requeued == [mine.pk]
    mine.refresh_from_db()
    assert mine.stage == "the worker ares-local-1@host was restarted while training; re-queued, attempt 2 of 3"
    assert TrainingRun.objects.get(pk=other.pk).status == Status.RUNNING


def test_reconcile_asks_the_os_about_an_inline_process_on_this_host(profile, dataset, test_broker, settings):
    settings.TRAINING_STALE_AFTER_SECONDS = 30
    alive = running_run(profile, dataset, worker=inline_worker_name(), heartbeat_age=300)
    dead_pid = subprocess.Popen(["true"])
    dead_pid.wait()
    dead = running_run(profile, dataset, worker=inline_worker_name().replace(f"-{os.getpid()}@", f"-{dead_pid.pid}@"))
    TrainingRun.objects.filter(pk=dead.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=300))
    report = training_runs_reconcile()
    assert report.requeued == [dead.pk] and report.alive == [alive.pk]


def test_parts_of_a_cancelled_run_end_with_it_in_the_reconcilers_pass(
    profile, dataset, test_broker, django_capture_on_commit_callbacks
):
    from training.services.run_parts import MSG_PART_ENDED_WITH_RUN, run_parts_create
    from training.services.runs import training_run_cancel
    from training.services.runs.reconcile import training_runs_reconcile

    with django_capture_on_commit_callbacks(execute=False):
        cancelled, kept = (training_run_create(profile=profile, symbol="BTCUSDT", preset="tiny") for _ in range(2))
    run_parts_create(run=cancelled), run_parts_create(run=kept)
    training_run_cancel(run=cancelled)

    report = training_runs_reconcile()

    ended = RunPart.objects.filter(run=cancelled)
    assert report.parts_ended == ended.count() > 0
    assert {(p.status, p.error) for p in ended} == {
        (RunPart.Status.CANCELLED, MSG_PART_ENDED_WITH_RUN.format(status="cancelled"))
    }
    assert all(p.finished_at for p in ended)
    assert {p.status for p in RunPart.objects.filter(run=kept)} == {RunPart.Status.QUEUED}  # its run still queued


def test_the_reconcile_runs_command_makes_one_pass_and_refuses_a_date_without_offset(profile, dataset, test_broker):
    from io import StringIO

    import pytest
    from django.core.management import CommandError, call_command

    mine = running_run(profile, dataset, worker="ares-local-1@host")
    out = StringIO()
    call_command("reconcile_runs", node="ares-local-1@host", started_at=timezone.now().isoformat(), stdout=out)
    assert f"requeued=[{mine.pk}]" in out.getvalue()
    assert TrainingRun.objects.get(pk=mine.pk).status == Status.QUEUED
    with pytest.raises(CommandError, match="--started-at must be an ISO date and time with its offset"):
        call_command("reconcile_runs", node="ares-local-1@host", started_at="2026-01-01 10:00")
