"""The answer schemas: valid draft 2020-12, exact and bounded so constrained decoding ends."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from medlab.prompts import list_prompts
from medlab.schemas import SCHEMAS, get_schema, schema_name
from medlab.validate import schema_violations


def _nodes(schema: dict[str, Any], path: str = "$"):
    yield path, schema
    for key, sub in schema.get("properties", {}).items():
        yield from _nodes(sub, f"{path}.{key}")
    if "items" in schema:
        yield from _nodes(schema["items"], f"{path}[]")


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_is_valid_exact_and_bounded(name):
    schema = SCHEMAS[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"].endswith("2020-12/schema")
    for path, node in _nodes(schema):
        kind = node["type"]
        if kind == "object":
            assert node["additionalProperties"] is False, path
            assert set(node["required"]) == set(node["properties"]), path
        elif kind == "string":
            assert 1 <= node["minLength"] <= node["maxLength"] <= 400, path
        elif kind == "array":
            assert 1 <= node["minItems"] <= node["maxItems"] <= 10, path
        elif kind == "integer":
            assert node["minimum"] == 0 and node["maximum"] == 130, path
        elif kind == "boolean":  # bounded by nature (a rubric verdict)
            pass
        else:
            pytest.fail(f"{path}: unexpected type {kind}")


def test_the_contract_shapes():
    assert list(SCHEMAS["consultation"]["properties"]) == ["summary", "analysis", "suggestions"]
    assert list(SCHEMAS["emr_extraction"]["properties"]) == [
        "patient_age",
        "diagnosis",
        "key_findings",
    ]
    ok = {"summary": "疑似感冒", "analysis": ["病毒感染"], "suggestions": ["多喝水"]}
    assert schema_violations(ok, "consultation") == []
    emr = {"patient_age": 0, "diagnosis": "新生儿黄疸", "key_findings": ["皮肤黄染"]}
    assert schema_violations(emr, "emr_extraction") == []


def test_get_schema_returns_a_copy_and_names_unknown_schemas():
    s = get_schema("consultation")
    s["properties"]["summary"]["maxLength"] = 1
    assert SCHEMAS["consultation"]["properties"]["summary"]["maxLength"] == 400
    assert get_schema(s) is s
    with pytest.raises(KeyError, match="consultation, emr_extraction"):
        get_schema("consult")
    assert schema_name(SCHEMAS["emr_extraction"]) == "emr_extraction"
    assert schema_name("consultation") == "consultation" and schema_name(None) is None


@pytest.mark.parametrize("prompt", list_prompts(), ids=lambda p: p.ref)
def test_each_prompt_shows_exactly_its_schema_keys(prompt):
    """Every JSON example in a prompt's text names exactly the keys its schema requires (a
    prompt may show several examples, and may mention a lone brace in its instructions)."""
    decoder = json.JSONDecoder()
    examples = []
    for at, char in enumerate(prompt.text):
        if char != "{" or any(start < at < end for start, end, _ in examples):
            continue
        try:
            value, end = decoder.raw_decode(prompt.text, at)
        except ValueError:
            continue
        if isinstance(value, dict):
            examples.append((at, end, value))
    assert examples, f"{prompt.ref} shows no JSON example"
    for _, _, value in examples:
        assert set(value) == set(SCHEMAS[prompt.schema]["required"])
