"""One run's detail side by side with MLflow's (issue 26): our API run detail and HTML run page against MLflow
3.17's ``GET /api/2.0/mlflow/runs/get``, each through its own framework's test client (no network), in rounds
interleaved between the two processes, with p50 / p95, the ratio to MLflow and the load average.

MLflow lives in a virtualenv of its own (never the project's):
    python3.11 -m venv /tmp/mlflow-venv && /tmp/mlflow-venv/bin/python -m pip install mlflow==3.17.2
    MLFLOW_PYTHON=/tmp/mlflow-venv/bin/python .venv/bin/python bench/bench_mlflow.py
Skipped (exit 0, says why) when that interpreter or its mlflow is missing. Our side: a temporary SQLite database
with BENCH_RUNS runs (default 100,000) and one real ``tiny`` run, after ANALYZE. MLflow's side: a SQLite store
with BENCH_MLFLOW_RUNS runs (default 2,000; its client writes one run per request, so 100,000 take too long
here) and one run carrying as many params, metrics (with their step history) and tags as ours has values.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MLFLOW_PYTHON = os.environ.get("MLFLOW_PYTHON", "/tmp/mlflow-venv/bin/python")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 8))
PER_ROUND = int(os.environ.get("BENCH_PER_ROUND", 10))

CHILD = r"""
import json, os, sys, tempfile, time
directory = tempfile.mkdtemp(prefix="ares-bench-mlflow-")
uri = f"sqlite:///{directory}/mlflow.db"
import mlflow.server as server
os.environ[server.BACKEND_STORE_URI_ENV_VAR] = uri
os.environ[getattr(server, "ARTIFACT_ROOT_ENV_VAR", "_MLFLOW_SERVER_ARTIFACT_ROOT")] = f"{directory}/artifacts"
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient
shape = json.loads(sys.argv[1])
client = MlflowClient(tracking_uri=uri)
experiment = client.create_experiment("bench")
now = int(time.time() * 1000)
for i in range(shape["others"]):
    run = client.create_run(experiment)
    client.log_batch(run.info.run_id, params=[Param(f"p{j}", str(j)) for j in range(10)],
                     metrics=[Metric(f"m{j}", float(j), now, 0) for j in range(5)])
run = client.create_run(experiment)
params = [Param(f"param_{j}", str(j * 0.5)) for j in range(shape["params"])]
metrics = [Metric(f"metric_{j}", float(s) / 7, now + s, s) for j in range(shape["metrics"]) for s in range(shape["steps"])]
tags = [RunTag(f"tag_{j}", "x" * 20) for j in range(shape["tags"])]
for k in range(0, len(metrics), 900):
    client.log_batch(run.info.run_id, params=params[:100] if k == 0 else [], metrics=metrics[k : k + 900],
                     tags=tags if k == 0 else [])
for k in range(100, len(params), 100):
    client.log_batch(run.info.run_id, params=params[k : k + 100])
from mlflow.server import app
web = app.test_client()
url = f"/api/2.0/mlflow/runs/get?run_id={run.info.run_id}"
assert web.get(url).status_code == 200, web.get(url).data[:300]
print(json.dumps({"ready": __import__("mlflow").__version__}), flush=True)
for line in sys.stdin:
    samples = []
    for _ in range(int(line)):
        started = time.perf_counter()
        response = web.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    print(json.dumps(samples), flush=True)
"""


def mlflow_available() -> str | None:
    if not Path(MLFLOW_PYTHON).is_file():
        return f"no interpreter at MLFLOW_PYTHON={MLFLOW_PYTHON}"
    check = subprocess.run([MLFLOW_PYTHON, "-c", "import mlflow"], capture_output=True, text=True)
    return None if check.returncode == 0 else f"mlflow does not import there: {check.stderr.strip()[-300:]}"


def leaves(value) -> int:
    if isinstance(value, dict):
        return sum(leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(leaves(v) for v in value) if value and isinstance(value[0], (dict, list)) else 1
    return 1


def main() -> None:
    why = mlflow_available()
    if why:
        print(f"bench_mlflow skipped: {why}")
        return
    tmp = tempfile.mkdtemp(prefix="ares-bench-mlflow-ours-")
    os.environ["BENCH_DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_run_list as ours  # sets up Django on BENCH_DATABASE_URL
    from bench_support import analyze, load, p95
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient

    setup_test_environment()
    call_command("migrate", verbosity=0)
    user, _, real = ours.populate()
    print(f"ours: {ours.RUNS:,} runs + run #{real.pk} (tiny, real); ANALYZE {analyze(connection):.1f} s; {load()}")
    result = real.result
    models = [m for s in result["ensembles"].values() for m in (s.get("models") or {}).values()]
    shape = {
        "others": int(os.environ.get("BENCH_MLFLOW_RUNS", 2000)),
        "params": max(20, leaves(result["regularization"]) + len(result["features"])),
        "metrics": max(10, sum(leaves(m["metrics"]) for m in models)),
        "steps": max([len(v) for m in models for v in (m.get("history") or {}).values()] or [1]),
        "tags": 10,
    }
    child = subprocess.Popen(
        [MLFLOW_PYTHON, "-c", CHILD, json.dumps(shape)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": ""},
    )
    ready = json.loads(child.stdout.readline())
    print(f"mlflow {ready['ready']}: {shape['others']:,} runs + one with {shape}; {load()}")
    html, api = Client(), APIClient()
    html.force_login(user)
    api.force_authenticate(user)

    def ours_round(call) -> list[float]:
        import time

        samples = []
        for _ in range(PER_ROUND):
            started = time.perf_counter()
            assert call().status_code == 200
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    sides = {
        "mlflow runs/get": [],
        "ours API /api/runs/<id>/": [],
        "ours HTML /runs/<id>/": [],
    }
    api.get(f"/api/runs/{real.pk}/")
    html.get(f"/runs/{real.pk}/")
    for _ in range(ROUNDS):
        child.stdin.write(f"{PER_ROUND}\n")
        child.stdin.flush()
        sides["mlflow runs/get"] += json.loads(child.stdout.readline())
        sides["ours API /api/runs/<id>/"] += ours_round(lambda: api.get(f"/api/runs/{real.pk}/"))
        sides["ours HTML /runs/<id>/"] += ours_round(lambda: html.get(f"/runs/{real.pk}/"))
    child.stdin.close()
    child.wait(timeout=60)
    base_p50, base_p95 = statistics.median(sides["mlflow runs/get"]), p95(sides["mlflow runs/get"])
    print(f"{ROUNDS} interleaved rounds of {PER_ROUND} requests each:")
    for name, samples in sides.items():
        median, tail = statistics.median(samples), p95(samples)
        print(
            f"  {name:<28} p50 {median:7.2f} ms ({median / base_p50:4.2f}x mlflow)  "
            f"p95 {tail:7.2f} ms ({tail / base_p95:4.2f}x)  {load()}"
        )


if __name__ == "__main__":
    main()
