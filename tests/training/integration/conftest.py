import os

# Worker and command subprocesses started by these tests read these at start: a fast heartbeat and
# frequent progress writes, so cancellation and the stale-heartbeat sweep are observable in seconds.
os.environ.setdefault("TRAINING_HEARTBEAT_SECONDS", "0.5")
os.environ.setdefault("TRAINING_PROGRESS_WRITE_SECONDS", "0.2")
