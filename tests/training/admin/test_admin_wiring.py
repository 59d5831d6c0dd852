"""Each admin area declares its own actions on its own classes: nothing patches another area's admin through the
admin site's private registry, and the training app's ready() wires no admin."""

import inspect
import re
from pathlib import Path

from django.contrib import admin
from django.contrib.auth import get_user_model

from training.admin.api_tokens import AresUserAdmin, create_api_token
from training.admin.registry import promote_runs
from training.admin.runs import train_symbol_with_profile
from training.apps import TrainingConfig
from training.models import RegularizationProfile, TrainingRun

REPO_ROOT = Path(__file__).resolve().parents[3]
PRIVATE_REGISTRY = re.compile(r"\bsite\._registry\b|\._registry\[")


def test_no_source_file_reads_the_admin_sites_private_registry():
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for folder in ("ares_site", "training", "scripts", "bench", "tests")
        for path in sorted((REPO_ROOT / folder).rglob("*.py"))
        if path.resolve() != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if PRIVATE_REGISTRY.search(line)
    ]
    assert offenders == []


def test_ready_wires_no_admin():
    assert "admin" not in inspect.getsource(TrainingConfig.ready)


def test_each_action_is_declared_on_the_admin_class_it_belongs_to():
    assert train_symbol_with_profile in type(admin.site.get_model_admin(RegularizationProfile)).actions
    assert promote_runs in type(admin.site.get_model_admin(TrainingRun)).actions
    user_admin = admin.site.get_model_admin(get_user_model())
    assert type(user_admin) is AresUserAdmin and create_api_token in AresUserAdmin.actions
    assert "api_token" in AresUserAdmin.readonly_fields
