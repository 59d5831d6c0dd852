"""/api/runs/: list (filters, pages), detail, launch, cancel, re-run, promote, artifacts (zip)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from training.api.filters import RunFilter
from training.api.permissions import PROMOTE, VIEW_RUN, ModelPermissions, requires
from training.api.serializers.common import error_responses
from training.api.serializers.registry import PromoteRequestSerializer, PromotionRefusedSerializer
from training.api.serializers.runs import (
    PromotionSerializer,
    RunDetailSerializer,
    RunLaunchSerializer,
    RunListSerializer,
    RunNotesSerializer,
    RunRerunSerializer,
)
from training.models import TrainingRun
from training.selectors.runs import training_run_get
from training.selectors.runs_api import (
    training_run_api_detail,
    training_run_api_detail_cached,
    training_run_api_list,
    training_run_artifacts_zip,
    training_run_get_for_api,
)
from training.services.registry import model_promote
from training.services.run_notes import training_run_annotate
from training.services.runs import (
    training_run_cancel,
    training_run_create,
    training_run_rerun,
)

MSG_NO_RUN = "No run #{pk}."


def _detail(run: TrainingRun, code: int = status.HTTP_200_OK) -> Response:
    return Response(RunDetailSerializer(training_run_api_detail(run=run)).data, status=code)


@extend_schema_view(
    list=extend_schema(
        summary="List runs (newest first; ?sort= for the leaderboard orders)",
        responses={200: RunListSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="One run: status, progress, snapshot, report, metrics, error",
        responses={200: RunDetailSerializer, **error_responses(404)},
    ),
)
class RunViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = TrainingRun.objects.none()
    serializer_class = RunListSerializer
    permission_classes = [ModelPermissions]
    filterset_class = RunFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return training_run_api_list()

    def _run(self) -> TrainingRun:
        try:
            run = training_run_get(run_id=int(self.kwargs["pk"]))
        except TrainingRun.DoesNotExist:
            raise NotFound(MSG_NO_RUN.format(pk=self.kwargs["pk"])) from None
        self.check_object_permissions(self.request, run)
        return run

    def retrieve(self, request, pk=None):
        try:
            run = training_run_get_for_api(run_id=int(self.kwargs["pk"]))
        except TrainingRun.DoesNotExist:
            raise NotFound(MSG_NO_RUN.format(pk=self.kwargs["pk"])) from None
        self.check_object_permissions(self.request, run)
        return Response(training_run_api_detail_cached(run=run, serialize=lambda p: RunDetailSerializer(p).data))

    @extend_schema(
        summary="Launch a run",
        request=RunLaunchSerializer,
        responses={201: RunDetailSerializer, **error_responses(400, 503)},
    )
    def create(self, request):
        launch = RunLaunchSerializer(data=request.data)
        launch.is_valid(raise_exception=True)
        run = training_run_create(user=request.user, trigger=TrainingRun.Trigger.API, **launch.validated_data)
        return _detail(run, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel a queued or running run",
        request=None,
        responses={200: RunDetailSerializer, **error_responses(400, 404)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return _detail(training_run_cancel(run=self._run(), user=request.user))

    @extend_schema(
        summary="Edit the run's notes and tags (its settings snapshot never changes)",
        request=RunNotesSerializer,
        responses={200: RunDetailSerializer, **error_responses(400, 404)},
    )
    def partial_update(self, request, pk=None):
        body = RunNotesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = self._run()
        training_run_annotate(run=run, **body.validated_data)
        return _detail(run)

    @extend_schema(
        summary="Run again (same market, profile, preset and seed): from=snapshot with this run's settings, "
        "from=profile (default) with the profile now",
        request=RunRerunSerializer,
        responses={201: RunDetailSerializer, **error_responses(400, 404, 503)},
    )
    @action(detail=True, methods=["post"])
    def rerun(self, request, pk=None):
        body = RunRerunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = training_run_rerun(
            run=self._run(), user=request.user, trigger=TrainingRun.Trigger.API, source=body.validated_data["from"]
        )
        return _detail(run, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Make this succeeded run the active model of its market (409 with the failed checks unless "
        "force=true and a reason)",
        request=PromoteRequestSerializer,
        responses={
            201: PromotionSerializer,
            409: OpenApiResponse(PromotionRefusedSerializer, description="Promotion checks failed."),
            **error_responses(400, 404),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[requires(PROMOTE)])
    def promote(self, request, pk=None):
        body = PromoteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        promotion = model_promote(
            run=self._run(), user=request.user, trigger=TrainingRun.Trigger.API, **body.validated_data
        )
        return Response(PromotionSerializer(promotion).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The run's saved models, plots and manifest as a zip",
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="zip of the artifacts"),
            **error_responses(404),
        },
    )
    @action(detail=True, methods=["get"], permission_classes=[requires(VIEW_RUN)])
    def artifacts(self, request, pk=None):
        run = self._run()
        response = HttpResponse(training_run_artifacts_zip(run=run), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-artifacts.zip"'
        return response
