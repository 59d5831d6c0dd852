import pytest
import redis

from ares_site.embedded_redis import free_port, start_embedded_redis
from tests.conftest import celery_app_using
from tests.training.runs_helpers import make_dataset, make_profile
from training.services.runs import MSG_BROKER_REFUSED, MSG_BROKER_UNREACHABLE, training_run_create

pytestmark = pytest.mark.django_db


def test_a_redis_that_answers_with_an_error_is_named_as_such_not_unreachable(
    tmp_path, django_capture_on_commit_callbacks
):
    server = start_embedded_redis(directory=tmp_path)
    try:
        redis.Redis.from_url(server.url).replicaof("127.0.0.1", free_port())  # a read-only replica: writes refused
        make_dataset()
        with celery_app_using(server.url), django_capture_on_commit_callbacks(execute=True):
            run = training_run_create(profile=make_profile("baseline", is_default=True), symbol="BTCUSDT")
        run.refresh_from_db()
    finally:
        server.stop()
    assert run.status == "failed"
    assert run.error.startswith(MSG_BROKER_REFUSED.split("({")[0]), run.error
    assert "ReadOnlyError: " in run.error and "You can't write against a read only replica." in run.error
    assert not run.error.startswith(MSG_BROKER_UNREACHABLE.split("({")[0]) and "unreachable" not in run.error
