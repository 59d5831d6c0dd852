"""Every API error is JSON: DRF's own (``{"detail": …}``; 400 ``{field: [messages]}``), plus the services'
exceptions mapped to statuses here, and a JSON 404 for unknown /api/ paths."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from training.ml.predict import ModelUnavailable, PredictionError
from training.selectors.predictions import NoCandles
from training.selectors.registry import ActiveModelNotFound
from training.selectors.runs_api import NoArtifacts
from training.services.registry import PromotionRefused
from training.services.runs import TrainingRunEnqueueFailed

MSG_NOT_FOUND = "No API endpoint at {path}; the schema is at /api/schema/ and the docs at /api/docs/."
NON_FIELD = "non_field_errors"


def _django_validation(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {(NON_FIELD if k == "__all__" else k): v for k, v in exc.message_dict.items()}
    return {NON_FIELD: exc.messages}


def promotion_refused(exc: PromotionRefused) -> Response:
    """409: the guard's failed checks (and all checks) as JSON; resend with ``force=true`` and a ``reason``."""
    return Response(
        {
            "detail": exc.messages[0],
            "failed_checks": [check.to_dict() for check in exc.failed],
            "checks": [check.to_dict() for check in exc.checks],
        },
        status=status.HTTP_409_CONFLICT,
    )


def exception_handler(exc, context):
    if isinstance(exc, PromotionRefused):
        return promotion_refused(exc)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(_django_validation(exc))
    elif isinstance(exc, TrainingRunEnqueueFailed):
        return Response({"detail": str(exc), "run": exc.run.pk}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    elif isinstance(exc, (ActiveModelNotFound, NoCandles, NoArtifacts)):
        return Response({"detail": str(exc.args[0])}, status=status.HTTP_404_NOT_FOUND)
    elif isinstance(exc, ModelUnavailable):
        named = {k: v for k, v in (("regime", exc.regime), ("worker", exc.worker)) if v}
        return Response({"detail": str(exc), **named}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, PredictionError):
        return Response({"candles": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([])
@permission_classes([])
def not_found(request, *args, **kwargs):
    return Response({"detail": MSG_NOT_FOUND.format(path=request.path)}, status=status.HTTP_404_NOT_FOUND)
