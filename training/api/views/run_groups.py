"""/api/run-groups/: launch one run per market as a group, and read a group's status and its runs."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from training.api.permissions import LAUNCH_RUN, VIEW_RUN, requires
from training.api.serializers.common import error_responses
from training.api.serializers.run_groups import RunGroupLaunchSerializer, RunGroupSerializer
from training.models import RunGroup, TrainingRun
from training.selectors.run_groups import run_group_get, run_group_page
from training.services.run_groups import RunGroupEnqueueFailed, run_group_create

MSG_NO_GROUP = "No group #{pk}."


def _page(group: RunGroup) -> dict:
    page = run_group_page(group=group)
    regimes = page["regimes"]
    page["rows"] = [{**row, "verdicts": dict(zip(regimes, row["verdicts"], strict=False))} for row in page["rows"]]
    return page


class RunGroupViewSet(viewsets.ViewSet):
    lookup_value_regex = r"\d+"

    def get_permissions(self):
        return [requires(LAUNCH_RUN if self.action == "create" else VIEW_RUN)()]

    @extend_schema(
        summary="A group: its status and each market's run", responses={200: RunGroupSerializer, **error_responses(404)}
    )
    def retrieve(self, request, pk=None):
        try:
            group = run_group_get(group_id=int(pk))
        except RunGroup.DoesNotExist:
            raise NotFound(MSG_NO_GROUP.format(pk=pk)) from None
        return Response(RunGroupSerializer(_page(group)).data)

    @extend_schema(
        summary="Launch one run per market, queued together as a group (refused whole, with every reason)",
        request=RunGroupLaunchSerializer,
        responses={201: RunGroupSerializer, **error_responses(400, 503)},
    )
    def create(self, request):
        launch = RunGroupLaunchSerializer(data=request.data)
        launch.is_valid(raise_exception=True)
        data = launch.validated_data
        try:
            group = run_group_create(
                profile=data["profile"],
                markets=data["markets"],
                preset=data["preset"],
                seed=data["seed"],
                user=request.user,
                trigger=TrainingRun.Trigger.API,
            )
        except RunGroupEnqueueFailed as exc:
            body = {"detail": str(exc), "group": exc.group.pk}
            return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(RunGroupSerializer(_page(group)).data, status=status.HTTP_201_CREATED)
