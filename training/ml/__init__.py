"""Plain-Python training code: no Django imports anywhere under this package.

``TF_CPP_MIN_LOG_LEVEL`` is set here, the one place (before anything of the engine can import TensorFlow), so
the worker, the CLI, tests and benches all get TensorFlow's C++ logging at warnings and above only; an
environment that sets it already keeps its value.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
