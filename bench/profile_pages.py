"""Where the operations bench's pages spend their CPU: one process, Django's test client through the whole
middleware stack, a logged-in session in the database (as the bench's clients have), BENCH_RUNS runs (10,000) in a
temporary SQLite database (bench_run_list's populate: one real `tiny` run and copies). Prints per page the CPU
milliseconds per request (`time.process_time`, median of BENCH_ROUNDS rounds of 10) beside the load average, then
with PROFILE_SQL=1 each page's queries, then the cProfile top functions (PROFILE_TOP, by own time and by cumulative time) over 30 requests.
    .venv/bin/python bench/profile_pages.py"""

import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", 10_000))
os.environ["BENCH_RUNS"] = "0"  # bench_run_list's populate: only its real run; the copies are made here
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_run_list import populate  # noqa: E402  (sets up Django on a temporary database)
from bench_support import analyze, copy_runs, load  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))
TOP = int(os.environ.get("PROFILE_TOP", 25))


def cpu_ms(client: Client, url: str) -> float:
    rounds = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(10):
            assert client.get(url).status_code in (200, 503), url  # /healthz: no Redis or worker here
        rounds.append((time.process_time() - started) * 100)
    return statistics.median(rounds)


def main() -> None:
    call_command("migrate", verbosity=0)
    user, _, real = populate()
    copy_runs(real, RUNS - 1)
    analyze(connection)
    client = Client(HTTP_HOST="127.0.0.1")  # no setup_test_environment: templates render as in production
    client.force_login(user)
    middle = real.__class__.objects.order_by("-id").values_list("id", flat=True)[RUNS // 2]
    pages = ["/runs/", f"/runs/{middle}/", "/api/runs/", "/healthz"]
    for url in pages:
        for _ in range(3):
            client.get(url)
    figures = {url: cpu_ms(client, url) for url in pages}
    for url, ms in figures.items():
        print(f"{url:<16} CPU {ms:6.2f} ms/request  {load()}")
    print(f"mix average {statistics.mean(figures.values()):.2f} ms/request")
    if os.environ.get("PROFILE_SQL"):  # each page's queries, with the database's seconds for them
        from django.test.utils import CaptureQueriesContext

        for url in pages:
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            print(f"\n{url}: {len(queries)} queries")
            for query in queries.captured_queries:
                print(f"  {float(query['time']) * 1000:6.2f} ms  {query['sql'][:160]}")
    only = os.environ.get("PROFILE_PAGES")
    for url in pages:
        if only and url.split("/")[1] not in only.split(","):
            continue
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(30):
            client.get(url)
        profile.disable()
        print(f"\n===== {url} (30 requests) =====")
        stats = pstats.Stats(profile).strip_dirs()
        stats.sort_stats("tottime").print_stats(TOP)
        stats.sort_stats("cumulative").print_stats(TOP)
        callees = os.environ.get("PROFILE_CALLEES")  # e.g. run_list: what the view's own callees cost
        if callees:
            stats.print_callees(callees)


if __name__ == "__main__":
    main()
