"""Operations figures of `make run`'s real process tree (run_app, WORKERS=1, embedded Redis, gunicorn with
WEB_WORKERS x WEB_THREADS) on a temporary SQLite database, loopback only. Prints, with the load average:

1. Load: BENCH_CLIENTS clients (threads, one shared login) for BENCH_SECONDS against BENCH_RUNS runs (one `tiny`
   run trained by the worker on the offline sample, copied): requests/s, errors, p50/p95/p99 per page and
   for /healthz.
2. A 150,000-column (~1 MB) header: seconds to refusal over the API (the running app) and through
   `import_klines` (a process of its own), with that process's peak RSS.
3. SIGKILL of run_app: seconds until no process it started is left.

`flock /work/heavy.lock .venv/bin/python bench/bench_operations.py` (BENCH_CLIENTS=50 BENCH_SECONDS=60 by default;
BENCH_CLIENT_PROCESSES=5 spreads the client threads over 5 processes instead of this one).
"""

import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TMP = Path(tempfile.mkdtemp(prefix="ares-bench-operations-"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 50))
CLIENT_PROCESSES = max(1, min(CLIENTS, int(os.environ.get("BENCH_CLIENT_PROCESSES", 1))))
SECONDS = float(os.environ.get("BENCH_SECONDS", 60))
RUNS = int(os.environ.get("BENCH_RUNS", 10_000))
COLUMNS = 150_000
MEASURED = (  # the child's own peak RSS (VmHWM) at exit, as tests/reliability/test_import_limits.py does
    "import atexit, runpy, sys\n"
    "def report():\n"
    "    hwm = next(line for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
    "    sys.stderr.write(f'\\nPEAK_RSS_KB {hwm.split()[1]}\\n')\n"
    "atexit.register(report)\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def main() -> None:
    from ares_site.embedded_redis import free_port
    from tests.reliability.supervised_app import SupervisedApp

    app = SupervisedApp(state_dir=TMP / "app", redis_port=free_port(), port=free_port())
    app.env.update(LOG_LEVEL="WARNING", TRAINING_RECONCILE_SECONDS="30", TRAINING_STALE_AFTER_SECONDS="120")
    web = {
        k: os.environ[k]
        for k in (
            "WEB_WORKERS",
            "WEB_THREADS",
            "WEB_HEALTH_LANE",
            "WEB_SWITCH_INTERVAL_MS",
            "WEB_KEEPALIVE_REQUESTS",
            "CONN_MAX_AGE",
        )
        if k in os.environ
    }
    app.env.update(web)  # the web settings under test (README: Web concurrency)
    print(f"web settings: {web or 'defaults'}")
    print(f"load average before: {load()}")
    started = time.monotonic()
    app.start()
    base = f"http://127.0.0.1:{app.port}"
    print(f"run_app up in {time.monotonic() - started:.1f} s")
    os.environ.update({k: v for k, v in app.env.items() if k != "PATH"})
    import django

    django.setup()
    import requests
    from bench_support import copy_runs

    from training.models import TrainingRun

    try:
        template_id = app.launch("BTCUSDT", "tiny")
        run = app.wait_for(template_id, ("succeeded", "failed"), timeout=600)
        assert run["status"] == "succeeded", run
        template = TrainingRun.objects.get(pk=template_id)
        copy_runs(template, RUNS - 1)
        middle = TrainingRun.objects.order_by("-id").values_list("id", flat=True)[RUNS // 2]
        print(f"{TrainingRun.objects.count():,} runs (copies of run {template.pk}, tiny)")

        session = requests.Session()
        session.get(f"{base}/accounts/login/", timeout=30)
        session.post(
            f"{base}/accounts/login/",
            data={
                "username": "admin",
                "password": app.env["ADMIN_PASSWORD"],
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            timeout=30,
        )
        cookies = session.cookies.get_dict()
        assert "sessionid" in cookies, "login failed"

        # 2. hostile header (before the load, on a quiet app)
        header = ",".join(
            ["timestamp", "open", "high", "low", "close", "volume", *(f"c{i:x}" for i in range(COLUMNS - 6))]
        )
        wide = (header + "\n" + "1704067200000,1,2,0.5,1.5,10\n").encode()
        path = TMP / "wide.csv"
        path.write_bytes(wide)
        t = time.perf_counter()
        answer = session.post(
            f"{base}/api/datasets/import/",
            files={"file": ("wide.csv", wide, "text/csv")},
            data={"symbol": "WIDEUSDT"},
            headers={"X-CSRFToken": session.cookies["csrftoken"]},
            timeout=130,
        )
        api_seconds = time.perf_counter() - t
        env = {**os.environ, "LOG_LEVEL": "WARNING"}
        t = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", MEASURED, "manage.py", "import_klines", str(path), "--symbol", "WIDEUSDT"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        cli_seconds = time.perf_counter() - t
        peak_mb = int(done.stderr.rpartition("PEAK_RSS_KB ")[2].split()[0]) / 1024
        print(f"2. {len(wide) / 2**20:.2f} MB header, {COLUMNS:,} columns (load {load()}):")
        print(f"   API: {answer.status_code} in {api_seconds:.2f} s: {answer.text[:140]}")
        print(
            f"   import_klines: exit {done.returncode} in {cli_seconds:.2f} s (whole process), peak RSS {peak_mb:.0f} MB"
        )

        # 1. load
        pages = ["/runs/", f"/runs/{middle}/", "/api/runs/", "/healthz"]
        deadline = time.monotonic() + SECONDS

        print(
            f"1. {CLIENTS} clients x {SECONDS:g} s, {RUNS:,} runs, clients in {CLIENT_PROCESSES} process(es) "
            f"(load before {load()}):"
        )
        processes = [psutil.Process(app.process.pid), *app.children()]
        before = cpu_by_process(processes)
        web_workers = [p for p in processes if "gunicorn" in " ".join(p.cmdline()) and p.ppid() != app.process.pid]
        held = web_connections(web_workers, app.port, deadline)
        t = time.monotonic()
        times, errors, clients_cpu = run_clients(base, cookies, pages, deadline)
        wall = time.monotonic() - t
        spent = {key: value - before.get(key, 0.0) for key, value in cpu_by_process(processes).items()}
        server_cpu = sum(spent.values())
        total = sum(len(v) for v in times.values())
        print(
            f"   {total:,} requests in {wall:.1f} s = {total / wall:.1f} requests/s, errors {sum(errors.values())}"
            f"  load {load()}"
        )
        print(
            f"   CPU per request: app's processes {1000 * server_cpu / total:.1f} ms, this bench's clients "
            f"{1000 * clients_cpu / total:.1f} ms ({os.cpu_count()} cores: "
            f"{(server_cpu + clients_cpu) / (wall * os.cpu_count()):.0%} of the machine)"
        )
        by_kind: dict[str, float] = defaultdict(float)
        for (_, kind), seconds in spent.items():
            by_kind[kind] += seconds
        print(
            "   the app's CPU per request by process: "
            + ", ".join(f"{kind} {1000 * v / total:.1f} ms" for kind, v in sorted(by_kind.items(), key=lambda x: -x[1]))
        )
        print(
            "   clients' connections held by each web worker process (mean of 1 s samples): "
            + ", ".join(f"pid {pid} {statistics.mean(n) if n else 0:.1f}" for pid, n in held.items())
        )
        for page in pages:
            v = times[page]
            print(
                f"   {page:<14} n={len(v):>6}  p50 {statistics.median(v):7.1f} ms  p95 {percentile(v, 0.95):7.1f} ms"
                f"  p99 {percentile(v, 0.99):7.1f} ms  errors {errors[page]}  load {load()}"
            )
        print(f"   load average after: {load()}")

        # 3. SIGKILL of run_app
        children = app.children()
        app.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        while True:
            alive = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
            if not alive or time.monotonic() - killed > 60:
                break
            time.sleep(0.05)
        print(
            f"3. SIGKILL of run_app: {len(children)} processes, none left after {time.monotonic() - killed:.2f} s"
            if not alive
            else f"3. SIGKILL of run_app: {len(alive)} of {len(children)} still alive after 60 s"
        )
    finally:
        app.close()


KINDS = ("gunicorn", "redis-server", "reconcile_runs", "celery", "run_app")


def clients(base: str, cookies: dict, pages: list[str], first: int, count: int, deadline: float, out=None):
    """``count`` client threads (clients ``first`` .. ``first + count - 1``), each with its own kept-alive session,
    asking for ``pages`` in turn without a pause until ``deadline``; returns (times per page in ms, errors per page,
    this process's CPU seconds), or puts them on ``out``."""
    import requests

    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    started = time.process_time()

    def client(index: int) -> None:
        own = requests.Session()
        own.cookies.update(cookies)
        i = index
        while time.monotonic() < deadline:
            page = pages[i % len(pages)]
            i += 1
            t0 = time.perf_counter()
            try:
                ok = own.get(base + page, timeout=60).status_code == 200
            except requests.RequestException:
                ok = False
            took = (time.perf_counter() - t0) * 1000
            with lock:
                times[page].append(took)
                errors[page] += not ok

    threads = [threading.Thread(target=client, args=(first + n,)) for n in range(count)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    measured = (dict(times), dict(errors), time.process_time() - started)
    if out is None:
        return measured
    out.put(measured)
    return None


def run_clients(base: str, cookies: dict, pages: list[str], deadline: float):
    """CLIENTS clients spread over CLIENT_PROCESSES processes (1: threads of this process, as before). Client threads
    of one process also wait for that process's interpreter lock between a response's arrival and its timing; more
    processes measure more of the server's time and less of the clients' own queue."""
    if CLIENT_PROCESSES == 1:
        parts = [clients(base, cookies, pages, 0, CLIENTS, deadline)]
    else:
        out = multiprocessing.get_context("fork").SimpleQueue()
        shares = [CLIENTS // CLIENT_PROCESSES + (i < CLIENTS % CLIENT_PROCESSES) for i in range(CLIENT_PROCESSES)]
        firsts = [sum(shares[:i]) for i in range(CLIENT_PROCESSES)]
        children = [
            multiprocessing.get_context("fork").Process(
                target=clients, args=(base, cookies, pages, first, share, deadline, out)
            )
            for first, share in zip(firsts, shares, strict=True)
        ]
        [child.start() for child in children]
        parts = [out.get() for _ in children]  # read before joining: a child blocks writing a full pipe
        [child.join() for child in children]
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    cpu = 0.0
    for part_times, part_errors, part_cpu in parts:
        for page, values in part_times.items():
            times[page].extend(values)
        for page, n in part_errors.items():
            errors[page] += n
        cpu += part_cpu
    return times, errors, cpu


def web_connections(web_workers, port: int, deadline: float) -> dict[int, list[int]]:
    """Samples, once a second until ``deadline``, how many client connections each web worker process holds (an
    uneven split is an uneven queue: clients that never pause wait longer on the busier process)."""
    held: dict[int, list[int]] = {p.pid: [] for p in web_workers}

    def sample() -> None:
        while time.monotonic() < deadline - 1:
            time.sleep(1.0)
            for process in web_workers:
                try:
                    connections = process.net_connections(kind="tcp")
                except psutil.Error:
                    continue
                held[process.pid].append(
                    sum(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port for c in connections)
                )

    threading.Thread(target=sample, daemon=True).start()
    return held


def cpu_by_process(processes) -> dict[tuple[int, str], float]:
    """User + system CPU seconds so far of each of ``processes`` (run_app and its tree), keyed by pid and kind."""
    spent = {}
    for process in processes:
        try:
            line = " ".join(process.cmdline())
            times = process.cpu_times()
        except psutil.Error:
            continue
        kind = next((k for k in KINDS if k in line), process.name())
        spent[(process.pid, kind)] = times.user + times.system
    return spent


if __name__ == "__main__":
    main()
