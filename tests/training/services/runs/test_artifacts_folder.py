import pytest

from tests.training.runs_helpers import make_dataset, make_profile
from training.models import TrainingRun
from training.services.runs import (
    MSG_ARTIFACTS_FOLDER_EXISTS,
    ArtifactsFolderExists,
    run_artifacts_create,
    run_artifacts_dir,
    training_run_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(settings, tmp_path):
    settings.ARTIFACTS_DIR = tmp_path
    make_dataset()
    return training_run_create(profile=make_profile("baseline", is_default=True), symbol="BTCUSDT", enqueue=False)


def test_the_folder_is_named_by_number_and_key_and_created_empty(run, tmp_path):
    path = run_artifacts_create(run=run)
    assert path == tmp_path / "runs" / f"{run.pk}-{run.artifacts_key}" and path.is_dir() and not any(path.iterdir())
    other = training_run_create(profile=run.profile, symbol="BTCUSDT", enqueue=False)
    assert other.artifacts_key != run.artifacts_key


def test_a_folder_there_before_the_first_attempt_is_an_error_and_left_alone(run):
    path = run_artifacts_dir(run)
    path.mkdir(parents=True)
    (path / "stale.png").write_bytes(b"someone else's")
    with pytest.raises(ArtifactsFolderExists) as refused:
        run_artifacts_create(run=run)
    assert str(refused.value) == MSG_ARTIFACTS_FOLDER_EXISTS.format(pk=run.pk, path=path)
    assert (path / "stale.png").read_bytes() == b"someone else's"


def test_a_later_attempt_starts_from_an_empty_folder(run):
    first = run_artifacts_create(run=run)
    (first / "partial.txt").write_text("attempt 1 was interrupted")
    TrainingRun.objects.filter(pk=run.pk).update(attempts=2)
    run.refresh_from_db()
    assert run_artifacts_create(run=run) == first and not any(first.iterdir())
