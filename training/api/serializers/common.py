"""Shapes of the error answers, for the schema (every response of every endpoint is documented)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class EnqueueFailedSerializer(ErrorSerializer):
    run = serializers.IntegerField(help_text="The run that was stored as failed.")


DESCRIPTIONS = {
    400: "Invalid input: messages per field (`non_field_errors` for the request as a whole).",
    401: "No valid credentials (send `Authorization: Token <key>` or log in).",
    403: "Authenticated, but without the Django model permission this endpoint needs.",
    404: "Not found.",
    409: "The model cannot answer this request.",
    412: "The If-Match ETag names an older version: `detail` says who changed it and when, `current` its values.",
    428: "If-Match is required: send the ETag of the version you read (GET answers it).",
    503: "The task broker (Redis) is unreachable; the run was stored as failed.",
}


def error_responses(*codes: int) -> dict:
    """OpenAPI responses for 401 and 403 (always) and the given extra codes."""
    out = {}
    for code in (401, 403, *codes):
        if code in (400, 412):
            out[code] = OpenApiResponse(OpenApiTypes.OBJECT, description=DESCRIPTIONS[400])
        elif code == 503:
            out[code] = OpenApiResponse(EnqueueFailedSerializer, description=DESCRIPTIONS[503])
        else:
            out[code] = OpenApiResponse(ErrorSerializer, description=DESCRIPTIONS[code])
    return out
