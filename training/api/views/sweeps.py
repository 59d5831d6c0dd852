"""/api/sweeps/<id>/ (status, runs, points, best, objective) and /api/sweeps/<id>/save-profile/."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from training.api.permissions import VIEW_RUN, requires
from training.api.serializers.common import error_responses
from training.api.serializers.sweeps import (
    SavedProfileSerializer,
    SaveProfileSerializer,
    SweepDetailSerializer,
    SweepLaunchSerializer,
)
from training.models import Sweep
from training.selectors.sweeps import sweep_api_payload, sweep_get
from training.services.sweeps import sweep_create, sweep_reconcile, sweep_save_best_profile

MSG_NO_SWEEP = "No sweep #{pk}."
ADD_PROFILE = "training.add_regularizationprofile"
LAUNCH = "training.add_trainingrun"


class SweepViewSet(viewsets.GenericViewSet):
    """Sweeps are read like runs (``view_trainingrun``); saving the best point needs ``add_regularizationprofile``."""

    queryset = Sweep.objects.none()
    serializer_class = SweepDetailSerializer
    permission_classes = [requires(VIEW_RUN)]
    lookup_value_regex = r"\d+"

    def get_permissions(self):
        if self.action == "create":
            return [requires(VIEW_RUN, LAUNCH)()]
        return super().get_permissions()

    def _sweep(self, *, reconcile: bool = False) -> Sweep:
        """A GET writes nothing; a POST reconciles first."""
        try:
            sweep = sweep_get(sweep_id=int(self.kwargs["pk"]))
        except Sweep.DoesNotExist:
            raise NotFound(MSG_NO_SWEEP.format(pk=self.kwargs["pk"])) from None
        return sweep_reconcile(sweep=sweep) if reconcile else sweep

    @extend_schema(
        summary="One sweep: status, runs, points (values, run, objective, per-backend summary), best, objective",
        responses={200: SweepDetailSerializer, **error_responses(404)},
    )
    def retrieve(self, request, pk=None):
        return Response(SweepDetailSerializer(sweep_api_payload(sweep=self._sweep())).data)

    @extend_schema(
        summary="Launch a sweep (every axis checked for what it reaches, as on the form and the command line)",
        request=SweepLaunchSerializer,
        responses={201: SweepDetailSerializer, **error_responses(400)},
    )
    def create(self, request):
        data = SweepLaunchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sweep = sweep_create(user=request.user, **data.validated_data)
        return Response(SweepDetailSerializer(sweep_api_payload(sweep=sweep)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Save the best point as a new profile",
        request=SaveProfileSerializer,
        responses={201: SavedProfileSerializer, **error_responses(400, 404)},
    )
    @action(
        detail=True, methods=["post"], url_path="save-profile", permission_classes=[requires(VIEW_RUN, ADD_PROFILE)]
    )
    def save_profile(self, request, pk=None):
        data = SaveProfileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = sweep_save_best_profile(
            sweep=self._sweep(reconcile=True), name=data.validated_data["name"], user=request.user
        )
        return Response(SavedProfileSerializer(profile).data, status=status.HTTP_201_CREATED)
