"""The cross-market robustness page of a profile (against a reference profile, for one preset)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from training.models import RegularizationProfile
from training.selectors import runs as run_selectors
from training.selectors.robustness import profile_robustness
from training.url_converters import parse_id
from training.views.runs import run_reader

MSG_PICK_TWO = "Pick a profile and a different reference profile to compare it with."


@run_reader
@require_GET
def robustness(request):
    profiles = list(RegularizationProfile.objects.order_by("name"))
    by_id = {p.pk: p for p in profiles}
    profile = by_id.get(parse_id(request.GET.get("profile")))
    reference = by_id.get(parse_id(request.GET.get("reference")))
    presets = run_selectors.preset_names()
    preset = request.GET.get("preset") if request.GET.get("preset") in presets else "quick"
    table, problem = None, ""
    if profile is not None and reference is not None and profile != reference:
        table = profile_robustness(profile=profile, reference=reference, preset=preset)
    elif request.GET.get("profile") or request.GET.get("reference"):
        problem = MSG_PICK_TWO
    context = {
        "profiles": profiles,
        "presets": presets,
        "profile": profile,
        "reference": reference,
        "preset": preset,
        "table": table,
        "problem": problem,
    }
    return render(request, "training/robustness.html", context)
