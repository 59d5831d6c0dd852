"""A run trained as regime parts (TRAINING_REGIME_TASKS) in one process: the same result as the plain run."""

import pytest

from tests.training.runs_helpers import make_dataset, make_profile, metrics_by_model
from training.artifact_store import run_dir
from training.ml.regime_parts import PARTS_DIR, regimes_of_run
from training.models import RunPart, TrainingRun
from training.services.runs import training_run_create, training_run_execute

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
Status = TrainingRun.Status
WORKER = "inline-parts-test"


def test_a_run_in_regime_parts_equals_the_plain_run_and_records_each_part(fast_monitor):
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    launch = {"profile": profile, "symbol": "BTCUSDT", "preset": "tiny", "enqueue": False}
    plain = training_run_execute(run_id=training_run_create(**launch).pk, worker=WORKER)
    fast_monitor.TRAINING_REGIME_TASKS = True
    parted = training_run_execute(run_id=training_run_create(**launch).pk, worker=WORKER)
    assert plain.status == parted.status == Status.SUCCEEDED, (plain.error, parted.error, parted.traceback)

    assert metrics_by_model(parted.result) == metrics_by_model(plain.result)
    plain_reg, parted_reg = plain.result["regularization"], parted.result["regularization"]
    assert parted_reg["applied_by_regime"] == plain_reg["applied_by_regime"]  # every part's, not the first's
    for key in ("measured_warnings", "warnings"):  # measured on the merged result, as the plain run does
        assert sorted(parted_reg["report"][key]) == sorted(plain_reg["report"][key])
    assert parted_reg["report"]["status"] == plain_reg["report"]["status"]
    assert sorted(parted.result["ensembles"]) == sorted(regimes_of_run())  # jsonb (PostgreSQL) sorts keys
    assert {s["worker"] for s in parted.result["ensembles"].values()} == {WORKER}
    parts = RunPart.objects.filter(run=parted)
    assert sorted(p.regime for p in parts) == sorted(regimes_of_run())
    assert {p.status for p in parts} == {RunPart.Status.SUCCEEDED} and {p.worker for p in parts} == {WORKER}
    timings = parted.result["timings"]
    assert timings["wall_seconds"] > 0 and timings["fit_seconds_total"] > 0
    assert set(timings["stages"]) == {f"part:{r}" for r in regimes_of_run()} | {"finish", "trading", "store"}
    # the same trading record through the same function; N counts the plain run as an earlier trial
    plain_trading, parted_trading = plain.result["trading"], parted.result["trading"]
    for key in ("window", "theta", "after_costs", "before_costs", "verdicts"):
        assert parted_trading[key] == plain_trading[key], key
    assert (plain_trading["deflation"]["n_trials"], parted_trading["deflation"]["n_trials"]) == (1, 2)

    root = run_dir(parted)
    assert not (root / PARTS_DIR).exists() and (root / "manifest.json").is_file()
    for regime, section in parted.result["ensembles"].items():
        assert (root / regime).is_dir() == (section["status"] == "trained")
    assert all((root / name).is_file() for name in parted.result["artifacts"]["files"])


def test_the_runs_own_task_names_the_step_its_part_is_training(fast_monitor):
    from training.selectors.run_inputs import run_candles
    from training.services.run_parts import run_parts_create, run_parts_work

    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset="tiny", enqueue=False)
    run.celery_task_id = "attempt-1"
    run.save(update_fields=["celery_task_id"])
    run_parts_create(run=run)
    events = []
    trained = run_parts_work(
        run=run,
        candles=run_candles(run),
        worker=WORKER,
        should_stop=lambda: False,
        log=lambda message: None,
        progress=lambda *event: events.append(event),
    )
    assert trained == len(regimes_of_run())
    fitting = {message.split(":")[0] for stage, _, message in events if stage == "training" and "fitting" in message}
    trained_regimes = {
        p.regime for p in RunPart.objects.filter(run=run) if p.result["regime"]["section"]["status"] == "trained"
    }
    assert trained_regimes and fitting == trained_regimes


def test_the_bar_moves_inside_each_part_and_never_goes_back(fast_monitor, tmp_path, settings):
    from training.selectors.run_inputs import run_candles
    from training.services.run_parts import training_run_train_in_parts

    settings.ARTIFACTS_DIR = tmp_path
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset="tiny", enqueue=False)
    run.celery_task_id = "attempt-1"
    run.save(update_fields=["celery_task_id"])
    events = []
    training_run_train_in_parts(
        run=run,
        candles=run_candles(run),
        worker="inline-parts-test",
        should_stop=lambda: False,
        log=lambda message: None,
        progress=lambda *event: events.append(event),
    )
    fractions = [fraction for _, fraction, _ in events]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(0.9)
    parts = len(regimes_of_run())
    inside = {round(f, 6) for f in fractions} - {round(0.1 + 0.8 * k / parts, 6) for k in range(parts + 1)}
    assert len(inside) >= parts  # not only the jumps from one finished part to the next
    assert events[-1][2] == f"{parts}/{parts} regime parts done"


def test_a_lost_owner_keeps_the_parts_it_finished_and_the_next_attempt_trains_only_the_rest(fast_monitor, test_broker):
    from django.utils import timezone

    from training.services.run_parts import run_parts_create, training_run_help
    from training.services.runs import run_artifacts_create, training_run_claim
    from training.services.runs.interruptions import REASON_POOL_DIED, training_run_requeue_or_fail

    fast_monitor.TRAINING_REGIME_TASKS = True
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset="tiny", enqueue=False)
    assert training_run_claim(run_id=run.pk, task_id="t-1", worker=WORKER)  # attempt 1, as its task starts it
    run.refresh_from_db()
    run_artifacts_create(run=run)
    parts = run_parts_create(run=run)
    ghost = parts[-1]  # taken by a helper that is gone
    now = timezone.now()
    RunPart.objects.filter(pk=ghost.pk).update(status="running", worker="ghost@gone", started_at=now, heartbeat_at=now)
    assert training_run_help(run_id=run.pk, token="t-1", worker=WORKER) == len(parts) - 1
    finished = {p.pk: p.started_at for p in RunPart.objects.filter(run=run, status=RunPart.Status.SUCCEEDED)}
    assert len(finished) == len(parts) - 1
    assert training_run_requeue_or_fail(run_id=run.pk, task_id="t-1", reason=REASON_POOL_DIED) == "queued"

    retried = training_run_execute(
        run_id=run.pk, task_id=TrainingRun.objects.get(pk=run.pk).celery_task_id, worker=WORKER
    )

    assert retried.status == Status.SUCCEEDED and retried.attempts == 2, retried.traceback
    after = {p.pk: p for p in RunPart.objects.filter(run=run)}
    assert {pk: after[pk].started_at for pk in finished} == finished  # kept, not trained again
    (new,) = [p for pk, p in after.items() if pk not in finished]
    assert new.regime == ghost.regime and new.status == RunPart.Status.SUCCEEDED and new.pk != ghost.pk
    assert sorted(retried.result["ensembles"]) == sorted(regimes_of_run())
    root = run_dir(retried)
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert sorted(retried.result["artifacts"]["files"]) == on_disk and not (root / PARTS_DIR).exists()
