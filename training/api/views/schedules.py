"""/api/schedules/: scheduled retraining (celery beat), through the schedules service."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from training.api.filters import ScheduleFilter
from training.api.permissions import ModelPermissions
from training.api.serializers.common import error_responses
from training.api.serializers.schedules import ScheduleSerializer
from training.models import RetrainSchedule
from training.services.schedules import schedule_create, schedule_delete, schedule_update


@extend_schema_view(
    list=extend_schema(summary="List retrain schedules"),
    retrieve=extend_schema(summary="One retrain schedule", responses={200: ScheduleSerializer, **error_responses(404)}),
    create=extend_schema(
        summary="Create a retrain schedule", responses={201: ScheduleSerializer, **error_responses(400)}
    ),
    update=extend_schema(
        summary="Replace a schedule", responses={200: ScheduleSerializer, **error_responses(400, 404)}
    ),
    partial_update=extend_schema(
        summary="Change a schedule", responses={200: ScheduleSerializer, **error_responses(400, 404)}
    ),
    destroy=extend_schema(
        summary="Delete a schedule (and its beat task)", responses={204: None, **error_responses(404)}
    ),
)
class ScheduleViewSet(viewsets.ModelViewSet):
    queryset = RetrainSchedule.objects.none()
    serializer_class = ScheduleSerializer
    permission_classes = [ModelPermissions]
    filterset_class = ScheduleFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return RetrainSchedule.objects.select_related("profile", "created_by").order_by("id")

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        schedule = schedule_create(**data.validated_data, user=request.user)
        return Response(self.get_serializer(schedule).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, partial: bool = False, **kwargs):
        schedule = self.get_object()
        data = self.get_serializer(schedule, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        return Response(self.get_serializer(schedule_update(schedule=schedule, data=dict(data.validated_data))).data)

    def destroy(self, request, *args, **kwargs):
        schedule_delete(schedule=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
