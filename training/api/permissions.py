"""Django model permissions on every endpoint: view for reads, add/change/delete for writes."""

from __future__ import annotations

from rest_framework.permissions import DjangoModelPermissions, IsAuthenticated


class ModelPermissions(DjangoModelPermissions):
    """DjangoModelPermissions that also requires the view permission for GET/HEAD/OPTIONS."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


def requires(*perms: str) -> type:
    """A permission class: an authenticated user holding every one of ``perms`` (``app_label.codename``)."""

    class HasPerms(IsAuthenticated):
        required = perms

        def has_permission(self, request, view) -> bool:
            return super().has_permission(request, view) and request.user.has_perms(perms)

    HasPerms.__name__ = "Has_" + "_".join(p.split(".")[-1] for p in perms)
    return HasPerms


VIEW_RUN = "training.view_trainingrun"
LAUNCH_RUN = "training.add_trainingrun"
PROMOTE = "training.add_promotion"
VIEW_MODELS = "training.view_activemodel"
VIEW_PROMOTIONS = "training.view_promotion"
IMPORT_CANDLES = "training.change_marketdataset"
