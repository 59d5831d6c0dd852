"""The Celery worker's command line, written once: `make worker` (``python -m ares_site.worker_command``), `make run`
(``manage.py run_app``), the tests' worker processes and the benches all start workers from ``worker_command``.

``python -m ares_site.worker_command [-n NAME] [--loglevel LEVEL]`` replaces itself with that worker."""

from __future__ import annotations

import argparse
import os
import sys

QUEUES = "default,training"


def worker_command(*, hostname: str, queues: str = QUEUES, loglevel: str = "INFO") -> list[str]:
    """One prefork Celery worker process for ``queues``, training one run at a time (concurrency 1); gossip and
    mingle are off (the app asks workers through inspect broadcasts and keeps its state in the database)."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "ares_site",
        "worker",
        "-Q",
        queues,
        "--concurrency",
        "1",
        "--pool",
        "prefork",
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
        "-n",
        hostname,
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ares_site.worker_command", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-n", "--hostname", default=f"ares-{os.getpid()}@%h", help="the node name (default ares-<pid>@%%h)"
    )
    parser.add_argument("--loglevel", default="INFO")
    args = parser.parse_args(argv)
    command = worker_command(hostname=args.hostname, loglevel=args.loglevel)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
