import pytest
from django.contrib.auth.models import Permission


@pytest.fixture
def staff_user(django_user_model):
    user = django_user_model.objects.create_user("editor", password="pw-editor-1", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="training", content_type__model="regularizationprofile")
    )
    return user


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client
