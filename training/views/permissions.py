"""Page permissions that say which permission a refused user should ask for (the 403 page names it)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


class MissingPermission(PermissionDenied):
    def __init__(self, permission: str) -> None:
        super().__init__(permission)
        self.permission = permission


def permission_label(permission: str) -> str:
    """ "training.add_retrainschedule" → its name in the admin ("Can add retrain schedule"), else the code."""
    from django.contrib.auth.models import Permission

    app_label, _, codename = permission.partition(".")
    found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
    return found.name if found else permission


def needs_permission(permission: str):
    """Anonymous users go to the login page; a logged-in user without ``permission`` gets the 403 page naming it."""

    def decorate(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if not request.user.has_perm(permission):
                raise MissingPermission(permission)
            return view(request, *args, **kwargs)

        return login_required(checked)

    return decorate
