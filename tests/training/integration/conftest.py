import os

from tests.training.runs_helpers import *  # noqa: F403

# Worker and command subprocesses started by these tests read these at start: a fast heartbeat and
# frequent progress writes, so cancellation and lost workers are observable in seconds.
os.environ.setdefault("TRAINING_HEARTBEAT_SECONDS", "0.5")
os.environ.setdefault("TRAINING_PROGRESS_WRITE_SECONDS", "0.2")
# ... and a reconciler that looks every second, finds a run silent for 3 s and a queued run lost for 5 s.
os.environ.setdefault("TRAINING_RECONCILE_SECONDS", "1")
os.environ.setdefault("TRAINING_STALE_AFTER_SECONDS", "3")
os.environ.setdefault("TRAINING_REQUEUE_GRACE_SECONDS", "5")
