"""/api/profiles/: list, detail (with the validation report), create, update — through the profiles service.

The detail answers an ``ETag`` naming the profile's version; PUT and PATCH must send it back in ``If-Match``
(428 without it, 412 when the profile was saved since, with who, when and its current values)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from training.api.permissions import ModelPermissions
from training.api.serializers.common import error_responses
from training.api.serializers.profiles import ProfileCreateSerializer, ProfileDetailSerializer, ProfileSerializer
from training.models import RegularizationProfile
from training.selectors.profiles import profile_list
from training.services.profile_versions import StaleProfile, profile_stale_message
from training.services.profiles import profile_create, profile_update

MSG_IF_MATCH_REQUIRED = (
    "Send the profile's ETag (from GET /api/profiles/{pk}/) in an If-Match header: a change based on a version "
    "you have not read could undo someone else's."
)
ETAG_FORMAT = '"profile-{pk}-v{version}"'


def profile_etag(profile: RegularizationProfile) -> str:
    return ETAG_FORMAT.format(pk=profile.pk, version=profile.version)


def _if_match_version(header: str, pk: int) -> int | None:
    """The version named by an If-Match header for this profile (weak or strong), None when it names none."""
    for tag in (t.strip().removeprefix("W/") for t in header.split(",")):
        prefix = f'"profile-{pk}-v'
        if tag.startswith(prefix) and tag.endswith('"') and tag[len(prefix) : -1].isdigit():
            return int(tag[len(prefix) : -1])
    return None


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

    def retrieve(self, request, pk=None):
        profile = self.get_object()
        return Response(ProfileDetailSerializer(profile).data, headers={"ETag": profile_etag(profile)})

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
        return Response(
            ProfileDetailSerializer(profile).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": profile_etag(profile)},
        )

    @extend_schema(
        summary="Replace a profile's values (If-Match: the ETag of the version you read)",
        request=ProfileSerializer,
        responses={200: ProfileDetailSerializer, **error_responses(400, 404, 412, 428)},
    )
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(
        summary="Change some of a profile's values (If-Match: the ETag of the version you read)",
        request=ProfileSerializer,
        responses={200: ProfileDetailSerializer, **error_responses(400, 404, 412, 428)},
    )
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool) -> Response:
        profile = self.get_object()
        seen = _if_match_version(request.headers.get("If-Match", ""), profile.pk)
        if seen is None:
            detail = MSG_IF_MATCH_REQUIRED.format(pk=profile.pk)
            return Response({"detail": detail}, status=status.HTTP_428_PRECONDITION_REQUIRED)
        if seen != profile.version:
            return self._stale(profile, profile_stale_message(current=profile, seen=seen, submitted=request.data))
        data = ProfileSerializer(profile, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        try:
            profile = profile_update(
                profile=profile, data=dict(data.validated_data), user=request.user, expected_version=seen
            )
        except StaleProfile as exc:
            return self._stale(exc.current, exc.messages[0])
        return Response(ProfileDetailSerializer(profile).data, headers={"ETag": profile_etag(profile)})

    @staticmethod
    def _stale(current: RegularizationProfile, message: str) -> Response:
        body = {"detail": message, "current": ProfileSerializer(current).data}
        return Response(body, status=status.HTTP_412_PRECONDITION_FAILED, headers={"ETag": profile_etag(current)})
