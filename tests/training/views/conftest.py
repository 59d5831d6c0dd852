from tests.training.runs_helpers import *  # noqa: F403
