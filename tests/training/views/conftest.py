import pytest
from django.contrib.auth.models import Permission, User

from tests.training.views.real_runs import make_real_run

READ = "view_trainingrun"
LAUNCH = "add_trainingrun"
CHANGE = "change_trainingrun"


def make_user_with(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username=username, password="pw-123-secret")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="training", codename__in=codenames))
    return user


@pytest.fixture
def stranger(db):
    """Logged in, but without any permission on runs."""
    return make_user_with("stranger")


@pytest.fixture
def stranger_client(client, stranger):
    client.force_login(stranger)
    return client


@pytest.fixture
def real_run(transactional_db, profile, dataset, launcher):
    return make_real_run(profile, dataset, user=launcher)
