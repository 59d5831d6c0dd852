"""A group of markets launched from the command line over two real Celery worker processes (platform fixtures)."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import workers_on_own_broker
from tests.training.runs_helpers import make_dataset, make_profile
from training.models import RunGroup, TrainingRun

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
REPO_ROOT = Path(__file__).resolve().parents[3]
TIMEOUT_SECONDS = 600


@pytest.fixture(scope="module")
def two_workers(celery_worker_settings, tmp_path_factory):
    with workers_on_own_broker(celery_worker_settings, tmp_path_factory.mktemp("groups")) as workers:
        yield workers


def test_a_two_market_launch_is_one_group_of_two_runs_on_two_workers(two_workers, admin_client, tmp_path):
    make_profile("baseline", is_default=True)
    make_dataset("BTCUSDT", seed=1)
    make_dataset("ETHUSDT", seed=2)
    markets = tmp_path / "markets.txt"
    markets.write_text("# the desk's list\nETHUSDT\n")
    done = subprocess.run(
        [sys.executable, "manage.py", "train_symbol", "BTCUSDT", "--markets", str(markets), "--preset", "tiny"]
        + ["--poll", "0.5"],
        cwd=REPO_ROOT,
        env=two_workers[0].env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    logs = "\n".join(w.log_tail(6000) for w in two_workers)
    assert done.returncode == 0, (done.stdout, done.stderr, logs)
    group = RunGroup.objects.get()
    runs = list(group.runs.order_by("id"))
    assert [(r.symbol, r.status) for r in runs] == [("BTCUSDT", "succeeded"), ("ETHUSDT", "succeeded")]
    assert {r.worker for r in runs} == {w.node_name for w in two_workers}, logs  # one run on each worker
    assert all(r.snapshot["group"] == {"id": group.pk, "markets": 2} for r in runs)
    assert all(r.trigger == TrainingRun.Trigger.CLI for r in runs)
    lines = done.stdout.splitlines()
    assert lines[0] == f"group {group.pk}: 2 runs" and lines[-1].startswith(f"group {group.pk} succeeded")

    page = admin_client.get(reverse("training:run_group_detail", args=[group.pk])).content.decode()
    assert 'id="group-status">succeeded<' in page and "BINANCE:ETHUSDT 1h" in page
    assert page.count("(point)") + page.count("better (") + page.count("worse (") + page.count("equal (") >= 2
    status = admin_client.get(reverse("training:run_group_status", args=[group.pk])).json()
    assert status["status"] == "succeeded" and status["counts"] == {"succeeded": 2}
