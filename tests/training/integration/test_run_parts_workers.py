"""One run spread over two real Celery workers (TRAINING_REGIME_TASKS): both train parts of it, and the finished
run equals the same run trained in one process."""

import time

import pytest

from tests.conftest import workers_on_own_broker
from tests.training.runs_helpers import make_dataset, make_profile, metrics_by_model
from training.ml.regime_parts import regimes_of_run
from training.models import RunPart, TrainingRun
from training.services.runs import training_run_cancel, training_run_create, training_run_execute

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
Status = TrainingRun.Status
RUN_TIMEOUT_SECONDS = 600
STALE_SECONDS = 4
WORKER_ENV = {"TRAINING_REGIME_TASKS": "1", "TRAINING_STALE_AFTER_SECONDS": str(STALE_SECONDS)}


@pytest.fixture(scope="module")
def part_workers(celery_worker_settings, tmp_path_factory):
    with workers_on_own_broker(celery_worker_settings, tmp_path_factory.mktemp("parts"), env=WORKER_ENV) as workers:
        yield workers


def wait_for(run_id: int, statuses, workers, timeout: float = RUN_TIMEOUT_SECONDS) -> TrainingRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = TrainingRun.objects.get(pk=run_id)
        if run.status in statuses:
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} still {run.status} ({run.stage})\n" + "\n".join(w.log_tail() for w in workers))


def test_both_workers_train_parts_of_one_run_and_it_equals_the_run_in_one_process(part_workers, fast_monitor):
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    launch = {"profile": profile, "symbol": "BTCUSDT", "preset": "smoke"}
    spread = wait_for(training_run_create(**launch).pk, TrainingRun.TERMINAL, part_workers)
    assert spread.status == Status.SUCCEEDED, (spread.error, spread.traceback, spread.log[-3000:])
    workers = {section["worker"] for section in spread.result["ensembles"].values()}
    assert workers == {w.node_name for w in part_workers}, spread.log[-3000:]
    assert {p.worker for p in RunPart.objects.filter(run=spread)} == workers
    timings = spread.result["timings"]
    assert 0 < timings["wall_seconds"] and 0 < timings["fit_seconds_total"]

    fast_monitor.TRAINING_REGIME_TASKS = True
    alone = training_run_execute(run_id=training_run_create(**launch, enqueue=False).pk, worker="inline-one")
    assert alone.status == Status.SUCCEEDED, alone.traceback
    assert {s["worker"] for s in alone.result["ensembles"].values()} == {"inline-one"}
    assert sorted(spread.result["ensembles"]) == sorted(alone.result["ensembles"]) == sorted(regimes_of_run())
    assert metrics_by_model(spread.result) == metrics_by_model(alone.result)


def test_cancelling_a_spread_run_stops_every_part(part_workers):
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset="smoke")
    deadline = time.monotonic() + 120
    while RunPart.objects.filter(run_id=run.pk, status=RunPart.Status.RUNNING).count() < 2:
        assert time.monotonic() < deadline, "two parts never trained at once"
        time.sleep(0.2)
    training_run_cancel(run=TrainingRun.objects.get(pk=run.pk))
    run = wait_for(run.pk, TrainingRun.TERMINAL, part_workers, timeout=120)
    assert run.status == Status.CANCELLED, (run.status, run.error)
    deadline = time.monotonic() + 60
    while RunPart.objects.filter(run=run, status=RunPart.Status.RUNNING).exists():
        assert time.monotonic() < deadline, list(RunPart.objects.filter(run=run).values("regime", "status"))
        time.sleep(0.3)


@pytest.mark.fault
def test_a_part_whose_worker_dies_is_queued_again_and_the_run_still_succeeds(part_workers):
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset="smoke")
    deadline = time.monotonic() + 120
    helper_part = None
    while helper_part is None:
        assert time.monotonic() < deadline, "no worker helped the run"
        owner = TrainingRun.objects.get(pk=run.pk).worker
        helper_part = RunPart.objects.filter(run_id=run.pk, status=RunPart.Status.RUNNING).exclude(worker=owner).first()
        time.sleep(0.1)
    helper = next(w for w in part_workers if w.node_name == helper_part.worker)
    helper.kill()
    run = wait_for(run.pk, TrainingRun.TERMINAL, part_workers)
    assert run.status == Status.SUCCEEDED, (run.error, run.log[-3000:])
    assert f"part {helper_part.regime}: no heartbeat from worker {helper.node_name}" in run.log
    assert run.attempts == 1 and run.result["ensembles"][helper_part.regime]["status"] in ("trained", "skipped")
