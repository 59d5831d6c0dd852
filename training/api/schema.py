"""The OpenAPI generator: drf-spectacular's AutoSchema, plus the error answers every endpoint can give (401 and
403 everywhere, 404 where the path names an object, 400 where a body is read), so the schema documents all."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

from training.api.serializers.common import DESCRIPTIONS, ErrorSerializer


class ApiSchema(AutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        codes = [401, 403]
        if "{" in self.path:
            codes.append(404)
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append(400)
        error = {"application/json": {"schema": self.resolve_serializer(ErrorSerializer, "response").ref}}
        fields = {"application/json": {"schema": {"type": "object", "additionalProperties": {}}}}
        for code in codes:
            operation["responses"].setdefault(
                str(code), {"content": fields if code == 400 else error, "description": DESCRIPTIONS[code]}
            )
        return operation
