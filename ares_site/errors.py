"""The 403 page: which permission the page needs, so the user knows what to ask an administrator for."""

from django.http import HttpResponseForbidden
from django.template import loader


def permission_denied(request, exception=None):
    from training.views.permissions import permission_label

    permission = getattr(exception, "permission", None)
    context = {"permission": permission, "permission_label": permission_label(permission) if permission else ""}
    return HttpResponseForbidden(loader.get_template("403.html").render(context, request))
