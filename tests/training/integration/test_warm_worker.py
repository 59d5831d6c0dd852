"""A worker started with WORKER_WARM_IMPORTS imports the training libraries in its pool process before its first
run, says so in its log, and its first run imports none of them again (the run's own timing record, issue 26)."""

import time

import pytest

from tests.conftest import workers_on_own_broker
from tests.training.runs_helpers import make_dataset, make_profile
from training.ml.backends import frameworks
from training.models import TrainingRun
from training.services.runs import training_run_create
from training.tasks import MSG_WARM_IMPORTS

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
RUN_TIMEOUT_SECONDS = 300
WARM_LINE = MSG_WARM_IMPORTS.split("{")[0]  # the line the pool process logs


def test_a_warm_workers_first_run_imports_no_framework_again(celery_worker_settings, tmp_path):
    with workers_on_own_broker(celery_worker_settings, tmp_path, count=1, env={"WORKER_WARM_IMPORTS": "1"}) as (
        worker,
    ):
        # The run is created once the pool process has imported: a run left queued longer than the requeue
        # grace while it imported (20 s on a loaded machine) was republished by the reconciler of this test
        # process's session worker, which shares the test database, and trained there, cold.
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while WARM_LINE not in worker.log_tail(20_000):
            assert time.monotonic() < deadline, worker.log_tail()
            time.sleep(0.3)
        profile, dataset = make_profile("baseline", is_default=True), make_dataset()
        run = training_run_create(profile=profile, symbol=dataset.symbol, preset="tiny")
        while TrainingRun.objects.get(pk=run.pk).status not in TrainingRun.TERMINAL:
            assert time.monotonic() < deadline, worker.log_tail()
            time.sleep(0.3)
        log = worker.log_tail(20_000)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, (run.error, log)
    assert run.worker == worker.node_name, (run.worker, worker.node_name, log)
    assert "tensorflow" in log, log
    timings = run.result["timings"]
    assert set(timings["preloaded"]) == {framework.name for framework in frameworks()}
    assert timings["imports"] == {}  # nothing imported inside the run: TensorFlow least of all
