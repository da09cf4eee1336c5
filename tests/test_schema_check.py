"""medlab.schema_check: the same verdicts and errors as jsonschema, without importing it for
valid instances."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from jsonschema import Draft202012Validator

from medlab.schema_check import SchemaChecker, checker
from medlab.schemas import SCHEMAS

S = {"type": "string"}
CASES = [
    # (schema, instance): each is checked against jsonschema's own verdict and errors
    ({"type": "integer"}, 1.0),
    ({"type": "integer"}, True),
    ({"type": "number"}, False),
    ({"enum": [1, "a"]}, True),
    ({"const": 0}, False),
    ({"const": {"a": 1}}, {"a": True}),
    ({"not": {"const": 0}}, False),
    ({"pattern": "^[a-z]+$"}, "abc\n"),
    ({"not": {"pattern": "^[a-z]+$"}}, "abc\n"),
    ({"maximum": 0}, True),
    ({"not": {"minimum": 5}}, True),
    ({"not": {"type": "integer", "minimum": 5}}, True),
    ({"minimum": 0, "exclusiveMinimum": -5}, 0),
    ({"oneOf": [{"minimum": 0, "exclusiveMinimum": -5}, {"const": 0}]}, 0),
    ({"oneOf": [{"pattern": "^a$"}, {"pattern": "^a\n$"}]}, "a\n"),
    ({"oneOf": [{"required": ["question"]}, {"required": ["messages"]}]}, {"question": "x"}),
    ({"oneOf": [{"required": ["question"]}, {"required": ["messages"]}]}, {}),
    ({"if": {"maximum": 0}, "then": {"type": "integer"}, "else": S}, True),
    ({"if": {"pattern": "x$"}, "then": {"minLength": 3}, "else": {"maxLength": 1}}, "x\n"),
    ({"prefixItems": [S], "items": False}, ["a", "b"]),
    ({"type": "array", "items": S, "minItems": 1, "maxItems": 2}, ["a", 1, "c"]),
    ({"contains": {"type": "integer", "exclusiveMinimum": 0}}, [0, -1, True]),
    ({"properties": {"a": S}, "additionalProperties": False, "required": ["a", "b"]}, {"c": 1}),
    ({"patternProperties": {"^x": S}, "additionalProperties": False}, {"x1": "a", "y": 1}),
    ({"$defs": {"s": S}, "properties": {"a": {"$ref": "#/$defs/s"}}}, {"a": 1}),
    ({"multipleOf": 0.1}, 0.3),
    ({"type": "string", "minLength": 2, "maxLength": 3}, "头痛"),
    ({"type": "string", "format": "email"}, "not an email"),
    ({"minProperties": 1, "propertyNames": {"maxLength": 2}}, {"abc": 1}),
]


def _messages(errors) -> list[tuple[str, list, str]]:
    return [(e.validator, list(e.absolute_path), e.message) for e in errors]


@pytest.mark.parametrize("schema, instance", CASES)
def test_same_verdict_and_errors_as_jsonschema(schema, instance):
    expected = Draft202012Validator(schema).iter_errors(instance)
    assert _messages(SchemaChecker(schema).iter_errors(instance)) == _messages(expected)
    assert SchemaChecker(schema).is_valid(instance) == Draft202012Validator(schema).is_valid(
        instance
    )


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_answer_schemas_agree_on_valid_and_broken_answers(name):
    schema = SCHEMAS[name]
    broken = [{}, {"summary": ""}, {"summary": "x" * 1000, "analysis": [], "extra": 1}, []]
    for value in broken:
        expected = _messages(Draft202012Validator(schema).iter_errors(value))
        assert _messages(checker(schema).iter_errors(value)) == expected


def test_checker_is_cached_per_schema_and_keeps_its_own_copy():
    schema = {"type": "object", "required": ["a"]}
    first = checker(schema)
    assert checker(json.loads(json.dumps(schema))) is first
    schema["required"] = ["b"]  # the caller's dict changes: the compiled checker does not
    assert first.is_valid({"a": 1})
    assert checker(schema) is not first


def test_valid_eval_sets_and_answers_do_not_import_jsonschema():
    code = (
        "import sys\n"
        "from medlab.evalsets import list_eval_sets, load_items\n"
        "from medlab.validate import validate_answer\n"
        "n = sum(len(load_items(name)) for name in list_eval_sets())\n"
        'ok = \'{"summary": "可能是感冒", "analysis": ["a"], "suggestions": ["b"]}\'\n'
        "assert validate_answer(ok) == [], validate_answer(ok)\n"
        "before = 'jsonschema' in sys.modules\n"
        'bad = validate_answer(\'{"summary": ""}\')\n'
        "print(n, before, 'jsonschema' in sys.modules, sorted(v.code for v in bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    n, before, after, codes = out.stdout.split(maxsplit=3)
    assert int(n) > 100
    assert (before, after) == ("False", "True")  # an invalid answer is explained by jsonschema
    assert codes.strip() == "['empty:summary', 'missing:analysis', 'missing:suggestions']"
