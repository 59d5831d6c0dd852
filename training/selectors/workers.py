"""Every worker of the cluster as the broker sees it (issue 27), the same from any web process.

Each worker registers itself in the broker's Redis (``REGISTRY_KEY``: name, host, queues, pid, start) and beats
there every ``TRAINING_HEARTBEAT_SECONDS`` with Redis's own clock (one clock for every host); a clean shutdown
removes it. ``cluster_workers`` joins that registry with a broadcast (ping, active tasks, queues) that ends as soon
as every registered worker replied, else at its timeout: a worker registered but not answering is ``lost`` (it died
without shutting down). A worker that never registered is listed when it replies before the registered ones. An
entry silent for ``WORKER_FORGET_AFTER_SECONDS`` is dropped (a host taken away for good).
"""

from __future__ import annotations

import json
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import redis
from django.conf import settings

REGISTRY_KEY = "ares:workers"
REDIS_TIMEOUT_SECONDS = 2.0


def _client() -> redis.Redis:
    return redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )


def broker_time(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return seconds + micros / 1e6


def worker_beat(*, name: str, queues: list[str], started_at: float | None = None) -> float:
    """Register or refresh this worker's entry; returns the broker's time of the beat."""
    client = _client()
    try:
        now = broker_time(client)
        previous = client.hget(REGISTRY_KEY, name)
        entry = json.loads(previous) if previous else {}
        entry.update(
            name=name,
            host=name.split("@", 1)[-1] or socket.gethostname(),
            pid=os.getpid(),
            queues=sorted(queues),
            started_at=entry.get("started_at") or started_at or now,
            heartbeat_at=now,
        )
        client.hset(REGISTRY_KEY, name, json.dumps(entry))
        return now
    finally:
        client.close()


def worker_forget(*, name: str) -> None:
    client = _client()
    try:
        client.hdel(REGISTRY_KEY, name)
    finally:
        client.close()


class WorkerBeat:
    """A worker's beat into the registry, in a thread of the reconciler process beside it (``reconcile_runs``)."""

    def __init__(self, *, name: str, queues: list[str]) -> None:
        self.name, self.queues = name, queues
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="worker-registry-beat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        try:
            worker_forget(name=self.name)
        except redis.RedisError:
            pass

    def _loop(self) -> None:
        while not self._done.is_set():
            try:
                worker_beat(name=self.name, queues=self.queues)
            except redis.RedisError:
                pass
            self._done.wait(float(settings.TRAINING_HEARTBEAT_SECONDS))


def _broadcasts(timeout: float, expected: int | None = None) -> tuple[dict, dict, dict]:
    """The three broadcasts, in parallel; each returns as soon as ``expected`` workers replied (every registered
    worker answering takes milliseconds), else after ``timeout`` (a registered worker is silent: it is lost)."""
    from ares_site.celery import app

    def ask(method: str) -> dict:
        return getattr(app.control.inspect(timeout=timeout, limit=expected), method)() or {}

    with ThreadPoolExecutor(max_workers=3) as pool:
        ping, active, queues = pool.map(ask, ("ping", "active", "active_queues"))
    return ping, active, queues


def cluster_workers(*, timeout: float | None = None) -> list[dict]:
    """Every worker, answering or registered: name, host, queues, active tasks, last heartbeat (broker clock),
    its age in seconds and ``state`` ("up" answers the broadcast, "lost" is registered but silent). ``timeout``:
    how long the broadcast waits for replies (default WORKER_INSPECT_TIMEOUT_SECONDS)."""
    if timeout is None:
        timeout = settings.WORKER_INSPECT_TIMEOUT_SECONDS
    client = _client()
    try:
        registry = {name.decode(): json.loads(raw) for name, raw in client.hgetall(REGISTRY_KEY).items()}
        ping, active, queues = _broadcasts(timeout, expected=len(registry) or None)
        now = broker_time(client)
        forget_after = float(settings.WORKER_FORGET_AFTER_SECONDS)
        for name, entry in list(registry.items()):
            if name not in ping and now - float(entry.get("heartbeat_at") or 0) > forget_after:
                client.hdel(REGISTRY_KEY, name)
                del registry[name]
    finally:
        client.close()
    workers = []
    for name in sorted(set(ping) | set(registry)):
        entry = registry.get(name, {})
        beat = entry.get("heartbeat_at")
        workers.append(
            {
                "name": name,
                "host": entry.get("host") or name.split("@", 1)[-1],
                "state": "up" if name in ping else "lost",
                "queues": sorted(q.get("name", "") for q in queues.get(name, [])) or entry.get("queues", []),
                "active": [
                    {"id": task.get("id"), "task": task.get("name"), "args": task.get("args")}
                    for task in active.get(name, [])
                ],
                "last_heartbeat": beat,
                "heartbeat_age_seconds": round(now - float(beat), 1) if beat else None,
                "started_at": entry.get("started_at"),
            }
        )
    return workers
