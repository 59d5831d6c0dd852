"""Refuses query values that crash Django's own views with a 500 instead of a 400."""

from __future__ import annotations

from django.http import HttpResponseBadRequest

TO_FIELD_VAR = "_to_field"
MSG_EMPTY_TO_FIELD = "Empty _to_field."


class AdminToFieldGuardMiddleware:
    """The admin's change and delete views look up `?_to_field=` (an empty value included) as a model field
    and raise FieldDoesNotExist, a 500. An empty one is refused with a 400 here; others the admin checks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/") and TO_FIELD_VAR in request.GET and not request.GET[TO_FIELD_VAR]:
            return HttpResponseBadRequest(MSG_EMPTY_TO_FIELD)
        return self.get_response(request)
