"""/api/profiles/: list, detail (with the validation report), create, update — through the profiles service."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from training.api.permissions import ModelPermissions
from training.api.serializers.common import error_responses
from training.api.serializers.profiles import ProfileCreateSerializer, ProfileDetailSerializer, ProfileSerializer
from training.models import RegularizationProfile
from training.selectors.profiles import profile_list
from training.services.profiles import profile_create, profile_update


@extend_schema_view(
    list=extend_schema(summary="List profiles"),
    retrieve=extend_schema(
        summary="One profile with its validation report",
        responses={200: ProfileDetailSerializer, **error_responses(404)},
    ),
)
class ProfileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = RegularizationProfile.objects.none()
    serializer_class = ProfileSerializer
    permission_classes = [ModelPermissions]
    filterset_fields = ["is_default"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return profile_list().order_by("name")

    def get_serializer_class(self):
        return ProfileDetailSerializer if self.action == "retrieve" else ProfileSerializer

    @extend_schema(
        summary="Create a profile (validated like the admin form)",
        request=ProfileCreateSerializer,
        responses={201: ProfileDetailSerializer, **error_responses(400)},
    )
    def create(self, request):
        data = ProfileCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        profile = profile_create(
            name=values.pop("name"),
            description=values.pop("description", ""),
            is_default=values.pop("is_default", False),
            values=values,
            user=request.user,
        )
        return Response(ProfileDetailSerializer(profile).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a profile's values",
        request=ProfileSerializer,
        responses={200: ProfileDetailSerializer, **error_responses(400, 404)},
    )
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(
        summary="Change some of a profile's values",
        request=ProfileSerializer,
        responses={200: ProfileDetailSerializer, **error_responses(400, 404)},
    )
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool) -> Response:
        profile = self.get_object()
        data = ProfileSerializer(profile, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        profile = profile_update(profile=profile, data=dict(data.validated_data), user=request.user)
        return Response(ProfileDetailSerializer(profile).data)
