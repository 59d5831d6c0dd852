from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from training.selectors.health import health_status
from training.views.runs import run_reader


@never_cache
@require_GET
def healthz(request):
    status = health_status()
    return JsonResponse(status, status=200 if status["status"] == "ok" else 503)


def _workers() -> tuple[list[dict], str]:
    from training.selectors.workers import cluster_workers

    try:
        return cluster_workers(), ""
    except Exception as exc:  # the broker is down: the page says so
        return [], f"could not ask the broker: {type(exc).__name__}: {exc}"


@never_cache
@run_reader
@require_GET
def worker_list(request):
    workers, error = _workers()
    return render(request, "training/worker_list.html", {"workers": workers, "error": error})


@never_cache
@run_reader
@require_GET
def worker_list_json(request):
    workers, error = _workers()
    return JsonResponse({"workers": workers, "error": error or None}, status=503 if error else 200)
