"""Parse model output as JSON (strict and lenient) and check it against an answer schema.

* :func:`parse_json` says whether an output is *strict* JSON (what a downstream ``json.loads``
  accepts: the whole text is one JSON object) and, if not, whether it can be recovered
  *leniently* (code fences, prose around the object, trailing commas, single quotes, Python
  literals, raw newlines in strings, BOM, full-width spaces). Truncated output, text without an
  object, a top-level array and two different objects are never recovered.
* :func:`validate_answer` turns an output into a list of :class:`Violation` with stable codes
  (``invalid_json``, ``not_strict_json``, ``missing:<field>``, ``type:<field>``,
  ``empty:<field>``, ``extra:<field>``, ``too_long:<field>``, ``range:<field>``,
  ``invalid:<field>``) so that failures can be counted per code.
* :func:`answer_text` is the prose of an answer, which text metrics read.

The drug policy (``drug:<kind>`` violations) and the reference post-check
``validate_medical_response`` need the drug detector, a metric, so they live a layer up in
:mod:`medlab.metrics.policy`; ``medlab.validate_answer`` is the one with ``drug_policy``.

JSON5 syntax (trailing commas, single quotes, comments, BOM, Unicode whitespace) is parsed by
the ``json5`` library, Python literals by :func:`ast.literal_eval`, schemas by ``jsonschema``
(through :mod:`medlab.schema_check`, which imports it only to explain an invalid answer).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import json5

from medlab.schema_check import SchemaChecker, checker
from medlab.schemas import get_schema

OPENERS = {"{": "}", "[": "]"}
CLOSERS = {"}", "]"}
MAX_FAILED_STARTS = 32


@dataclass(frozen=True)
class ParseResult:
    """``value`` is the parsed object when ``ok_lenient`` (else None); ``error`` says why the
    text is not strict JSON (None when strict); ``repairs`` names what lenient parsing fixed."""

    ok_strict: bool
    ok_lenient: bool
    value: dict[str, Any] | None
    error: str | None
    repairs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Violation:
    """One way an answer breaks its contract. ``code`` is stable and countable
    (``missing:summary``, ``too_long:analysis[]``); ``path`` locates it (``$.analysis[2]``)."""

    code: str
    path: str
    message: str


def _match(text: str, start: int) -> int | None:
    """Index of the bracket closing the one at ``start``; -1 if brackets mismatch, None if the
    text ends first (truncated). Strings are skipped, single-quoted ones too when they start
    where a JSON value or key may start."""
    stack = [OPENERS[text[start]]]
    quote: str | None = None
    prev = text[start]  # last significant character outside strings
    i = start + 1
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote, prev = None, c
        elif c == '"' or (c == "'" and prev in "{[,:"):
            quote = c
        elif c in OPENERS:
            stack.append(OPENERS[c])
        elif c in CLOSERS:
            if c != stack.pop():
                return -1
            if not stack:
                return i
        if not quote and not c.isspace():
            prev = c
        i += 1
    return None


def _top_level_spans(text: str) -> tuple[list[tuple[int, int]], int | None, int | None]:
    """Balanced top-level ``{...}``/``[...]`` spans, where a truncated object starts (if any)
    and where the first ``{`` with mismatched brackets is (if any). An opener that leads nowhere
    (a stray ``[`` in prose) is skipped; after ``MAX_FAILED_STARTS`` of them the scan stops, so
    bracket-heavy garbage costs linear time, not quadratic."""
    spans: list[tuple[int, int]] = []
    mismatched = None
    failed = 0
    i = 0
    while i < len(text) and failed < MAX_FAILED_STARTS:
        if text[i] in OPENERS:
            end = _match(text, i)
            if end is None and text[i] == "{":
                return spans, i, mismatched
            if end is not None and end >= 0:
                spans.append((i, end + 1))
                i = end + 1
                continue
            failed += 1
            if end is not None and text[i] == "{" and mismatched is None:
                mismatched = i
        i += 1
    return spans, None, mismatched


def _loads_lenient(span: str) -> tuple[Any, str]:
    """Parse one span with increasingly lenient parsers; returns (value, repair name)."""
    try:
        return json.loads(span), ""
    except (ValueError, RecursionError):
        pass
    try:
        return json.loads(span, strict=False), "control_chars"
    except (ValueError, RecursionError):
        pass
    try:
        return json5.loads(span), "json5"
    except (ValueError, RecursionError) as exc:
        first_error = exc if isinstance(exc, ValueError) else ValueError("nested too deeply")
    try:
        value = ast.literal_eval(span)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise first_error from None
    if not isinstance(value, dict | list):
        raise first_error
    return value, "python_literal"


def parse_json(text: str) -> ParseResult:
    """Strict: ``json.loads(text)`` gives an object. Lenient: exactly one distinct object can be
    recovered from the text (two identical copies count as one: ``repairs`` has
    ``duplicate_object``). A BOM or full-width space around the object is not strict, because
    ``json.loads`` rejects it."""
    if not isinstance(text, str):
        raise TypeError(f"parse_json expects a str, got {type(text).__name__}")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        strict_error = f"not strict JSON: {exc}"
    else:
        if isinstance(value, dict):
            return ParseResult(True, True, value, None)
        kind = "array" if isinstance(value, list) else type(value).__name__
        return ParseResult(False, False, None, f"top-level JSON {kind}, expected an object")

    spans, truncated_at, mismatched = _top_level_spans(text)
    if truncated_at is not None and text[truncated_at] == "{":
        return ParseResult(
            False, False, None, f"truncated: the object at char {truncated_at} never closes"
        )
    objects: list[dict[str, Any]] = []
    repairs: set[str] = set()
    arrays = 0
    parse_errors: list[str] = []
    for start, end in spans:
        try:
            value, repair = _loads_lenient(text[start:end])
        except ValueError as exc:
            if text[start] == "{":
                parse_errors.append(f"invalid JSON at char {start}: {exc}")
            continue
        if isinstance(value, dict):
            if value in objects:
                repairs.add("duplicate_object")
            else:
                objects.append(value)
            if repair:
                repairs.add(repair)
        elif isinstance(value, list):
            arrays += 1
    if len(objects) > 1:
        return ParseResult(False, False, None, f"{len(objects)} different JSON objects in the text")
    if not objects:
        if mismatched is not None:
            error = f"brackets do not match in the object at char {mismatched}"
        elif parse_errors:
            error = parse_errors[0]
        elif arrays:
            error = "top-level JSON array, expected an object"
        else:
            error = "no JSON object in the text"
        return ParseResult(False, False, None, error)

    pieces, pos = [], 0
    for start, end in spans:
        pieces.append(text[pos:start])
        pos = end
    outside = "".join(pieces) + text[pos:]
    if "```" in outside:
        repairs.add("fence")
        outside = outside.replace("```json", "").replace("```JSON", "").replace("```", "")
    if outside.strip(" \t\r\n\ufeff\u3000"):
        repairs.add("prose")
    elif outside.strip(" \t\r\n"):
        repairs.add("bom_or_unicode_space")
    return ParseResult(False, True, objects[0], strict_error, tuple(sorted(repairs)))


def _field(path: Iterator[Any] | list[Any]) -> str:
    """``["analysis", 2]`` -> ``analysis[]`` (the countable part of a code); root -> ``$``."""
    out = ""
    for p in path:
        out += "[]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "$"


def _where(path: list[Any]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


_CODE = {
    "type": "type",
    "minLength": "empty",
    "minItems": "empty",
    "maxLength": "too_long",
    "maxItems": "too_long",
    "minimum": "range",
    "maximum": "range",
    "exclusiveMinimum": "range",
    "exclusiveMaximum": "range",
}


def _string_leaves(value: Any, path: list[Any]) -> Iterator[tuple[list[Any], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _string_leaves(v, [*path, k])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _string_leaves(v, [*path, i])


@lru_cache(maxsize=16)
def _validator(name: str) -> SchemaChecker:
    return SchemaChecker(get_schema(name))


def schema_violations(value: Any, schema: str | dict[str, Any] = "consultation") -> list[Violation]:
    """Violations of ``schema`` by an already parsed value, sorted by path."""
    validator = _validator(schema) if isinstance(schema, str) else checker(schema)
    found: list[Violation] = []
    for err in validator.iter_errors(value):
        path = list(err.absolute_path)
        if err.validator == "required":
            for key in err.validator_value:
                if isinstance(err.instance, dict) and key not in err.instance:
                    found.append(
                        Violation(
                            f"missing:{_field([*path, key])}",
                            _where([*path, key]),
                            f"required field {key!r} is missing",
                        )
                    )
        elif err.validator == "additionalProperties":
            allowed = set(err.schema.get("properties", {}))
            for key in err.instance:
                if key not in allowed:
                    found.append(
                        Violation(
                            f"extra:{_field([*path, key])}",
                            _where([*path, key]),
                            f"field {key!r} is not in the schema",
                        )
                    )
        else:
            code = _CODE.get(str(err.validator), "invalid")
            found.append(Violation(f"{code}:{_field(path)}", _where(path), err.message))
    flagged = {v.path for v in found}
    for path, s in _string_leaves(value, []):
        if s and not s.strip() and _where(path) not in flagged:
            found.append(Violation(f"empty:{_field(path)}", _where(path), "only whitespace"))
    return sorted(dict.fromkeys(found), key=lambda v: (v.path, v.code))


def validate_answer(
    text_or_obj: str | dict[str, Any],
    schema: str | dict[str, Any] = "consultation",
    *,
    drug_policy: bool = False,
    question: str | None = None,
) -> list[Violation]:
    """Every parsing and schema violation of an answer.

    ``not_strict_json`` is reported when the text only parses leniently (a plain ``json.loads``
    client would fail on it); the schema is then checked on the recovered object. Text that does
    not parse even leniently gives the single violation ``invalid_json``. The drug policy needs
    the drug detector, a metric: ``medlab.validate_answer`` (:mod:`medlab.metrics.policy`) adds
    it; here ``drug_policy=True`` is refused.
    """
    if drug_policy:
        raise ValueError(
            "medlab.validate.validate_answer checks parsing and schema only: for drug_policy=True "
            "call medlab.validate_answer (medlab.metrics.policy.validate_answer)"
        )
    del question  # the question only matters to the drug policy
    found: list[Violation] = []
    value: Any = text_or_obj
    if isinstance(text_or_obj, str):
        parsed = parse_json(text_or_obj)
        if not parsed.ok_lenient:
            return [Violation("invalid_json", "$", parsed.error or "not JSON")]
        if not parsed.ok_strict:
            repairs = ", ".join(parsed.repairs) or "lenient parsing"
            found.append(
                Violation("not_strict_json", "$", f"recovered by {repairs}: {parsed.error}")
            )
        value = parsed.value
    found += schema_violations(value, schema)
    return found


def answer_text(value_or_text: Any) -> str:
    """The prose of an answer: summary, analysis and suggestions one per line (extraction:
    diagnosis and findings), or the raw text when it does not parse as a JSON object."""
    value = value_or_text
    if value is None:
        return ""
    if isinstance(value, str):
        parsed = parse_json(value)
        if not parsed.ok_lenient:
            return value
        value = parsed.value
    if isinstance(value, dict):
        keys = [k for k in ("summary", "analysis", "suggestions") if k in value]
        keys = keys or [k for k in ("diagnosis", "key_findings") if k in value] or list(value)
        value = [value[k] for k in keys]
    return "\n".join(s for _, s in _string_leaves(value, []) if s.strip())
