import json

import pytest

from training.located_json import loads


def test_objects_remember_their_lines_and_key_lines():
    doc = loads('{\n  "a": 1,\n  "b": [\n    {"x": 2,\n     "y": null}\n  ]\n}')
    assert doc == {"a": 1, "b": [{"x": 2, "y": None}]}
    assert (doc.line, doc.key_lines) == (1, {"a": 2, "b": 3})
    assert (doc["b"][0].line, doc["b"][0].key_lines) == (4, {"x": 4, "y": 5})


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"a": 1,\n"a": 2}', 2, "Duplicate key 'a'"),
        ('{\n"a": NaN}', 2, "NaN is not a number JSON allows"),
        ('{\n"a" 1}', 2, "Expecting ':' delimiter"),
        ('{"a": 1\n\n"b": 2}', 3, "Expecting ',' delimiter"),
    ],
)
def test_errors_carry_the_line(text, line, message):
    with pytest.raises(json.JSONDecodeError) as exc:
        loads(text)
    assert (exc.value.lineno, exc.value.msg) == (line, message)


def test_same_values_as_the_standard_parser():
    text = json.dumps({"p": [{"n": "x", "v": [1.5, -2, True, None, "é\\n"]}], "e": {}}, indent=1)
    assert loads(text) == json.loads(text)
