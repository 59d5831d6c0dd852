from tests.training.runs_helpers import *  # noqa: F401,F403
