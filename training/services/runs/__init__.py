"""Training runs, one module per job:

- ``launch``: validate, snapshot, create (publish on commit), re-run;
- ``cancel``: a queued run ends at once, a running one is flagged;
- ``execution``: claim once, drive the TrainingManager, store the outcome;
- ``monitor``: heartbeat thread, cancel polling, progress and log writes;
- ``interruptions``: a run whose worker shut down, died or was lost goes back to the queue (limited attempts);
- ``reconcile``: the worker-side reconciler (lost messages, lost workers);
- ``queue``: publishing and reading the broker; ``database``: Optuna's storage URL, retries on a locked SQLite.
"""

from training.selectors.run_inputs import MSG_NO_DATASET_ON_RUN, run_artifacts_dir
from training.services.runs.cancel import MSG_CANCELLED_QUEUED, MSG_NOT_CANCELLABLE, training_run_cancel
from training.services.runs.database import optuna_storage_url, retry_when_locked
from training.services.runs.execution import (
    IN_PARTS,
    MSG_ARTIFACTS_FOLDER_EXISTS,
    MSG_CANCELLED,
    SINGLE_PROCESS,
    ArtifactsFolderExists,
    model_result_rows,
    run_artifacts_create,
    training_run_claim,
    training_run_execute,
)
from training.services.runs.interruptions import (
    MSG_GAVE_UP,
    MSG_REQUEUED,
    REASON_POOL_DIED,
    REASON_SHUTDOWN,
    training_run_mark_failed,
    training_run_requeue_or_fail,
)
from training.services.runs.launch import (
    MSG_DATASET_TOO_SHORT,
    MSG_NO_PROFILE,
    MSG_PROFILE_INVALID,
    MSG_SEED_OUT_OF_RANGE,
    MSG_UNKNOWN_PRESET,
    RERUN_FROM_PROFILE,
    RERUN_FROM_SNAPSHOT,
    RERUN_SOURCES,
    TrainingRunEnqueueFailed,
    library_versions,
    preset_minimum_rows,
    training_run_create,
    training_run_rerun,
    training_run_validate,
)
from training.services.runs.queue import MSG_BROKER_REFUSED, MSG_BROKER_UNREACHABLE, training_run_publish
from training.services.runs.reconcile import training_runs_reconcile, training_runs_reconcile_loop

__all__ = [
    "MSG_BROKER_UNREACHABLE",
    "MSG_BROKER_REFUSED",
    "MSG_CANCELLED",
    "MSG_CANCELLED_QUEUED",
    "MSG_DATASET_TOO_SHORT",
    "MSG_GAVE_UP",
    "MSG_NO_DATASET_ON_RUN",
    "IN_PARTS",
    "SINGLE_PROCESS",
    "MSG_NO_PROFILE",
    "MSG_NOT_CANCELLABLE",
    "MSG_PROFILE_INVALID",
    "MSG_REQUEUED",
    "MSG_SEED_OUT_OF_RANGE",
    "MSG_UNKNOWN_PRESET",
    "REASON_POOL_DIED",
    "RERUN_FROM_PROFILE",
    "RERUN_FROM_SNAPSHOT",
    "RERUN_SOURCES",
    "REASON_SHUTDOWN",
    "TrainingRunEnqueueFailed",
    "library_versions",
    "model_result_rows",
    "optuna_storage_url",
    "preset_minimum_rows",
    "retry_when_locked",
    "run_artifacts_dir",
    "run_artifacts_create",
    "ArtifactsFolderExists",
    "MSG_ARTIFACTS_FOLDER_EXISTS",
    "training_run_cancel",
    "training_run_claim",
    "training_run_create",
    "training_run_execute",
    "training_run_mark_failed",
    "training_run_publish",
    "training_run_requeue_or_fail",
    "training_run_rerun",
    "training_run_validate",
    "training_runs_reconcile",
    "training_runs_reconcile_loop",
]
