"""The Celery worker's command line has one source (ares_site/worker_command.py) that `make worker`, run_app, the
tests' worker processes and the benches use."""

import re
import subprocess
import sys
from pathlib import Path

from ares_site.local_run import worker_command as run_app_worker_command
from ares_site.worker_command import QUEUES, worker_command

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_command_is_one_prefork_worker_for_both_queues_at_concurrency_1():
    command = worker_command(hostname="ares-x@%h")
    assert command[:6] == [sys.executable, "-m", "celery", "-A", "ares_site", "worker"]
    assert command[command.index("-Q") + 1] == QUEUES == "default,training"
    assert command[command.index("--concurrency") + 1] == "1"
    assert command[command.index("--pool") + 1] == "prefork"
    assert command[command.index("-n") + 1] == "ares-x@%h"
    assert run_app_worker_command is worker_command


def test_make_worker_runs_the_module_and_no_other_file_spells_the_worker_command_line():
    makefile = (REPO_ROOT / "Makefile").read_text()
    worker_target = makefile[makefile.index("\nworker:") : makefile.index("\n\n", makefile.index("\nworker:"))]
    assert "-m ares_site.worker_command" in worker_target and "celery" not in worker_target.replace("Celery", "")
    spelled = [
        str(path.relative_to(REPO_ROOT))
        for folder in ("ares_site", "training", "tests", "bench", "scripts")
        for path in (REPO_ROOT / folder).rglob("*.py")
        if path.resolve() != Path(__file__).resolve()
        and re.search(r'"celery",\s*"-A",\s*"ares_site",\s*"worker"', path.read_text(encoding="utf-8"))
    ]
    assert spelled == ["ares_site/worker_command.py"]


def test_the_module_rejects_an_unknown_argument_before_starting_anything():
    done = subprocess.run(
        [sys.executable, "-m", "ares_site.worker_command", "--bogus"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 2 and "unrecognized arguments: --bogus" in done.stderr
