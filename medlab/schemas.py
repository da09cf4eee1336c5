"""JSON Schemas (draft 2020-12) of the chatbot's answer shapes.

``consultation`` is the GP-assistant answer ``{"summary", "analysis", "suggestions"}``;
``emr_extraction`` is the medical-record extraction ``{"patient_age", "diagnosis",
"key_findings"}``. Every string and array is bounded (``maxLength``, ``maxItems``) so that
constrained decoding terminates even on a weak model, and ``additionalProperties`` is false so
that the shape is exact. The same dicts serve validation (:mod:`medlab.validate`), constrained
decoding in the transformers backend and ``response_format`` for OpenAI-compatible servers.
"""

from __future__ import annotations

import copy
from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"

# Bounds shared by the schemas, the prompts that describe them and the tests.
SUMMARY_MAX_CHARS = 400
ITEM_MAX_CHARS = 300
MAX_ITEMS = 8
DIAGNOSIS_MAX_CHARS = 200
FINDING_MAX_CHARS = 100
MAX_FINDINGS = 10
MAX_AGE = 130


def _string_list(description: str, max_chars: int, max_items: int) -> dict[str, Any]:
    return {
        "type": "array",
        "description": description,
        "items": {"type": "string", "minLength": 1, "maxLength": max_chars},
        "minItems": 1,
        "maxItems": max_items,
    }


CONSULTATION: dict[str, Any] = {
    "$schema": DRAFT,
    "title": "consultation",
    "description": "Answer of the GP assistant: a summary first, then analysis and advice point by point.",
    "type": "object",
    "properties": {
        "summary": {
            "type": "string",
            "description": "One or two sentences summarising the answer.",
            "minLength": 1,
            "maxLength": SUMMARY_MAX_CHARS,
        },
        "analysis": _string_list(
            "Possible causes and reasoning, one point per item, hedged (疑似/可能).",
            ITEM_MAX_CHARS,
            MAX_ITEMS,
        ),
        "suggestions": _string_list(
            "Concrete advice, one point per item, including when to see a doctor.",
            ITEM_MAX_CHARS,
            MAX_ITEMS,
        ),
    },
    "required": ["summary", "analysis", "suggestions"],
    "additionalProperties": False,
}

EMR_EXTRACTION: dict[str, Any] = {
    "$schema": DRAFT,
    "title": "emr_extraction",
    "description": "Fields extracted from a (long) medical record.",
    "type": "object",
    "properties": {
        "patient_age": {
            "type": "integer",
            "description": "Age in whole years.",
            "minimum": 0,
            "maximum": MAX_AGE,
        },
        "diagnosis": {
            "type": "string",
            "description": "The main (discharge) diagnosis.",
            "minLength": 1,
            "maxLength": DIAGNOSIS_MAX_CHARS,
        },
        "key_findings": _string_list(
            "Key findings as short phrases.", FINDING_MAX_CHARS, MAX_FINDINGS
        ),
    },
    "required": ["patient_age", "diagnosis", "key_findings"],
    "additionalProperties": False,
}

MCQ: dict[str, Any] = {
    "$schema": DRAFT,
    "title": "mcq",
    "description": "The chosen option letter(s) of a multiple-choice exam question.",
    "type": "object",
    "properties": {
        "answer": {
            "type": "string",
            "description": 'Option letter(s), e.g. "B" or "AC" for several.',
            "pattern": "^[A-J]{1,10}$",
            "minLength": 1,
            "maxLength": 10,
        },
    },
    "required": ["answer"],
    "additionalProperties": False,
}

VERDICT_REASON_MAX_CHARS = 60

RUBRIC_VERDICT: dict[str, Any] = {
    "$schema": DRAFT,
    "title": "rubric_verdict",
    "description": "A grader's verdict on one rubric criterion (medlab.judge): the decision first, "
    "so that a reason cut short never loses it.",
    "type": "object",
    "properties": {
        "met": {
            "type": "boolean",
            "description": "Whether the answer does what the criterion says.",
        },
        "reason": {
            "type": "string",
            "description": "Why, in one short sentence.",
            "minLength": 1,
            "maxLength": VERDICT_REASON_MAX_CHARS,
        },
    },
    "required": ["met", "reason"],
    "additionalProperties": False,
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "consultation": CONSULTATION,
    "emr_extraction": EMR_EXTRACTION,
    "mcq": MCQ,
    "rubric_verdict": RUBRIC_VERDICT,
}


def get_schema(schema: str | dict[str, Any]) -> dict[str, Any]:
    """The schema called ``schema`` (a deep copy, safe to modify), or ``schema`` itself if a dict."""
    if isinstance(schema, dict):
        return schema
    try:
        return copy.deepcopy(SCHEMAS[schema])
    except KeyError:
        raise KeyError(
            f"unknown schema {schema!r}; known schemas: {', '.join(sorted(SCHEMAS))}"
        ) from None


def schema_name(schema: str | dict[str, Any] | None) -> str | None:
    """The registry name of ``schema`` (a name or one of the registered dicts), else its title."""
    if schema is None or isinstance(schema, str):
        return schema
    for name, s in SCHEMAS.items():
        if s == schema:
            return name
    title = schema.get("title")
    return title if isinstance(title, str) else None
