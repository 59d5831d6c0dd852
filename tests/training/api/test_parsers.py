import json

import pytest
from django.urls import reverse

from training.api.parsers import MAX_JSON_DEPTH, MSG_JSON_TOO_DEEP, json_depth

pytestmark = pytest.mark.django_db


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def test_depth_counts_arrays_and_objects_and_skips_strings():
    assert json_depth(b"1") == 0 and json_depth(b'{"a": [1, {"b": 2}]}') == 3
    assert json_depth(json.dumps({"name": '[[[[{{{{ \\" ]]'}).encode()) == 1


@pytest.mark.parametrize("path", ["api:profile-list", "api:run-list"])
def test_a_body_nested_100000_deep_is_a_400_with_a_message(full_api, path):
    body = "[" * 100_000 + "]" * 100_000
    response = full_api.generic("POST", reverse(path), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": MSG_JSON_TOO_DEEP.format(limit=MAX_JSON_DEPTH)}


def test_a_body_at_the_limit_is_parsed(full_api):
    response = full_api.generic(
        "POST", reverse("api:profile-list"), nested(MAX_JSON_DEPTH), content_type="application/json"
    )
    assert response.status_code == 400 and "name" in response.json()  # parsed, then refused for what it says
