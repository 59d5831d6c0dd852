import pytest
from django.core.management import CommandError, call_command

from tests.training.runs_helpers import make_dataset, make_profile
from training.management.commands.train_symbol import MSG_UNKNOWN_PROFILE
from training.models import TrainingRun
from training.services.runs import MSG_SEED_OUT_OF_RANGE, preset_minimum_rows

Status = TrainingRun.Status


def call(*args):
    from io import StringIO

    out = StringIO()
    call_command("train_symbol", *args, stdout=out)
    return out.getvalue()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_inline_trains_in_process_and_prints_progress(fast_monitor):
    make_profile("baseline", is_default=True)
    make_dataset()
    out = call("BTCUSDT", "--preset", "tiny", "--inline", "--poll", "0.1")
    run = TrainingRun.objects.get()
    assert out.splitlines()[0] == f"run {run.pk}"
    assert "[##############################] 100.0% succeeded" in out
    assert f"run {run.pk} succeeded" in out
    assert run.status == Status.SUCCEEDED and run.model_results.exists()


def test_a_dataset_too_short_for_the_preset_is_refused_before_any_run(db):
    make_profile("baseline", is_default=True)
    make_dataset(rows=5)
    with pytest.raises(CommandError) as exc:
        call("BTCUSDT", "--preset", "smoke", "--inline")
    assert "has 5 candles; preset 'smoke' needs at least" in str(exc.value)
    assert not TrainingRun.objects.exists()


def test_a_seed_out_of_range_is_one_clear_line(db):
    make_profile("baseline", is_default=True)
    make_dataset(rows=preset_minimum_rows("smoke")["minimum"])
    with pytest.raises(CommandError) as exc:
        call("BTCUSDT", "--preset", "smoke", "--seed", "99999999999999", "--no-wait")
    assert str(exc.value) == MSG_SEED_OUT_OF_RANGE.format(seed=99999999999999)
    assert not TrainingRun.objects.exists()


def test_unknown_symbol_is_refused_with_the_dataset_list(db):
    make_profile("baseline", is_default=True)
    make_dataset("ETHUSDT", rows=3)
    with pytest.raises(CommandError) as exc:
        call("DOGEUSDT", "--no-wait")
    assert "DOGEUSDT" in str(exc.value) and "ETHUSDT" in str(exc.value)
    assert not TrainingRun.objects.exists()


def test_unknown_profile_is_refused(db):
    make_profile("baseline", is_default=True)
    with pytest.raises(CommandError) as exc:
        call("BTCUSDT", "--profile", "nope")
    assert str(exc.value) == MSG_UNKNOWN_PROFILE.format(name="nope", known="baseline")


def test_no_wait_prints_the_id_of_the_queued_run(db, django_capture_on_commit_callbacks):
    make_profile("baseline", is_default=True)
    make_dataset(rows=preset_minimum_rows("smoke")["minimum"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        out = call("btcusdt", "--no-wait", "--preset", "smoke")
    run = TrainingRun.objects.get()
    assert out.strip() == f"run {run.pk}" and run.status == Status.QUEUED and run.symbol == "BTCUSDT"
    assert len(callbacks) == 1


def test_a_launch_with_no_worker_on_the_broker_says_so_before_it_waits(db, test_broker):
    from io import StringIO

    from training.selectors.health import broker_display

    make_profile("baseline", is_default=True)
    make_dataset()
    out, err = StringIO(), StringIO()
    call_command("train_symbol", "BTCUSDT", "--preset", "tiny", "--no-wait", stdout=out, stderr=err)
    run = TrainingRun.objects.get()
    assert out.getvalue().splitlines() == [f"run {run.pk}"]
    assert f"No Celery worker answers on {broker_display()}" in err.getvalue()
    assert f"run {run.pk} (http://" in err.getvalue() and "waits in the queue" in err.getvalue()
