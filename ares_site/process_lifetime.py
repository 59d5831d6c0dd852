"""What keeps `run_app`'s children from outliving it, however it ends (Linux).

Three layers, each enough on its own for the common case:
- every child asks the kernel for SIGTERM when its parent dies (`PR_SET_PDEATHSIG`, set between fork and exec);
- a watchdog process (its own session, so a closed terminal does not hit it) holds the read end of a pipe only
  `run_app` writes to; when `run_app` dies, even by SIGKILL, the pipe reaches end-of-file and the watchdog ends
  every child's process group (their pool and web workers included) recorded in the pid file;
- the pid file (`run_app.pid`: pid and kernel start time of `run_app` and of each child) lets the next `make run`
  stop whatever is still left (both killed at once, say), identified by pid and start time, never by name."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

PID_FILE_NAME = "run_app.pid"
PR_SET_PDEATHSIG = 1
LEFTOVER_TERM_SECONDS = 5.0
ALREADY_RUNNING_MESSAGE = (
    "Another `make run` is running (run_app pid {pid}, recorded in {path}); stop it first (Ctrl-C there)."
)
LEFTOVER_MESSAGE = "Stopping {name} (pid {pid}) left over from a run_app that ended without stopping it."


def process_start_time(pid: int) -> int | None:
    """The kernel's start time of `pid` (clock ticks since boot, field 22 of /proc/<pid>/stat); None if gone.
    A pid can be reused; pid and start time together name one process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has finished; only its parent's wait is missing
        return None
    return int(fields[19])


def die_with_parent(signum: int = signal.SIGTERM) -> Callable[[], None]:
    """A `preexec_fn` for Popen: the child gets `signum` when the process that started it dies."""
    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: the signal will never come
            os.kill(os.getpid(), signum)

    return preexec


@dataclass
class Recorded:
    name: str
    pid: int
    start: int | None


@dataclass
class PidFile:
    """`run_app.pid`: the supervisor and its children (each the leader of its own process group)."""

    path: Path
    supervisor: Recorded | None = None
    children: dict[str, Recorded] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> PidFile:
        pid_file = cls(path=path)
        try:
            data = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            return pid_file
        if data.get("supervisor"):
            pid_file.supervisor = Recorded(**data["supervisor"])
        pid_file.children = {item["name"]: Recorded(**item) for item in data.get("children", [])}
        return pid_file

    def record_supervisor(self) -> None:
        pid = os.getpid()
        self.supervisor = Recorded("run_app", pid, process_start_time(pid))
        self.write()

    def record_child(self, name: str, pid: int) -> None:
        self.children[name] = Recorded(name, pid, process_start_time(pid))
        self.write()

    def write(self) -> None:
        data = {
            "supervisor": asdict(self.supervisor) if self.supervisor else None,
            "children": [asdict(child) for child in self.children.values()],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data))
        temporary.replace(self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def is_alive(recorded: Recorded) -> bool:
    return recorded.start is not None and process_start_time(recorded.pid) == recorded.start


def supervisor_running(pid_file: PidFile) -> bool:
    return pid_file.supervisor is not None and is_alive(pid_file.supervisor)


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _ours(recorded: Recorded) -> bool:
    """The recorded group is ours: its leader is the recorded process, or the leader is gone (the kernel hands
    out no pid that is still some group's id, so a group with that id holds only what the leader left)."""
    leader_start = process_start_time(recorded.pid)
    if leader_start is None:
        return _group_exists(recorded.pid)
    return leader_start == recorded.start


def leftovers_stop(path: Path, *, say: Callable[[str], None] = print, grace: float = LEFTOVER_TERM_SECONDS) -> int:
    """End the process groups of the children recorded in `path` that still run: SIGTERM, then SIGKILL after
    `grace` seconds. Returns how many groups were found; removes the file."""
    pid_file = PidFile.read(path)
    found = [recorded for recorded in pid_file.children.values() if _ours(recorded)]
    for recorded in found:
        say(LEFTOVER_MESSAGE.format(name=recorded.name, pid=recorded.pid))
        _killpg(recorded.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_group_exists(recorded.pid) for recorded in found):
        time.sleep(0.1)
    for recorded in found:
        _killpg(recorded.pid, signal.SIGKILL)
    pid_file.remove()
    return len(found)


def _killpg(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def watchdog_start(pid_path: Path) -> int:
    """Start the watchdog for `pid_path`; returns the write end of its pipe, to be held open (never written)
    for as long as the children should live. Closing it (or dying) makes the watchdog stop what is left."""
    read_end, write_end = os.pipe()
    subprocess.Popen(
        [sys.executable, "-m", "ares_site.process_lifetime", str(pid_path)],
        stdin=read_end,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
    os.close(read_end)
    os.set_inheritable(write_end, False)
    return write_end


def _watch(pid_path: Path) -> None:
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    while sys.stdin.buffer.read(4096):
        pass
    leftovers_stop(pid_path, say=lambda message: print(f"[watchdog] {message}", file=sys.stderr, flush=True))


if __name__ == "__main__":
    _watch(Path(sys.argv[1]))
