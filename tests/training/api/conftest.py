"""API test users at the four permission levels (anonymous, none, view-only, full) and their DRF clients."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

API_MODELS = (
    "trainingrun",
    "regularizationprofile",
    "marketdataset",
    "activemodel",
    "promotion",
    "retrainschedule",
)


def perms(*actions: str) -> list[Permission]:
    codenames = [f"{action}_{model}" for action in actions for model in API_MODELS]
    return list(Permission.objects.filter(content_type__app_label="training", codename__in=codenames))


def api_user(username: str, *actions: str) -> User:
    user = User.objects.create_user(username=username, password="pw-123-secret")
    user.user_permissions.add(*perms(*actions))
    return user


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def anonymous_api():
    return APIClient()


@pytest.fixture
def noperm_api(db):
    return client_for(api_user("nobody"))


@pytest.fixture
def viewer_api(db):
    return client_for(api_user("api-viewer", "view"))


@pytest.fixture
def full_user(db):
    return api_user("api-full", "view", "add", "change", "delete")


@pytest.fixture
def full_api(full_user):
    return client_for(full_user)


@pytest.fixture
def clients(anonymous_api, noperm_api, viewer_api, full_api):
    return {"anonymous": anonymous_api, "noperm": noperm_api, "viewer": viewer_api, "full": full_api}


from tests.training.trained_run import TRAIN_PRESET, make_trained_run, trained_artifacts, trained_run  # noqa: E402, F401
