"""/metrics: runs by status, failures by reason (from real failures), queue depth, request latency, access."""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.training.runs_helpers import make_dataset, make_profile
from training.models import Candle, TrainingRun
from training.selectors.metrics import failure_reason
from training.services.runs import training_run_claim, training_run_create, training_run_execute
from training.services.runs.interruptions import REASON_POOL_DIED, training_run_requeue_or_fail
from training.views.metrics import MSG_METRICS_FORBIDDEN

Status = TrainingRun.Status


def samples(client: Client, **extra) -> dict[tuple, float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def gave_up(run: TrainingRun) -> TrainingRun:
    """The worker was lost on the run's last attempt (the reconciler's path)."""
    TrainingRun.objects.filter(pk=run.pk).update(attempts=run.max_attempts)
    assert training_run_claim(run_id=run.pk, task_id="t-lost", worker="w@h")
    assert training_run_requeue_or_fail(run_id=run.pk, task_id="t-lost", reason=REASON_POOL_DIED) == "failed"
    return TrainingRun.objects.get(pk=run.pk)


@pytest.mark.django_db(transaction=True)
def test_a_failed_run_is_counted_under_its_reason(fast_monitor, test_broker):
    profile, dataset = make_profile("baseline", is_default=True), make_dataset()
    launch = dict(profile=profile, symbol="BTCUSDT", preset="tiny", enqueue=False)
    lost = gave_up(training_run_create(**launch))
    broken = training_run_create(**launch)
    keep = Candle.objects.filter(dataset=dataset).order_by("open_time").values_list("pk", flat=True)[:5]
    Candle.objects.filter(dataset=dataset).exclude(pk__in=list(keep)).delete()  # its data went bad after launch
    broken = training_run_execute(run_id=broken.pk, task_id="t-broken")
    training_run_create(**launch)  # one more, still queued
    assert (lost.status, broken.status) == (Status.FAILED, Status.FAILED)
    own = broken.error.split(":")[0]
    assert lost.error.startswith("worker lost: ") and own.isidentifier() and own != "worker lost"

    from training.selectors import metrics as metric_selectors

    metric_selectors._worker_count["at"] = -1e9  # not an answer cached by another test
    found = samples(Client())

    assert found[("ares_run_failures_total", (("reason", "worker lost"),))] == 1
    assert found[("ares_run_failures_total", (("reason", own),))] == 1
    assert found[("ares_runs", (("status", "failed"),))] == 2
    assert found[("ares_runs", (("status", "queued"),))] == 1
    assert found[("ares_run_retries_total", ())] == lost.max_attempts - 1
    assert found[("ares_run_duration_seconds_count", ())] == 2
    assert found[("ares_queue_depth", (("queue", "training"),))] == 0  # created without publishing
    assert found[("ares_workers", ())] == 0  # the test's Redis has no worker


def test_failure_reasons_are_short_labels():
    assert failure_reason("ValueError: bad") == "ValueError"
    assert failure_reason("worker lost: the pool process died; failed after 3 attempts") == "worker lost"
    assert failure_reason("x" * 80 + ": long") == "other" and failure_reason("no colon here") == "other"
    assert failure_reason("") == "unknown"


@pytest.mark.django_db
def test_request_latency_is_recorded_per_view(client):
    client.get("/accounts/login/")
    found = samples(client)
    counts = [dict(labels) for name, labels in found if name == "ares_http_request_duration_seconds_count"]
    assert {"view": "login", "method": "GET", "status": "2xx"} in counts


@pytest.mark.django_db
def test_only_loopback_or_the_token_may_read_it(settings):
    settings.METRICS_TOKEN = "metrics-token-123"
    remote = Client(REMOTE_ADDR="10.1.2.3")
    refused = remote.get("/metrics")
    assert refused.status_code == 403 and refused.content.decode() == MSG_METRICS_FORBIDDEN
    assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert samples(remote, headers={"Authorization": "Bearer metrics-token-123"})
    settings.METRICS_ALLOW_LOOPBACK = False
    assert Client().get("/metrics").status_code == 403
