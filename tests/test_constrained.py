"""Structured (JSON Schema constrained) generation on the random-weight tiny-qwen2 stand-in.

A model with random weights has no idea what JSON is, so every valid answer here is the
constraint's doing. The schema is a local bounded copy of the consultation shape: strings and
arrays are bounded so that even a model that never "wants" to close a string must.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from medlab.models import constrained
from medlab.schemas import SCHEMAS
from medlab.types import GenerationParams
from medlab.validate import validate_answer

TEXT = {"type": "string", "maxLength": 200}
CONSULTATION = {
    "type": "object",
    "properties": {
        "summary": TEXT,
        "analysis": {"type": "array", "items": TEXT, "maxItems": 5},
        "suggestions": {"type": "array", "items": TEXT, "maxItems": 5},
    },
    "required": ["summary", "analysis", "suggestions"],
    "additionalProperties": False,
}
QUESTIONS = [f"问题{i}：我头痛{i + 1}天了，还有点发烧，需要去医院吗？" for i in range(20)]


@pytest.mark.slow
def test_twenty_of_twenty_answers_pass_the_shipped_consultation_schema(tiny_model):
    # the schema the chatbot and the runner use (1-8 items, strings <= 300-400 characters);
    # the budget is far above what the bounded strings need, so only the end token can end one
    schema = SCHEMAS["consultation"]
    params = GenerationParams(temperature=0.3, top_p=0.9, max_new_tokens=6000, seed=0)
    tiny_model.batch_size = 20
    try:
        answers = tiny_model.generate(
            [[{"role": "user", "content": q}] for q in QUESTIONS], params, schema=schema
        )
    finally:
        tiny_model.batch_size = 16
    assert len(answers) == 20
    for answer in answers:
        value = json.loads(answer.text)  # strict: the whole text is one JSON object
        jsonschema.validate(value, schema)
        assert validate_answer(answer.text, schema="consultation") == []
        assert answer.finish_reason == "stop"  # ended by the end token once the JSON closed
        assert 0 < answer.ttft_s <= answer.latency_s


def test_greedy_structured_batched_equals_one_by_one(tiny_model):
    params = GenerationParams(temperature=0, max_new_tokens=40, repetition_penalty=3.0)
    conversations = [[{"role": "user", "content": q}] for q in QUESTIONS[:3]]
    batched = tiny_model.generate(conversations, params, schema=CONSULTATION)
    one_by_one = [tiny_model.generate([c], params, schema=CONSULTATION)[0] for c in conversations]
    assert [a.text for a in batched] == [a.text for a in one_by_one]
    assert all(a.text.startswith('{"') for a in batched)


def test_budget_hit_before_the_json_closes_reports_length(tiny_model):
    params = GenerationParams(temperature=0, max_new_tokens=6)
    (answer,) = tiny_model.generate([[{"role": "user", "content": "头痛"}]], params, CONSULTATION)
    assert answer.finish_reason == "length"
    assert answer.completion_tokens == 6
    assert answer.text.startswith("{")
    with pytest.raises(json.JSONDecodeError):  # truncated JSON is reported, not repaired
        json.loads(answer.text)


def test_schema_is_compiled_once_per_tokenizer(tiny_model):
    vocab = tiny_model.model.config.vocab_size
    first = constrained.compile_schema(CONSULTATION, tiny_model.tokenizer, vocab)
    assert constrained.compile_schema(dict(CONSULTATION), tiny_model.tokenizer, vocab) is first
    assert constrained.schema_json(CONSULTATION) in constrained.compile_seconds


def test_fields_are_written_in_the_schema_order(tiny_model):
    # the prompts ask for the summary first; a grammar built from sorted keys would put
    # "analysis" first and contradict the prompt's own example
    params = GenerationParams(temperature=0, max_new_tokens=4)
    (answer,) = tiny_model.generate([[{"role": "user", "content": "头痛"}]], params, CONSULTATION)
    assert answer.text.startswith('{"summary": "')
    swapped = {**CONSULTATION, "properties": dict(reversed(CONSULTATION["properties"].items()))}
    (answer,) = tiny_model.generate([[{"role": "user", "content": "头痛"}]], params, swapped)
    assert answer.text.startswith('{"suggestions"')


@pytest.mark.parametrize(
    ("schema", "error", "match"),
    [
        ({"type": "object", "properties": {"a": {"type": "strin"}}}, ValueError, "invalid JSON"),
        ("not json", json.JSONDecodeError, None),
        ([1, 2], TypeError, "JSON Schema dict"),
    ],
)
def test_bad_schemas_are_clear_errors(tiny_model, schema, error, match):
    with pytest.raises(error, match=match):
        constrained.compile_schema(schema, tiny_model.tokenizer, 151_665)
