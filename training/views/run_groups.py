"""Group pages: launch one run per market in one go, and follow the group (each market's progress and verdicts)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from training.forms.run_groups import RunGroupLaunchForm
from training.models import RunGroup
from training.selectors import runs as run_selectors
from training.selectors.run_groups import run_group_get, run_group_page
from training.selectors.run_summary import preset_durations
from training.services.run_groups import MSG_GROUP_LAUNCHED, RunGroupEnqueueFailed, run_group_create
from training.views.runs import run_launcher, run_reader


def _get_group(group_id: int) -> RunGroup:
    try:
        return run_group_get(group_id=group_id)
    except RunGroup.DoesNotExist:
        raise Http404(f"No group #{group_id}") from None


@run_launcher
@require_http_methods(["GET", "POST"])
def run_group_new(request):
    initial = {"markets": request.GET.getlist("market"), "trigger": request.GET.get("trigger", "")}
    form = RunGroupLaunchForm(
        request.POST or None, presets=run_selectors.preset_names(), durations=preset_durations(), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            group = run_group_create(
                profile=data["profile"],
                markets=data["markets"],
                preset=data["preset"],
                user=request.user,
                trigger=data["trigger"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        except RunGroupEnqueueFailed as exc:
            messages.error(request, str(exc))
            return redirect("training:run_group_detail", group_id=exc.group.pk)
        else:
            markets = ", ".join(f"{m.symbol} {m.interval}" for m in data["markets"])
            text = MSG_GROUP_LAUNCHED.format(
                pk=group.pk,
                count=len(data["markets"]),
                markets=markets,
                profile=group.profile.name,
                preset=group.preset,
            )
            messages.success(request, text)
            return redirect("training:run_group_detail", group_id=group.pk)
    return render(request, "training/run_group_form.html", {"form": form}, status=400 if form.errors else 200)


@run_reader
@require_GET
def run_group_detail(request, group_id: int):
    page = run_group_page(group=_get_group(group_id))
    return render(request, "training/run_group_detail.html", page)


@run_reader
@require_GET
def run_group_status_json(request, group_id: int):
    page = run_group_page(group=_get_group(group_id))
    runs = [
        {"id": r["run"].pk, "market": r["market"], "status": r["run"].status, "progress": r["run"].progress}
        for r in page["rows"]
    ]
    return JsonResponse({"id": group_id, "status": page["status"], "counts": page["counts"], "runs": runs})
