"""/api/schema/ validates as OpenAPI 3, documents every response, and /api/docs/ loads its assets locally."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(anonymous_api):
    response = anonymous_api.get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_schema_is_valid_openapi(schema):
    validate(schema)
    assert schema["openapi"].startswith("3.")


def test_every_operation_documents_success_and_auth_errors(schema):
    seen = set()
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        assert any(code.startswith("2") for code in codes), (path, method)
        assert {"401", "403"} <= codes, (path, method, codes)
        if "{" in path:
            assert "404" in codes, (path, method, codes)
        if method in ("post", "put", "patch") and not path.endswith(("/cancel/", "/promote/")):
            assert "400" in codes, (path, method, codes)
        seen.add((method, path))
    for expected in (
        ("get", "/api/runs/"),
        ("post", "/api/runs/"),
        ("get", "/api/runs/{id}/"),
        ("post", "/api/runs/{id}/cancel/"),
        ("post", "/api/runs/{id}/rerun/"),
        ("post", "/api/runs/{id}/promote/"),
        ("get", "/api/profiles/"),
        ("patch", "/api/profiles/{id}/"),
        ("post", "/api/datasets/import/"),
        ("get", "/api/models/{exchange}/{symbol}/{interval}/"),
        ("post", "/api/models/{exchange}/{symbol}/{interval}/predict/"),
        ("post", "/api/schedules/"),
    ):
        assert expected in seen, expected


def test_token_and_session_auth_are_declared(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"]["in"] == "header" and "cookieAuth" in schemes


def test_docs_page_serves_its_assets_locally(anonymous_api, client):
    page = anonymous_api.get(reverse("api:docs")).content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("/static/drf_spectacular_sidecar/") for a in assets if a.endswith(".js")), assets
    assert "cdn" not in page.lower() and "https://" not in page
    for asset in assets:
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset


def _ref(prop: dict) -> str:
    """The component a property points at (directly, through allOf, as list items or as dict values)."""
    for candidate in (
        prop,
        *(prop.get("allOf") or []),
        prop.get("items") or {},
        prop.get("additionalProperties") or {},
    ):
        if isinstance(candidate, dict) and "$ref" in candidate:
            return candidate["$ref"].rsplit("/", 1)[-1]
    return ""


def test_the_run_detail_names_the_fields_of_the_result_and_the_report(schema):
    """The output serializers are built from the typed records: each record's component has exactly its fields."""
    from dataclasses import fields

    from training.ml.results import (
        BackendReport,
        EnsembleResult,
        ModelResult,
        ParamRow,
        RegimeResult,
        RegularizationReport,
        RunResult,
    )

    components = schema["components"]["schemas"]
    detail = components["RunDetail"]["properties"]
    assert _ref(detail["result"]) == "RunResult" and _ref(detail["report"]) == "RegularizationReport"
    for record in (RunResult, RegimeResult, ModelResult, EnsembleResult, RegularizationReport, BackendReport, ParamRow):
        assert set(components[record.__name__]["properties"]) == {f.name for f in fields(record)}, record
    assert _ref(components["RunResult"]["properties"]["ensembles"]) == "RegimeResult"
    assert _ref(components["RegimeResult"]["properties"]["models"]) == "ModelResult"
    assert _ref(components["RegularizationReport"]["properties"]["backends"]) == "BackendReport"
    assert _ref(components["BackendReport"]["properties"]["params"]) == "ParamRow"


def test_the_result_names_the_verdict_and_each_backends_evidence(schema):
    """``vs_baseline`` is the ``Verdict`` record; a model's ``evidence`` is one of the registered backends'
    evidence records, each with exactly its declared keys (what a run stores)."""
    from dataclasses import fields

    from training.ml.backends import backend_classes
    from training.ml.results import Verdict

    components = schema["components"]["schemas"]
    for record in ("ModelResult", "EnsembleResult"):
        assert _ref(components[record]["properties"]["vs_baseline"]) == "Verdict"
    assert set(components["Verdict"]["properties"]) == {f.name for f in fields(Verdict)}
    assert _ref(components["ModelResult"]["properties"]["evidence"]) == "Evidence"
    options = {option["$ref"].rsplit("/", 1)[-1] for option in components["Evidence"]["oneOf"]}
    declared = {cls.evidence_type.__name__: cls.evidence_type for cls in backend_classes()}
    assert options == set(declared)
    for name, evidence in declared.items():
        assert set(components[name]["properties"]) == set(evidence.declared()), name
